"""Look-ups across the administrative-unit lists: a ward by name within its province, a ward's province, and
the 2025 province an old (pre-July 2025) province code merged into."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from catalog.admin_units import WARD_ABBREVIATIONS, WARD_PREFIXES, WardList
from catalog.lists import get_code_list
from catalog.model import match_key
from lienthong.vietnamese.folding import spelling_key

_AMBIGUOUS = ""  # an index key that names more than one ward of the province
# Unit types a query may start with: full, abbreviated, and the abbreviation without its dot ("P Hoàn Kiếm").
_UNIT_FORMS = tuple(
    form
    for prefix in WARD_PREFIXES
    for abbreviation in WARD_ABBREVIATIONS[prefix]
    for form in (prefix.strip(), abbreviation.strip(), abbreviation.strip().rstrip("."))
)


def ward_lookup(province_code: str, text: str | None) -> str | None:
    """The code of the commune-level unit of ``province_code`` that ``text`` names, or ``None``.

    Ward names repeat across provinces, so a name is only looked up within one (2025) province. ``text`` may
    be the ward's code ("00070"), its full name ("Phường Hoàn Kiếm"), its name without the unit type
    ("Hoàn Kiếm"), or with an abbreviation ("P. Hoàn Kiếm", "X. …", "ĐK …"). Matching is first exact up to
    case, spacing and tone-mark placement ("Hoà" == "Hòa"); then without diacritics ("hoan kiem"), but only
    when that names a single ward of the province (in Thái Nguyên "Văn Lang" and "Văn Lăng" are two communes).
    A wrong unit type is tolerated ("Xã Hoàn Kiếm" finds Phường Hoàn Kiếm): sources often keep the old one.

    Args:
        province_code: a 2025 province code ("01"); an unknown code gives ``None``.
        text: the ward as written by a source.

    Returns:
        The 5-digit ward code, or ``None`` when the province has no such ward or the name is ambiguous.
    """
    if text is None or not text.strip():
        return None
    index = _ward_index().get(province_code)
    if index is None:
        return None
    exact, loose = index
    candidate = text.strip()
    if candidate.isdigit():
        code = candidate.zfill(5)
        return code if exact.get(code) == code else None
    for table, key in ((exact, spelling_key), (loose, match_key)):
        for query in _query_keys(candidate, key):
            if query in table:
                return table[query] or None
    return None


def province_of_ward(ward_code: str) -> str | None:
    """The 2025 province code of a ward code ("00070" -> "01", "70" read as "00070"); ``None`` if unknown."""
    wards = _wards()
    code = wards.lookup(ward_code)
    return wards.province_of.get(code) if code else None


def legacy_to_2025_province(old_code: str) -> str:
    """The 2025 province that a pre-July-2025 province merged into ("02" Hà Giang -> "08" Tuyên Quang).

    Beware: several 2025 codes reuse an old number of another province (new 44 Quảng Trị was old 44 Quảng
    Bình), so only call this with codes known to be of the 63-province generation, e.g. CCCD place-of-birth
    codes.

    Args:
        old_code: the old 2-digit code ("02"), "2", or the 3-digit CCCD form ("002").

    Raises:
        KeyError: when the code is not one of the 63 old provinces.
    """
    code = old_code.strip()
    if code.isdigit() and len(code) == 3 and code.startswith("0"):
        code = code[1:]
    elif code.isdigit() and len(code) == 1:
        code = code.zfill(2)
    try:
        return _legacy_parents()[code]
    except KeyError:
        msg = f"{old_code!r} is not a code of the 63 provinces before 1 July 2025 (01 Hà Nội … 96 Cà Mau)"
        raise KeyError(msg) from None


def _wards() -> WardList:
    wards = get_code_list("wards")
    if not isinstance(wards, WardList):  # pragma: no cover - read_code_list_csv types the "wards" list
        msg = "the 'wards' code list is not a WardList; load it with catalog.read_code_list_csv"
        raise TypeError(msg)
    return wards


def _query_keys(text: str, key: Callable[[str], str]) -> list[str]:
    """Keys to try for a query: as written, then without a leading unit type or its abbreviation."""
    whole = key(text)
    keys = [whole]
    for form in _UNIT_FORMS:
        form_key = key(form)
        if whole.startswith(form_key + " "):
            keys.append(whole[len(form_key) + 1 :])
        elif form_key.endswith(".") and whole.startswith(form_key) and len(whole) > len(form_key):
            keys.append(whole[len(form_key) :].strip())  # "P.Hoàn Kiếm"
    return keys


@cache
def _ward_index() -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """Per province: (code and spelling-key index, diacritic-free index) -> ward code ("" if ambiguous)."""
    index: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    for value in _wards().values:
        exact, loose = index.setdefault(value.parent or "", ({}, {}))
        exact[value.code] = value.code
        for name in (value.label_vi, *value.aliases):
            _add(exact, spelling_key(name), value.code)
            _add(loose, match_key(name), value.code)
    return index


@cache
def _legacy_parents() -> dict[str, str]:
    return {v.code: v.parent for v in get_code_list("legacy_provinces").values if v.parent}


def _add(index: dict[str, str], key: str, code: str) -> None:
    index[key] = code if index.get(key, code) == code else _AMBIGUOUS
