"""Free-text addresses -> the 2025 commune-level unit (ward) they lie in, in both the old and today's form.

Addresses come in two shapes: the pre-July-2025 three-level form ("Số 12, ngõ 34, P. Trúc Bạch, Q. Ba Đình, Hà
Nội": 63 provinces, districts, ~10,000 wards) and today's two-level form ("Phường Ba Đình, Thành phố Hà Nội").
The knowledge of both — every unit's names, abbreviations and keywords, and which old ward went into which new
ward — is frozen catalog data (``catalog.crosswalk``: generated from the public packages ``vietnamadminunits``
and ``vietnam-provinces``, neither needed at run time). The package's functions are never used: they
re-compile regular expressions on every call (~0.55 ms per address), silently pick a default new ward for a
split old ward, and geocode a split ward with a street online (ArcGIS) — a member's address would leave the hub.
This module matches the same keywords offline with pre-built indexes, flags every split ward with its
candidates instead of guessing — and every old ward on which the two sources disagree, with both readings as
candidates — and returns the catalog's ward codes. See docs/addresses.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from catalog import get_code_list
from catalog.crosswalk import CrosswalkRow, UnitKeywords, address_keywords, ward_crosswalk
from lienthong.cleaning.base import IssueType, RuleResult, Severity
from lienthong.vietnamese.folding import PLAIN_LETTERS, tone_on_first_of_pair

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType(
            "address_legacy_converted", Severity.CHANGED,
            "Địa chỉ theo đơn vị hành chính cũ (trước 01/7/2025) đã được chuyển sang xã/phường mới.",
            "A pre-July-2025 address (province/district/ward) was converted to its 2025 ward.",
        ),
        IssueType(
            "address_ward_split", Severity.FLAGGED,
            "Xã/phường cũ đã tách thành nhiều xã/phường mới: chọn một trong các mã trong danh sách ứng viên.",
            "The old ward was split across several 2025 wards: no guess is made, pick one of the candidates.",
        ),
        IssueType(
            "address_ward_sources_disagree", Severity.FLAGGED,
            "Hai nguồn dữ liệu công khai không thống nhất xã/phường cũ này đã vào xã/phường mới nào (có bị tách hay "
            "không): danh sách ứng viên gồm cả hai cách đọc, chọn một mã.",
            "The public sources (vietnamadminunits, vietnam-provinces) disagree on which 2025 ward(s) this old ward "
            "went into: no guess is made, the candidates are both readings together.",
        ),
        IssueType(
            "address_ward_ambiguous", Severity.FLAGGED,
            "Tên xã/phường viết không dấu trùng với nhiều đơn vị: chọn một trong các mã ứng viên.",
            "The ward name (usually written without diacritics) matches several wards: pick a candidate.",
        ),
        IssueType(
            "address_province_only", Severity.FLAGGED,
            "Chỉ xác định được tỉnh/thành phố, không xác định được xã/phường: cần bổ sung địa chỉ.",
            "Only the province could be recognised, not the ward: the address needs completing.",
        ),
        IssueType(
            "address_province_mismatch", Severity.FLAGGED,
            "Tỉnh/thành phố trong địa chỉ khác với tỉnh/thành phố đã khai: kiểm tra lại.",
            "The province named in the address differs from the province given for the row (the hint).",
        ),
        IssueType(
            "address_unparsed", Severity.FLAGGED,
            "Không nhận ra đơn vị hành chính trong địa chỉ: kiểm tra và ghi lại xã/phường, tỉnh/thành phố.",
            "No administrative unit could be recognised in the address: the ward code is left empty.",
        ),
    )
}

FORMS = ("legacy", "2025", "unknown")
CANDIDATES_TYPE = pa.list_(pa.string())

# Unit types written before a name, as plain keys (see _plain), longest first; abbreviations are expanded
# before keying, the bare ones are for "TX Son Tay" or "Q1".
_PROVINCE_TYPES = ("thanhpho", "tinh", "tp", "t")
_DISTRICT_TYPES = ("thanhpho", "thixa", "huyen", "quan", "tp", "tx", "q", "h")
_WARD_TYPES = ("thitran", "dackhu", "phuong", "xa", "tt", "p", "f", "x")
_ABBREVIATIONS = {
    "tp": "thành phố ", "tx": "thị xã ", "tt": "thị trấn ", "q": "quận ", "h": "huyện ",
    "p": "phường ", "f": "phường ", "x": "xã ", "t": "tỉnh ", "đk": "đặc khu ",
}
_ABBREVIATION_RE = re.compile(r"^(tp|tx|tt|đk|q|h|p|f|x|t)(?:\.\s*|\s+|(?=\d))", re.IGNORECASE)
_SPLIT_RE = re.compile(r"\s*[,;|\n]\s*")
_NON_KEY = re.compile(r"[^a-z0-9,]")
_NON_WORD = re.compile(r"[\W_]")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


class _Mapped(NamedTuple):
    ward: str | None
    province: str | None
    form: str | None
    candidates: tuple[str, ...] | None
    issues: str | None


@dataclass(frozen=True)
class AddressResult(RuleResult):
    """``values``: 2025 ward code (5 digits, catalog codes) or null. Per row, also:

    ``province_code`` (string, 2025 province, 2 digits, null if none was recognised), ``form`` (string: "legacy",
    "2025" or "unknown"; null for a null address) and ``candidates`` (list<string>: 2025 ward codes to choose from
    when the ward was split or is ambiguous, else null). ``issues`` are codes of :data:`ISSUES`.
    """

    province_code: pa.Array
    form: pa.Array
    candidates: pa.Array

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("province_code", "form", "candidates"):
            if len(getattr(self, name)) != len(self.values):
                msg = f"AddressResult.{name} has {len(getattr(self, name))} entries for {len(self.values)} values"
                raise ValueError(msg)


# Leading comma-separated parts below the ward ("Số 12", "ngõ 34", "thôn Đông", "tổ 5", "ấp 3", "Đường Lê Lợi"):
# they never decide the ward, and removing them leaves a few thousand distinct unit tails to parse instead of
# one per person (0.5 M distinct addresses in 1 M member rows, ~60 µs each).
# Without diacritics a keyword must be followed by a number: "To 5" is a tổ, "To Hieu" is the ward Tô Hiệu.
_STREET_PARTS = (r"^(?:\s*(?:(?i:số|ngõ|ngách|hẻm|kiệt|tổ|thôn|ấp|xóm|bản|khóm|khu phố|đường|phố|lô|nhà|căn hộ|"
                 r"tầng)[\s.\d]|(?i:so|ngo|ngach|hem|kiet|to|thon|ap|xom|ban|khom|khu pho|kp|lo|nha)\.?\s*\d|\d)"
                 r"[^,]*,)+")


def _without_street(text: pa.Array) -> pa.Array:
    tail = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, pattern=_STREET_PARTS, replacement=""))
    return pc.if_else(pc.equal(tail, ""), text, tail)  # nothing but street parts: keep the text as it was


def map_addresses(text: pa.Array, *, province_hint: pa.Array | None = None) -> AddressResult:
    """Map free-text addresses (old or 2025 form) to 2025 ward codes, without ever using the network.

    Each distinct (address, hint) pair is parsed once and cached across calls.

    Args:
        text: addresses (string-like array; nulls stay null).
        province_hint: optional 2025 province codes ("01") per row, from another column: used when the address
            names no province, and checked against the one it names (``address_province_mismatch``).

    Returns:
        An :class:`AddressResult`: ward code or null, province code, form, candidates and issue codes per row.

    Raises:
        ValueError: if ``province_hint`` is not as long as ``text``.
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = _without_street(text.cast(pa.string()))
    if province_hint is None:
        encoded = pc.dictionary_encode(text)
        distinct = [_map_one(t, None) for t in encoded.dictionary.to_pylist()]
        indices: pa.Array = encoded.indices
    else:
        if len(province_hint) != len(text):
            msg = f"province_hint has {len(province_hint)} rows but text has {len(text)}"
            raise ValueError(msg)
        seen: dict[tuple[str, str | None], int] = {}
        distinct, positions = [], []
        for t, h in zip(text.to_pylist(), province_hint.cast(pa.string()).to_pylist(), strict=True):
            if t is None:
                positions.append(None)
                continue
            key = (t, h)
            if key not in seen:
                seen[key] = len(distinct)
                distinct.append(_map_one(t, h))
            positions.append(seen[key])
        indices = pa.array(positions, pa.int32())
    columns = list(zip(*distinct, strict=True)) if distinct else [(), (), (), (), ()]
    ward, province, form, candidates, issues = (
        pa.array(col, typ).take(indices)
        for col, typ in zip(columns, (pa.string(), pa.string(), pa.string(), CANDIDATES_TYPE, pa.string()),
                            strict=True)
    )
    return AddressResult(values=ward, issues=issues, province_code=province, form=form, candidates=candidates)


def legacy_ward_table() -> pa.Table:
    """Every pre-July-2025 ward (the frozen crosswalk, ``catalog.crosswalk``) and the 2025 ward(s) it went into.

    Columns: legacy_province_code, legacy_province, legacy_district_code, legacy_district, legacy_ward_code,
    legacy_ward (strings, official names and codes of the 63-province generation), province_code (2025),
    ward_codes (list<string>: the 2025 catalog codes either public source names; one unless split or disputed),
    split (bool: more than one), sources_disagree (bool: the two sources name different 2025 wards),
    ward_codes_vietnamadminunits and ward_codes_vietnam_provinces (list<string>: each source's reading; null
    where vietnam-provinces does not list the old ward). Sorted by old ward code. The five island districts that
    had no wards (Côn Đảo, Lý Sơn, …) are not rows: their addresses stop at the district.
    """
    rows = [
        {"legacy_province_code": r.legacy_province_code, "legacy_province": r.legacy_province,
         "legacy_district_code": r.legacy_district_code, "legacy_district": r.legacy_district,
         "legacy_ward_code": r.legacy_ward_code, "legacy_ward": r.legacy_ward, "province_code": r.province_code,
         "ward_codes": list(r.ward_codes), "split": len(r.ward_codes) > 1, "sources_disagree": r.status == "disputed",
         "ward_codes_vietnamadminunits": list(r.by_vietnamadminunits),
         "ward_codes_vietnam_provinces": None if r.by_vietnam_provinces is None else list(r.by_vietnam_provinces)}
        for r in ward_crosswalk() if r.legacy_ward_code
    ]
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["legacy_ward_code"]), schema=_LEGACY_SCHEMA)


_LEGACY_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("legacy_province_code", "legacy_province", "legacy_district_code",
                                      "legacy_district", "legacy_ward_code", "legacy_ward", "province_code")]
    + [("ward_codes", CANDIDATES_TYPE), ("split", pa.bool_()), ("sources_disagree", pa.bool_()),
       ("ward_codes_vietnamadminunits", CANDIDATES_TYPE), ("ward_codes_vietnam_provinces", CANDIDATES_TYPE)]
)


# ---------------------------------------------------------------------------------------------------- keys
def _plain(text: str) -> str:
    """The package's key: lower case, no diacritics, letters and digits only ("Q. Ba Đình" -> "quanbadinh")."""
    return _LEADING_ZEROS.sub("", _NON_KEY.sub("", text.lower().translate(PLAIN_LETTERS)))


def _keys(text: str) -> tuple[str, str]:
    """(plain key, accented key) of one address part; both have the same length so prefixes cut alike."""
    # Tone on the first vowel of oa/oe/uy ("hòa", the package's spelling) and on the second ("hoà") both occur.
    accented = tone_on_first_of_pair(_LEADING_ZEROS.sub("", _NON_WORD.sub("", text.lower())))
    plain = accented.translate(PLAIN_LETTERS)
    if not plain.isascii():  # a letter outside Vietnamese: keep the plain key clean, give up the accented one
        plain = _NON_KEY.sub("", plain)
        accented = plain
    return plain, accented


def _components(text: str) -> list[tuple[str, str]]:
    """The address cut at commas (and ";", " - "), each part keyed, a leading abbreviation expanded."""
    parts = []
    for raw in _SPLIT_RE.split(" ".join(text.split())):
        part = _ABBREVIATION_RE.sub(lambda m: _ABBREVIATIONS[m.group(1).lower()], raw.strip())
        keys = _keys(part) if part else ("", "")
        if keys[0]:
            parts.append(keys)
    return parts


# ----------------------------------------------------------------------------------------------- indexes
class _Index:
    """Keyword -> the units it may name. A plain keyword names several units when their names differ only by
    diacritics ("Văn Lang", "Văn Lăng"); the accented keyword then decides."""

    def __init__(self) -> None:
        self.plain: dict[str, set] = defaultdict(set)
        self.accented: dict[str, set] = defaultdict(set)
        self._pattern: re.Pattern[str] | None = None

    def add(self, unit: object, keywords: list[str], *, accented: bool = False) -> None:
        for keyword in keywords:
            plain, key = _keys(keyword)
            self.plain[plain].add(unit)
            if accented:
                self.accented[key].add(unit)

    def find(self, keys: tuple[str, str], types: tuple[str, ...], within: set | None = None) -> set:
        """Units named by one address part, exactly or after a unit type ("phuong", "q", …) is cut off."""
        plain, accented = keys
        tries = [(plain, accented)] + [(plain[len(t):], accented[len(t):]) for t in types if plain.startswith(t)]
        for p, a in tries:
            units = _within(self.plain.get(p), within)
            if len(units) > 1:
                units = _within(self.accented.get(a), within) or units
            if units:
                return units
        return set()

    def rightmost(self, text: str, within: set | None = None) -> tuple[set, int]:
        """Units of the rightmost keyword found inside ``text`` (the package's method), and where it starts."""
        if self._pattern is None:
            keywords = sorted((k for k in self.plain if k), key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, keywords)) or "(?!)")
        last = None
        for match in self._pattern.finditer(text):
            if _within(self.plain[match.group()], within):
                last = match
        return (_within(self.plain[last.group()], within), last.start()) if last else (set(), -1)


def _within(units: set | None, scope: set | None) -> set:
    if not units:
        return set()
    return units if scope is None else {u for u in units if u[:-1] in scope}


class _ByProvince(dict):
    """Province code -> the :class:`_Index` of its units, built the first time the province is asked for.

    Keying some 36,000 keywords costs more than checking a small file; a file names a few provinces.
    """

    def __init__(self, accented: bool) -> None:
        super().__init__()
        self.accented = accented
        self.units: dict[str, list[tuple[tuple[str, ...], UnitKeywords]]] = defaultdict(list)

    def __missing__(self, province: str) -> _Index:
        index = _Index()
        for key, unit in self.units.get(province, ()):  # in file order, as if built all at once
            index.add(key, unit.keywords)
            if self.accented:
                index.add(key, unit.accented_keywords, accented=True)
        self[province] = index
        return index


class _Gazetteer:
    """The frozen address keywords and crosswalk (``catalog.crosswalk``), indexed for offline look-ups.

    Units are keyed by codes: an old province ``(code,)``, an old district ``(province, district)``, an old ward
    ``(province, district, ward)`` (ward ``""`` for an island district without wards), a 2025 province
    ``(code,)`` and a 2025 ward ``(catalog code,)``. Old and 2025 province codes reuse the same numbers (44 was
    Quảng Bình, is Quảng Trị), so the two generations have separate indexes. Districts and wards are indexed
    per province on first use, the crosswalk on the first old-form address.
    """

    def __init__(self) -> None:
        self.old_provinces, self.new_provinces = _Index(), _Index()
        self.districts = _ByProvince(accented=False)  # old province -> (old province, district)
        self.legacy_wards = _ByProvince(accented=True)  # old province -> (province, district, ward)
        self.new_wards = _ByProvince(accented=True)  # 2025 province -> (catalog ward code,)
        self.new_of_old: dict[str, str] = {}
        olds_of_new: dict[str, list[str]] = defaultdict(list)
        for unit in address_keywords():
            if unit.level == "province" and unit.generation == "legacy":
                self.old_provinces.add((unit.code,), unit.keywords)
                self.new_of_old[unit.code] = unit.parent
                olds_of_new[unit.parent].append(unit.code)
            elif unit.level == "province":
                self.new_provinces.add((unit.code,), unit.keywords)
            elif unit.level == "district":
                self.districts.units[unit.province_code].append(((unit.province_code, unit.code), unit))
            elif unit.generation == "legacy":
                key = (unit.province_code, unit.district_code, unit.code)
                self.legacy_wards.units[unit.province_code].append((key, unit))
            else:
                self.new_wards.units[unit.province_code].append(((unit.code,), unit))
        self.olds_of_new = dict(olds_of_new)

    @cached_property
    def crosswalk(self) -> dict[tuple[str, str, str], CrosswalkRow]:
        return {(r.legacy_province_code, r.legacy_district_code, r.legacy_ward_code): r for r in ward_crosswalk()}

    @cached_property
    def wardless(self) -> set[tuple[str, ...]]:
        """The island districts without wards."""
        return {unit[:2] for unit in self.crosswalk if not unit[2]}


@cache
def _gazetteer() -> _Gazetteer:
    return _Gazetteer()


# ------------------------------------------------------------------------------------------------- parse
class _Found(NamedTuple):
    form: str  # "legacy" | "2025"
    units: set  # legacy (province, district, ward) or ("province_district_" of an island), or (2025 code,)


@lru_cache(maxsize=500_000)
def _map_one(text: str | None, hint: str | None) -> _Mapped:
    """One distinct (address, province hint): parse, convert, say what happened."""
    if text is None or not text.strip():
        return _Mapped(None, None, None, None, None)  # a null (or empty) address stays null
    g = _gazetteer()
    parts = _components(text)
    hint_key = hint.strip().zfill(2) if hint and hint.strip().zfill(2) in g.olds_of_new else None
    old_ps, new_ps, end = _province_part(g, parts)
    named = bool(old_ps or new_ps)
    if not named and hint_key:
        old_ps, new_ps, end = set(g.olds_of_new[hint_key]), {hint_key}, len(parts)
    found = _by_parts(g, parts[:end], old_ps, new_ps) if (old_ps or new_ps) else None
    if found is None:
        found, old_ps, new_ps = _by_keywords(g, ",".join(p for p, _ in parts), old_ps, new_ps, hint_key)
    issues = []
    province = _province_code(g, old_ps, new_ps)
    if hint and province and province != hint.strip().zfill(2):
        issues.append("address_province_mismatch")
    if found is None:
        form = "legacy" if named and not new_ps else "2025" if named and not old_ps else "unknown"
        issues.insert(0, "address_province_only" if province else "address_unparsed")
        return _Mapped(None, province, form, None, ";".join(issues))
    if found.form == "legacy":
        rows = [g.crosswalk[unit] for unit in found.units if unit in g.crosswalk]
        codes = sorted({c for row in rows for c in row.ward_codes})
        issue = "address_ward_split" if len(found.units) == 1 else "address_ward_ambiguous"
        if len(codes) == 1:
            issue = "address_legacy_converted"
        if len(rows) == 1 and rows[0].status == "disputed":  # both readings are candidates, none is picked
            issues.insert(0, "address_ward_sources_disagree")
    else:
        codes = sorted(code for (code,) in found.units)
        issue = None if len(codes) == 1 else "address_ward_ambiguous"
    if issue:
        issues.insert(0, issue)
    ward = codes[0] if len(codes) == 1 else None
    province = g.new_of_old[next(iter(found.units))[0]] if found.form == "legacy" else province
    return _Mapped(ward, province, found.form, tuple(codes) if ward is None else None, ";".join(issues) or None)


def _province_part(g: _Gazetteer, parts: list[tuple[str, str]]) -> tuple[set, set, int]:
    """The old and 2025 provinces named by the rightmost part that names one, and that part's index."""
    for i in range(len(parts) - 1, -1, -1):
        old = {k for (k,) in g.old_provinces.find(parts[i], _PROVINCE_TYPES)}
        new = {k for (k,) in g.new_provinces.find(parts[i], _PROVINCE_TYPES)}
        if old or new:
            return old, new, i
    return set(), set(), len(parts)


def _by_parts(g: _Gazetteer, parts: list[tuple[str, str]], old_ps: set, new_ps: set) -> _Found | None:
    """Match whole parts, right to left: district then ward of the old form, else a 2025 ward."""
    for i in range(len(parts) - 1, -1, -1):
        districts = set().union(*(g.districts[p].find(parts[i], _DISTRICT_TYPES) for p in old_ps))
        if districts:
            for j in range(i - 1, -1, -1):
                wards = set().union(*(g.legacy_wards[p].find(parts[j], _WARD_TYPES, districts) for p in old_ps))
                if wards:
                    return _Found("legacy", wards)
            if len(districts) == 1 and districts <= g.wardless:
                return _Found("legacy", {(*next(iter(districts)), "")})
            break
    for i in range(len(parts) - 1, -1, -1):
        wards = set().union(*(g.new_wards[p].find(parts[i], _WARD_TYPES) for p in new_ps))
        if wards:
            return _Found("2025", wards)
    for i in range(len(parts) - 1, -1, -1):  # an old ward written without its district
        wards = set().union(*(g.legacy_wards[p].find(parts[i], _WARD_TYPES) for p in old_ps))
        if wards:
            return _Found("legacy", wards)
    return None


def _by_keywords(
    g: _Gazetteer, key: str, old_ps: set, new_ps: set, hint_key: str | None
) -> tuple[_Found | None, set, set]:
    """The package's method for parts not cut by commas ("P5 Q3 TPHCM"): rightmost keyword of each level."""
    if not (old_ps or new_ps):
        old_units, old_at = g.old_provinces.rightmost(key)
        new_units, new_at = g.new_provinces.rightmost(key)
        at = max(old_at, new_at)
        if at >= 0:
            old_ps = {k for (k,) in old_units} if old_at == at else set()
            new_ps = {k for (k,) in new_units} if new_at == at else set()
            key = key[:at]
        elif hint_key:
            old_ps, new_ps = set(g.olds_of_new[hint_key]), {hint_key}
        else:
            return None, old_ps, new_ps
    ward_key = key
    for p in sorted(old_ps):  # sorted, and each province reads the whole key: the answer must not depend on set order
        districts, at = g.districts[p].rightmost(key)
        if districts:
            wards, _ = g.legacy_wards[p].rightmost(key[:at], districts)
            if wards:
                return _Found("legacy", wards), old_ps, new_ps
            ward_key = min(ward_key, key[:at], key=len)  # a district is not a 2025 ward ("Quận Ba Đình")
    for p in sorted(new_ps):
        wards, _ = g.new_wards[p].rightmost(ward_key)
        if wards:
            return _Found("2025", wards), old_ps, new_ps
    return None, old_ps, new_ps


def _province_code(g: _Gazetteer, old_ps: set, new_ps: set) -> str | None:
    codes = new_ps | {g.new_of_old[k] for k in old_ps}
    return codes.pop() if len(codes) == 1 else None


def named_candidates(codes: list[str] | tuple[str, ...] | None) -> str | None:
    """The 2025 wards a split old ward became, by name and code: "Phường Hồng Hà (00097) hoặc Phường Ba Đình
    (00004)" — what a clerk chooses from, without a code list at hand."""
    if not codes:
        return None
    wards = get_code_list("wards")
    return " hoặc ".join(f"{wards.label(code) or code} ({code})" for code in codes)
