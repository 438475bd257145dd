"""`lienthong normalize` / `lienthong check`: clean a member file on its own, without loading it.

Reads a CSV, XLSX, JSON or NDJSON file as the files connector does (same suffixes, limits and refusals), in any
of the encodings member organisations use (UTF-8, cp1258, UTF-16, and TCVN3 / VNI / VIQR text inside them),
matches its headers to contract fields by name or usual Vietnamese label, runs the pipeline's clean stage on
them (one way to clean) and returns every input column unchanged plus the cleaned fields, the candidate wards
of a split old ward and an ``issues`` column. A value that cannot be cleaned is left empty and explained, never
invented.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from catalog import get_code_list
from catalog.model import match_key
from connectors.files import MEDIA_BY_SUFFIX, media_type_of, read_limited
from connectors.formats import read_feed
from connectors.limits import DEFAULT_LIMITS
from lienthong.cleaning.base import merge_issues
from lienthong.cleaning.legacy_encodings import decode_tcvn3, decode_viqr, decode_vni
from lienthong.errors import MalformedInput
from lienthong.stages.clean import ISSUES, clean_batch
from quality import messages
from quality.reasons import Reason, mask_value
from schemas.members import Member

# Usual headers of each field in member lists, matched case-, diacritic- and spacing-insensitively.
HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "member_id": ("Mã hội viên", "Mã đoàn viên", "Mã HV", "Mã số", "ID"),
    "full_name": ("Họ và tên", "Họ tên", "Họ và tên hội viên", "Tên hội viên", "Họ tên đầy đủ"),
    "sex": ("Giới tính", "Giới", "GT", "Nam/Nữ"),
    "date_of_birth": ("Ngày sinh", "Ngày tháng năm sinh", "Năm sinh", "NS", "Ngày, tháng, năm sinh"),
    "id_number": ("Số CCCD", "CCCD/CMND", "CCCD", "CMND", "Số CMND", "Số CCCD/CMND", "Số định danh",
                  "Số định danh cá nhân", "CMND/CCCD"),
    "phone": ("Số điện thoại", "SĐT", "SDT", "Điện thoại", "ĐT", "Di động", "Số di động"),
    "address": ("Địa chỉ", "Nơi ở hiện nay", "Chỗ ở hiện nay", "Nơi cư trú", "Địa chỉ thường trú", "Quê quán"),
    "ethnicity_code": ("Dân tộc",),
    "religion_code": ("Tôn giáo",),
    "ward_code": ("Mã xã", "Mã xã/phường", "Mã phường/xã", "Mã ĐVHC"),
}
OUTPUT_FIELDS = ("full_name", "family_name", "middle_name", "given_name", "sex", "date_of_birth", "id_number",
                 "phone", "province_code", "ward_code", "ethnicity_code", "religion_code")


@dataclass
class Normalized:
    """The output table and what happened on the way."""

    table: pa.Table
    fields: dict[str, str]  # contract field -> input column
    encodings: dict[str, str]  # input column -> encoding its text was in
    issue_counts: Counter[str] = field(default_factory=Counter)
    unmapped: dict[str, Counter[str]] = field(default_factory=dict)  # field -> values no code list knows
    reasons: dict[int, list[Reason]] = field(default_factory=dict)  # row -> why a value was refused


def read_file(path: Path) -> pa.Table:
    """Every column of a CSV/TSV/XLSX/JSON/NDJSON file as strings, read as the files connector reads it (same
    suffixes, same limits, same refusals). A file typed in a legacy font (TCVN3, VNI) is read as the Western text
    it is (connectors.encoding) and converted column by column by the clean stage.

    Raises:
        MalformedInput: no such file, an unknown suffix, or a file that cannot be read or cannot be a feed
            (empty, header only, duplicate columns); LimitExceeded (a MalformedInput): beyond the read limits.
    """
    media = media_type_of(path)
    if media is None:
        msg = f"{path}: unknown file type {path.suffix!r}; use one of {', '.join(MEDIA_BY_SUFFIX)}"
        msg_vi = f"{path}: không đọc được loại tệp {path.suffix!r}; hãy dùng {', '.join(MEDIA_BY_SUFFIX)}"
        raise MalformedInput(msg, message_vi=msg_vi)
    try:
        payload = read_limited(path, DEFAULT_LIMITS)
    except OSError as exc:
        msg = f"{path}: cannot read the file ({exc.strerror or exc}); check the path"
        raise MalformedInput(msg, message_vi=f"{path}: không mở được tệp; hãy kiểm tra đường dẫn") from exc
    if path.suffix.lower() == ".tsv":
        return read_feed(payload, media, {"delimiter": "\t"}, origin=str(path))[0]
    return read_feed(payload, media, origin=str(path))[0]


def match_headers(columns: list[str], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Contract field -> input column, from an explicit ``mapping`` or the usual labels (first match wins)."""
    if mapping:
        missing = [c for c in mapping.values() if c not in columns]
        if missing:
            msg = f"the mapping names columns the file does not have: {', '.join(missing)}"
            raise MalformedInput(msg, message_vi=f"Tệp không có các cột: {', '.join(missing)}")
        return dict(mapping)
    by_key = {}
    for c in reversed(columns):
        # A file typed in a legacy font has its headers in it too ("Hä vµ tªn" is TCVN3 for "Họ và tên").
        for reading in (c, decode_tcvn3(c), decode_vni(c), decode_viqr(c)):
            by_key.setdefault(match_key(reading), c)
    found: dict[str, str] = {}
    for name, labels in HEADER_LABELS.items():
        for label in (name, *labels):
            if match_key(label) in by_key:
                found[name] = by_key[match_key(label)]
                break
    return found


def normalize_table(table: pa.Table, mapping: Mapping[str, str] | None = None) -> Normalized:
    """Clean the member fields found in ``table`` with the pipeline's clean stage; keep every input column."""
    fields = match_headers(table.column_names, mapping)
    if "full_name" not in fields:
        msg = "no column for the full name (e.g. 'Họ và tên'); pass --mapping to say which column it is"
        raise MalformedInput(msg, message_vi="Không tìm thấy cột Họ và tên. Hãy dùng --mapping để chỉ rõ cột.")
    n = table.num_rows
    mapped = pa.table({
        spec.name: table.column(fields[spec.name]).combine_chunks().cast(pa.string()) if spec.name in fields
        else pa.nulls(n, pa.string())
        for spec in Member.fields() if not spec.derived
    })
    lists = {name: get_code_list(name) for name in ("sexes", "ethnic_groups", "religions", "wards", "provinces",
                                                     "organisations", "member_statuses")}
    cleaned = clean_batch(mapped, Member, lists)
    col = {name: cleaned.table.column(name).combine_chunks() for name in cleaned.table.column_names}
    issues = [col["issues"]]
    unmapped: dict[str, Counter[str]] = {}
    for name, list_name, issue in (("sex", "sexes", "sex_unmapped"), ("ethnicity_code", "ethnic_groups",
                                   "ethnicity_unmapped"), ("religion_code", "religions", "religion_unmapped"),
                                   ("ward_code", "wards", "ward_code_unknown")):
        col[name] = _lookup(col[name], list_name, issue, issues)
        unknown = cleaned.table.column(name).combine_chunks().filter(pc.is_null(col[name])).drop_null()
        if len(unknown):
            unmapped[name] = Counter(unknown.to_pylist())
    col["province_code"] = get_code_list("wards").parents_of(col["ward_code"])
    iso = pc.strftime(pc.cast(col["date_of_birth"], pa.timestamp("s")), format="%Y-%m-%d")
    col["date_of_birth"] = pc.coalesce(iso, pc.cast(col["birth_year"], pa.string()))
    merged = merge_issues(*issues)
    counts: Counter[str] = Counter()
    for value in pc.drop_null(merged).to_pylist():
        counts.update(set(value.split(";")))
    out = table
    for name in OUTPUT_FIELDS:
        target = name if name not in out.column_names else f"{name}_cleaned"
        out = out.append_column(target, col[name].cast(pa.string()))
    candidates = cleaned.ward_candidates
    out = out.append_column("ward_candidates", pa.nulls(n, pa.string()) if candidates is None
                            else pc.binary_join(candidates, " "))
    out = out.append_column("issues", _describe(merged))
    encodings = {fields[name]: enc for name, enc in cleaned.encodings.items() if name in fields}
    reasons = {row: [*cleaned.reasons.get(row, []), *extra] for row, extra in _over_length(cleaned.table).items()}
    return Normalized(out, fields, {c: encodings.get(c, "unicode") for c in fields.values()}, counts, unmapped,
                      {**cleaned.reasons, **reasons})


def rejected_rows(result: Normalized) -> list[tuple[int, list[str]]]:
    """(row, Vietnamese reasons) of the rows a feed would have quarantined: the clean stage's reasons (the value
    as written, masked when personal) and the values no code list knows."""
    out = []
    for row, described in enumerate(result.table.column("issues").to_pylist()):
        reasons = [r.message_vi for r in result.reasons.get(row, [])]
        if described:
            reasons += [part for part in described.split("; ") if part.split(":", 1)[0] in _LOOKUP_ISSUES]
        if reasons:
            out.append((row, reasons))
    return out


def _over_length(cleaned: pa.Table) -> dict[int, list[Reason]]:
    """The contract's ``max_length`` rule, worded as validation words it, so that ``check`` refuses a 1 MB name or
    address exactly as a push would (the rest of the suite, code lists aside, needs a source's mapping)."""
    out: dict[int, list[Reason]] = {}
    for spec in Member.fields():
        if spec.max_length is None or spec.name not in cleaned.column_names:
            continue
        col = cleaned.column(spec.name).combine_chunks()
        if not pa.types.is_string(col.type):
            continue
        words = messages.max_length(spec, spec.max_length)
        too_long = pc.fill_null(pc.greater(pc.utf8_length(col), spec.max_length), False)
        for row in pc.indices_nonzero(too_long).to_pylist():
            value = col[row].as_py()
            shown = mask_value(value, spec.privacy)
            context = {"value": shown, "length": str(len(value)), spec.name: shown}
            vi, en = words.render(context, context)
            out.setdefault(row, []).append(Reason(words.rule, spec.name, shown, vi, en))
    return out


_LOOKUP_ISSUES = {
    "sex_unmapped": ("Giới tính không nhận ra (dùng Nam/Nữ)", "sex not recognised"),
    "ethnicity_unmapped": ("Dân tộc không có trong danh mục 54 dân tộc", "ethnicity not in the 54-group list"),
    "religion_unmapped": ("Tôn giáo không có trong danh mục", "religion not in the list"),
    "ward_code_unknown": ("Mã xã/phường không có trong danh mục 2025", "ward code not a 2025 unit"),
}


def _lookup(values: pa.Array, list_name: str, issue: str, issues: list[pa.Array]) -> pa.Array:
    """Codes, labels or aliases of a shared list -> its code; unknown values -> null with ``issue``."""
    mapped = get_code_list(list_name).codes_of(values)
    unmapped = pc.and_(pc.is_valid(values), pc.is_null(mapped))
    issues.append(pc.if_else(unmapped, issue, pa.scalar(None, pa.string())))
    return mapped


def _describe(merged: pa.Array) -> pa.Array:
    """``code: Vietnamese message`` per issue, ``; ``-separated, for the clerk reading the output file."""
    def one(value: str) -> str:
        parts = []
        for code in dict.fromkeys(value.split(";")):  # once per row, however many columns raised it
            message = ISSUES[code].message_vi if code in ISSUES else _LOOKUP_ISSUES.get(code, (code,))[0]
            parts.append(f"{code}: {message}")
        return "; ".join(parts)

    uniques = pc.unique(merged).drop_null()
    described = pa.array([one(v) for v in uniques.to_pylist()], pa.string())
    return pc.take(described, pc.index_in(merged, value_set=uniques))
