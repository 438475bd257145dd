"""Clean: turn mapped source strings into typed, canonical values, vectorised over the whole batch.

Each field kind has one small cleaning rule built from Arrow compute kernels (no per-row Python on the hot path).
A value that cannot be understood becomes null and the row gets a reason, so validation quarantines it with the
original value shown; nothing is guessed. The Vietnamese-specific rules (legacy encodings, old addresses,
11-digit phones, CCCD consistency) grow here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.model import CodeList
from lienthong.cleaning import dates, identity, phones
from lienthong.cleaning.base import RuleResult, Severity
from quality.reasons import Reason, mask_value
from schemas import Contract, FieldKind, FieldSpec

ALL_ISSUES = {**identity.ISSUES, **phones.ISSUES, **dates.ISSUES}
_DEFAULT_OFFSET = "+0700"  # timestamps without a zone are Vietnam local time
# Spaces as RE2 sees them, plus the no-break and narrow spaces Word and Excel put in names and addresses.
_ODD_SPACE = r"[\t\n\r\f\v\x{00a0}\x{2007}\x{202f}\x{3000}]"
_SPACE = r"[ \t\n\r\f\v\x{00a0}\x{2007}\x{202f}\x{3000}]"


@dataclass
class Cleaned:
    """A typed table (one column per contract field) and the reasons of values that could not be cleaned."""

    table: pa.Table
    reasons: dict[int, list[Reason]] = field(default_factory=dict)


def clean_batch(mapped: pa.Table, contract: type[Contract], code_lists: Mapping[str, CodeList]) -> Cleaned:
    """Clean every mappable field of ``mapped`` and derive the contract's derived fields."""
    columns: dict[str, pa.Array] = {}
    reasons: dict[int, list[Reason]] = {}
    texts: dict[str, pa.Array] = {}
    specs = [spec for spec in contract.fields() if not spec.derived]
    # Fields are independent and Arrow's kernels release the GIL: clean them on both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda s: _clean_field(mapped.column(s.name).combine_chunks(), s, code_lists), specs))
    for spec, (raw, cleaned, field_reasons) in zip(specs, done, strict=True):
        texts[spec.name] = raw
        columns[spec.name] = cleaned
        for row, rs in field_reasons.items():
            reasons.setdefault(row, []).extend(rs)
    if {"id_number", "sex", "date_of_birth"} <= columns.keys():
        # A CCCD's digits encode sex, century and birth year: they must agree with the record.
        checked = identity.check_cccd(columns["id_number"], columns["sex"], columns["date_of_birth"])
        _note_rejected(texts["id_number"], checked.issues, contract.field("id_number"), identity.explain, reasons)
        columns["id_number"] = checked.values
    columns.update(_derived(columns, contract, code_lists))
    table = pa.table({spec.name: columns[spec.name] for spec in contract.fields()})
    return Cleaned(table, reasons)


def _clean_field(
    col: pa.Array, spec: FieldSpec, lists: Mapping[str, CodeList]
) -> tuple[pa.Array, pa.Array, dict[int, list[Reason]]]:
    """(text, typed value, reasons) of one field."""
    reasons: dict[int, list[Reason]] = {}
    raw, cleaned = _clean_column(col, spec, lists)
    if spec.kind in _RULES:  # the Vietnamese rules of lienthong.cleaning: they explain what they reject
        rule, explain = _RULES[spec.kind]
        result = rule(raw)
        cleaned = result.values
        _note_rejected(raw, result.issues, spec, explain, reasons)
    if spec.kind in _PARSED_KINDS:
        _note_unparsed(raw, cleaned, spec, reasons)
    return raw, cleaned, reasons


def _clean_column(col: pa.Array, spec: FieldSpec, lists: Mapping[str, CodeList]) -> tuple[pa.Array, pa.Array]:
    """(whitespace/NFC-cleaned text, typed value) of one column.

    Computed once per distinct value when values repeat (codes, dates, branch names): hashing a column is much
    cheaper than normalising and parsing every row of it.
    """
    cleaner = _CLEANERS[spec.kind]

    def both(values: pa.Array) -> tuple[pa.Array, pa.Array]:
        text = _text(values)
        return text, (text if cleaner is _keep else cleaner(text, spec, lists))

    if not _repetitive(col):
        return both(col)
    encoded = col.dictionary_encode()
    text, typed = both(encoded.dictionary)
    full_text = text.take(encoded.indices)
    return full_text, (full_text if typed is text else typed.take(encoded.indices))


def _repetitive(col: pa.Array, sample: int = 20_000) -> bool:
    head = col.slice(0, sample)
    return len(head) > 0 and len(pc.unique(head)) * 4 <= len(head)


def _where(arr: pa.Array, pattern: str, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply ``fn`` only to the values matching ``pattern``: most values are already clean, and a regex match
    is several times cheaper than a regex replacement or a Unicode normalisation."""
    mask = pc.fill_null(pc.match_substring_regex(arr, pattern=pattern), False)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def _text(arr: pa.Array) -> pa.Array:
    # Combining marks (U+0300–U+036F) are what NFD input and cp1258 decoding leave behind.
    arr = _where(arr, "[\u0300-\u036f]", lambda a: pc.utf8_normalize(a, form="NFC"))
    arr = _where(arr, f"{_SPACE}{_SPACE}|{_ODD_SPACE}|^{_SPACE}|{_SPACE}$", lambda a: pc.utf8_trim_whitespace(
        pc.replace_substring_regex(a, pattern=f"{_SPACE}+", replacement=" ")))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _keep(arr: pa.Array, _spec: FieldSpec, _lists: Mapping[str, CodeList]) -> pa.Array:
    return arr


def _name(arr: pa.Array, _spec: FieldSpec, _lists: Mapping[str, CodeList]) -> pa.Array:
    return pc.utf8_title(arr)  # "NGUYỄN văn an" -> "Nguyễn Văn An"


def _checked_date(y: pa.Array, m: pa.Array, d: pa.Array) -> pa.Array:
    """Dates from string parts; an impossible date (31/02) is null, not rolled over to March."""
    text = pc.binary_join_element_wise(y, pc.utf8_lpad(m, 2, "0"), pc.utf8_lpad(d, 2, "0"), "-")
    ts = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    ok = pc.and_(pc.equal(pc.month(ts), pc.cast(m, pa.int64())), pc.equal(pc.day(ts), pc.cast(d, pa.int64())))
    return pc.if_else(ok, pc.cast(ts, pa.date32()), pa.scalar(None, pa.date32()))


def _datetime(arr: pa.Array, _spec: FieldSpec, _lists: Mapping[str, CodeList]) -> pa.Array:
    iso = pc.extract_regex(
        arr,
        r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\.\d+)?"
        r"(?P<z>Z|[+-]\d{2}:?\d{2})?$",
    )
    dmy = pc.extract_regex(
        arr,
        r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4}) (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
        r"(?P<z>)$",
    )
    part = {k: pc.coalesce(pc.struct_field(iso, k), pc.struct_field(dmy, k)) for k in "ymdHMSz"}
    seconds = pc.if_else(pc.equal(pc.coalesce(part["S"], ""), ""), "00", part["S"])
    zone = pc.replace_substring(pc.coalesce(part["z"], ""), ":", "")
    zone = pc.if_else(pc.equal(zone, ""), _DEFAULT_OFFSET, pc.if_else(pc.equal(zone, "Z"), "+0000", zone))
    day = pc.binary_join_element_wise(part["y"], pc.utf8_lpad(part["m"], 2, "0"), pc.utf8_lpad(part["d"], 2, "0"), "-")
    clock = pc.binary_join_element_wise(pc.utf8_lpad(part["H"], 2, "0"), part["M"], seconds, ":")
    text = pc.binary_join_element_wise(day, "T", clock, zone, "")
    ts = pc.strptime(text, format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True)
    valid_day = _checked_date(part["y"], part["m"], part["d"])
    return pc.if_else(pc.is_valid(valid_day), ts, pa.scalar(None, ts.type))


def _integer(arr: pa.Array, _spec: FieldSpec, _lists: Mapping[str, CodeList]) -> pa.Array:
    # "5.000.000", "5,000,000", "5 000 000 đ" -> 5000000; decimals are not whole VND and are refused.
    digits = pc.replace_substring_regex(arr, pattern=r"(?i)[\s.,]|đ$|vnd$|đồng$", replacement="")
    ok = pc.match_substring_regex(digits, r"^-?\d{1,18}$")
    return pc.cast(pc.if_else(ok, digits, pa.scalar(None, pa.string())), pa.int64())


def _boolean(arr: pa.Array, _spec: FieldSpec, _lists: Mapping[str, CodeList]) -> pa.Array:
    low = pc.utf8_lower(arr)
    truthy = pc.is_in(low, pa.array(["1", "true", "có", "co", "x", "yes"]))
    falsy = pc.is_in(low, pa.array(["0", "false", "không", "khong", "no"]))
    return pc.if_else(truthy, True, pc.if_else(falsy, False, pa.scalar(None, pa.bool_())))


def _code(arr: pa.Array, spec: FieldSpec, lists: Mapping[str, CodeList]) -> pa.Array:
    """Codes, labels and aliases become the list's code; unknown values stay as sent so validation shows them."""
    return pc.coalesce(lists[spec.code_list].codes_of(arr), arr)  # type: ignore[index]


_CLEANERS: dict[FieldKind, Callable[[pa.Array, FieldSpec, Mapping[str, CodeList]], pa.Array]] = {
    FieldKind.TEXT: _keep,
    FieldKind.NAME: _name,
    FieldKind.ID_NUMBER: _keep,  # the rules of _RULES take the text from here
    FieldKind.PHONE: _keep,
    FieldKind.DATE: _keep,
    FieldKind.DATETIME: _datetime,
    FieldKind.CODE: _code,
    FieldKind.INTEGER: _integer,
    FieldKind.MONEY: _integer,
    FieldKind.BOOLEAN: _boolean,
}
_RULES: dict[FieldKind, tuple[Callable[[pa.Array], RuleResult], Callable[..., tuple[str, str]]]] = {
    FieldKind.ID_NUMBER: (identity.normalize_id_number, identity.explain),
    FieldKind.PHONE: (phones.normalize_phone, phones.explain),
    FieldKind.DATE: (dates.parse_dates, dates.explain),
}
_PARSED_KINDS = {FieldKind.DATE, FieldKind.DATETIME, FieldKind.INTEGER, FieldKind.MONEY, FieldKind.BOOLEAN}
_EXPECTED_FORM = {
    FieldKind.DATE: ("ngày/tháng/năm, ví dụ 25/11/1990", "a date such as 25/11/1990 or 1990-11-25"),
    FieldKind.DATETIME: ("ngày giờ, ví dụ 25/11/2025 08:30", "a date-time such as 2025-11-25T08:30:00+07:00"),
    FieldKind.INTEGER: ("một số nguyên", "a whole number"),
    FieldKind.MONEY: ("số tiền nguyên theo đồng, ví dụ 5.000.000", "whole VND such as 5000000"),
    FieldKind.BOOLEAN: ("có/không", "yes/no"),
}


def _note_rejected(
    raw: pa.Array, issues: pa.Array, spec: FieldSpec, explain: Callable[..., tuple[str, str]],
    reasons: dict[int, list[Reason]],
) -> None:
    """A reason for each code a rule REJECTED a row with (changed or flagged values pass)."""
    rejected = sorted(code for code, issue in ALL_ISSUES.items() if issue.severity is Severity.REJECTED)
    hit = pc.fill_null(pc.match_substring_regex(issues, "|".join(rf"\b{c}\b" for c in rejected)), False)
    if not pc.any(hit).as_py():
        return
    for row in pc.indices_nonzero(hit).to_pylist():
        value = raw[row].as_py()
        for code in issues[row].as_py().split(";"):
            if code in ALL_ISSUES and ALL_ISSUES[code].severity is Severity.REJECTED:
                vi, en = explain(code, value)
                reasons.setdefault(row, []).append(Reason(
                    rule=code, column=spec.name, value=mask_value(value, spec.privacy), message_vi=vi,
                    message_en=f"{spec.name}: {en}",
                ))


def _note_unparsed(raw: pa.Array, cleaned: pa.Array, spec: FieldSpec, reasons: dict[int, list[Reason]]) -> None:
    failed = pc.and_(pc.is_valid(raw), pc.is_null(cleaned))
    already = [r for r, rs in reasons.items() if any(x.column == spec.name for x in rs)]
    if already:  # a rule already said why
        said = np.zeros(len(raw), dtype=bool)
        said[already] = True
        failed = pc.and_(failed, pa.array(~said))
    if not pc.any(failed).as_py():
        return
    form_vi, form_en = _EXPECTED_FORM[spec.kind]
    for row in pc.indices_nonzero(failed).to_pylist():
        value = mask_value(raw[row].as_py(), spec.privacy)
        reasons.setdefault(row, []).append(Reason(
            rule=f"{spec.kind.value}_format", column=spec.name, value=value,
            message_vi=f"{spec.label_vi} '{value}' không đọc được: cần {form_vi}.",
            message_en=f"{spec.name}: {value!r} is not {form_en}.",
        ))


def _derived(columns: dict[str, pa.Array], contract: type[Contract], lists: Mapping[str, CodeList]) -> dict:
    names = {f.name for f in contract.fields() if f.derived}
    out: dict[str, pa.Array] = {}
    if names & {"family_name", "middle_name", "given_name"} and "full_name" in columns:
        full = columns["full_name"]
        parts = pc.extract_regex(full, r"^(?P<family>\S+)(?: (?P<middle>.+))? (?P<given>\S+)$")
        matched = pc.is_valid(parts)
        out["family_name"] = pc.if_else(matched, pc.struct_field(parts, "family"), pa.scalar(None, pa.string()))
        middle = pc.if_else(matched, pc.struct_field(parts, "middle"), pa.scalar(None, pa.string()))
        out["middle_name"] = pc.if_else(pc.equal(middle, ""), pa.scalar(None, pa.string()), middle)
        out["given_name"] = pc.if_else(matched, pc.struct_field(parts, "given"), full)  # one-word names
    if "province_code" in names and "ward_code" in columns:
        out["province_code"] = lists["wards"].parents_of(columns["ward_code"])
    if "issues" in names:
        out["issues"] = pa.nulls(len(next(iter(columns.values()))), pa.string())
    return out
