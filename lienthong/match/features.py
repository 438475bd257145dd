"""The cleaned comparison columns a matching model reads, made from any input through its role mapping.

Matching compares *keys*, not the values a clerk will see: names lowercase without diacritics (so "NGUYỄN THỊ
HOÀ", "Nguyen Thi Hoa" and "Nguyễn Thị Hòa" agree), split into family, middle and given name after putting
reversed names back in order; dates of birth as ISO text with their day/month-swapped twin and the year alone
(so a year-only date still says something); CCCD/CMND digits with their kind; phones in national form; the
2025 ward (from the ward column, or parsed from a free-text address) and its province.

With ``locale: vi`` the rules of :mod:`lienthong.cleaning` do this; with ``locale: generic`` names are split at
spaces (given name first), accents are folded and identifiers reduced to letters and digits. The output has
one row per input row, in order, and the columns of :data:`FEATURES` (null where a role is not mapped).
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from catalog import match_key, province_of_ward
from lienthong.cleaning.addresses import map_addresses
from lienthong.cleaning.dates import parse_dates
from lienthong.cleaning.identity import normalize_id_number
from lienthong.cleaning.names import name_match_key, reversed_order, split_names
from lienthong.cleaning.phones import normalize_phone
from lienthong.cleaning.text import map_distinct
from lienthong.errors import MalformedInput
from lienthong.match.config import MatchConfig

FEATURES = ("unique_id", "family", "middle", "given", "dob", "dob_swap", "dob_year", "sex", "ward", "province",
            "postcode", "locality", "address", "id_number", "id_kind", "phone", "email")
_NULL = pa.scalar(None, pa.string())
_SEX = {"f": "F", "female": "F", "nu": "F", "n": "F", "2": "F", "w": "F", "woman": "F", "ba": "F",
        "m": "M", "male": "M", "nam": "M", "1": "M", "man": "M", "ong": "M"}


def build_features(table: pa.Table, config: MatchConfig) -> pa.Table:
    """The comparison columns of ``table`` (see the module docstring).

    Raises:
        MalformedInput: a mapped column is not in the table, or record ids are missing or repeated.
    """
    cols = config.columns()
    missing = sorted({c for names in cols.values() for c in names} - set(table.column_names))
    if missing:
        msg = (f"the input has no column(s) {', '.join(missing)} named in the mapping; "
               f"its columns are {', '.join(table.column_names)}")
        raise MalformedInput(msg, message_vi=f"Tệp không có cột {', '.join(missing)} như khai trong ánh xạ")
    n = table.num_rows

    def col(role: str) -> pa.Array | None:
        names = cols.get(role)
        if not names:
            return None
        return _join_present([_text(table.column(c)) for c in names])

    unique_id = _text(table.column(cols["record_id"][0]))
    if pc.any(pc.is_null(unique_id)).as_py() or pc.count_distinct(unique_id).as_py() != n:
        msg = f"record_id column {cols['record_id'][0]!r} must be filled and unique in every row"
        raise MalformedInput(msg, message_vi="Cột mã bản ghi phải có giá trị và không trùng")
    vi = config.locale == "vi"
    family, middle, given = _names(col("full_name"), col("family_name"), col("middle_name"), col("given_name"),
                                   n, vi=vi)
    dob, dob_swap, dob_year = _dates(table, cols.get("date_of_birth"), config, n)
    ward, address = col("ward"), col("address")
    if vi and ward is None and address is not None:
        ward = map_addresses(address).values
    elif ward is not None and vi:
        ward = pc.if_else(pc.match_substring_regex(ward, r"^\d{1,5}$"), pc.utf8_lpad(ward, 5, "0"), ward)
    province = map_distinct(ward, _province) if (ward is not None and vi) else col("region")
    id_number, id_kind = _ids(col("id_number"), n, vi=vi)
    return pa.table({
        "unique_id": unique_id,
        "family": family, "middle": middle, "given": given,
        "dob": dob, "dob_swap": dob_swap, "dob_year": dob_year,
        "sex": _sexes(col("sex"), n),
        "ward": _or_nulls(ward, n),
        "province": _fold_or_nulls(province, n),
        "postcode": _or_nulls(_compact(col("postcode")), n),
        "locality": _fold_or_nulls(col("locality"), n),
        "address": _fold_or_nulls(None if vi else address, n),
        "id_number": id_number, "id_kind": id_kind,
        "phone": _phones(col("phone"), n, vi=vi),
        "email": _or_nulls(_email(col("email")), n),
    })


def _text(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    return pc.if_else(pc.equal(arr, ""), _NULL, arr)


def _join_present(arrays: list[pa.Array]) -> pa.Array:
    """Row-wise ", "-join of the non-null parts; null where every part is.

    Folded by hand: ``binary_join_element_wise(..., null_handling="skip")`` drops the all-null rows in pyarrow 26
    and returns a shorter array (an address of several columns, some empty, crashed the matcher).
    """
    joined = arrays[0]
    for part in arrays[1:]:
        joined = pc.coalesce(pc.binary_join_element_wise(joined, part, ", "), joined, part)
    return joined


def _or_nulls(arr: pa.Array | None, n: int) -> pa.Array:
    return pa.nulls(n, pa.string()) if arr is None else arr


def _fold(text: str) -> str:
    """The catalog's lookup key (no case, no diacritics, đ → d), punctuation as spaces."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in match_key(text)).split())


def _fold_or_nulls(arr: pa.Array | None, n: int) -> pa.Array:
    if arr is None:
        return pa.nulls(n, pa.string())
    folded = map_distinct(arr, _fold)
    return pc.if_else(pc.equal(folded, ""), _NULL, folded)


def _compact(arr: pa.Array | None) -> pa.Array | None:
    return None if arr is None else pc.utf8_upper(pc.replace_substring_regex(arr, r"[\s\-.]", ""))


def _names(full: pa.Array | None, family: pa.Array | None, middle: pa.Array | None, given: pa.Array | None,
           n: int, *, vi: bool) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Family, middle and given name keys. A full name wins over separate parts (it is what was typed)."""
    if full is not None:
        if vi:
            parts = split_names(reversed_order(pc.utf8_normalize(full, form="NFC")).values)
            family, middle, given = (parts.field(k) for k in ("family", "middle", "given"))
        else:  # generic: "Given Middle Family"
            folded = _fold_or_nulls(full, n)
            given = map_distinct(folded, lambda t: t.split()[0])
            family = map_distinct(folded, lambda t: t.split()[-1] if len(t.split()) > 1 else "")
            middle = map_distinct(folded, lambda t: " ".join(t.split()[1:-1]))
    keys = []
    for part in (family, middle, given):
        if part is None:
            keys.append(pa.nulls(n, pa.string()))
        else:
            key = name_match_key(part) if vi else _fold_or_nulls(part, n)
            keys.append(pc.if_else(pc.equal(key, ""), _NULL, key))
    return keys[0], keys[1], keys[2]


def _dates(table: pa.Table, names: list[str] | None, config: MatchConfig, n: int
           ) -> tuple[pa.Array, pa.Array, pa.Array]:
    if not names:
        return pa.nulls(n, pa.string()), pa.nulls(n, pa.string()), pa.nulls(n, pa.int32())
    raw = table.column(names[0])
    raw = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    if config.date_format and (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        stamps = pc.strptime(_text(raw), format=config.date_format, unit="s", error_is_null=True)
        day = pc.cast(stamps, pa.date32())
        year = pc.cast(pc.year(day), pa.int32())
    else:
        parsed = parse_dates(raw if not pa.types.is_string(raw.type) else _text(raw), dayfirst=config.dayfirst)
        day, year = parsed.values, pc.cast(parsed.year, pa.int32())
    # A date cast to text is its ISO form, and its parts sliced give the swapped one: no strftime per value
    iso = day.cast(pa.string())
    d, m = pc.day(day), pc.month(day)
    swappable = pc.and_(pc.less_equal(d, 12), pc.not_equal(d, m))
    swap = pc.binary_join_element_wise(pc.utf8_slice_codeunits(iso, 0, 4), pc.utf8_slice_codeunits(iso, 8, 10),
                                       pc.utf8_slice_codeunits(iso, 5, 7), "-")
    return iso, pc.if_else(swappable, swap, _NULL), year


def _sexes(arr: pa.Array | None, n: int) -> pa.Array:
    if arr is None:
        return pa.nulls(n, pa.string())
    sex = map_distinct(arr, lambda v: _SEX.get(_fold(v), ""))
    return pc.if_else(pc.equal(sex, ""), _NULL, sex)  # an unknown value is null, not a third sex


def _ids(arr: pa.Array | None, n: int, *, vi: bool) -> tuple[pa.Array, pa.Array]:
    if arr is None:
        return pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
    if vi:
        values = normalize_id_number(arr).values
        length = pc.utf8_length(values)
        kind = pc.if_else(pc.equal(length, 12), "cccd", pc.if_else(pc.equal(length, 9), "cmnd", _NULL))
        return values, kind
    values = pc.utf8_upper(pc.replace_substring_regex(arr, r"[^0-9A-Za-z]", ""))
    values = pc.if_else(pc.equal(values, ""), _NULL, values)
    return values, pc.if_else(pc.is_valid(values), "id", _NULL)


def _phones(arr: pa.Array | None, n: int, *, vi: bool) -> pa.Array:
    if arr is None:
        return pa.nulls(n, pa.string())
    if vi:
        return normalize_phone(arr).values
    digits = pc.replace_substring_regex(arr, r"\D", "")
    last = pc.utf8_slice_codeunits(pc.utf8_reverse(digits), 0, 9)  # country and trunk prefixes vary
    last = pc.utf8_reverse(last)
    return pc.if_else(pc.greater_equal(pc.utf8_length(last), 6), last, _NULL)


def _email(arr: pa.Array | None) -> pa.Array | None:
    if arr is None:
        return None
    low = pc.utf8_lower(arr)
    return pc.if_else(pc.match_substring_regex(low, r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), low, _NULL)


@cache
def _province(ward: str) -> str:
    return province_of_ward(ward) or ""


def email_built_from_names(features: pa.Table) -> float:
    """Share of e-mail addresses whose local part contains the record's given *and* family name keys.

    Such an address repeats the name, so it is not independent evidence: EM would count the name twice and
    link namesakes. Above ``0.3`` the model leaves e-mail out (see :mod:`lienthong.match.model`).
    """
    email = features.column("email")
    if pc.all(pc.is_null(email)).as_py():
        return 0.0
    local = pc.replace_substring_regex(pc.utf8_slice_codeunits(email, 0, 64), r"@.*$", "")
    local = pc.replace_substring_regex(local, r"[^a-z]", "")
    given = pc.replace_substring(features.column("given"), " ", "")
    family = pc.replace_substring(features.column("family"), " ", "")
    rows = pc.and_(pc.is_valid(local), pc.and_(pc.is_valid(given), pc.is_valid(family)))
    if not pc.any(rows).as_py():
        return 0.0
    local, given, family = (a.filter(rows).slice(0, 20_000) for a in (local, given, family))
    hits = [g in s and f in s for s, g, f in zip(local.to_pylist(), given.to_pylist(), family.to_pylist(),
                                                     strict=True)]
    return sum(hits) / len(hits)
