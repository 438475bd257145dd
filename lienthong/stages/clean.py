"""Clean: turn mapped source strings into typed, canonical values, vectorised over the whole batch.

Every text column first goes through :mod:`lienthong.cleaning.text`: its encoding is detected with the rest of
the batch (TCVN3 / VNI / VIQR text typed in old fonts is converted) and it is normalised (NFC, invisible
characters, spaces). Then each field kind has one rule: names are re-ordered, cased and given one tone
placement (:mod:`lienthong.cleaning.names`); ID numbers, phones and dates use the Vietnamese rules of
:mod:`lienthong.cleaning`; codes, labels and aliases become catalog codes. Derived fields follow: name parts,
the 2025 ward of an address when the source gave no ward code (an old ward that was split is flagged with no
guess), the province, the birth year, and ``issues``, the codes of everything a rule changed or flagged.
A name with markup or no letter (``<script>…``, ``=HYPERLINK(…)``) is refused, and the quote the hub's own
spreadsheets put before a formula-like value (:mod:`lienthong.spreadsheet_safety`) is taken off first.

A value that cannot be understood becomes null and the row gets a reason, so validation quarantines it with the
original value shown; nothing is guessed. ``lienthong normalize`` runs this same stage on a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.model import CodeList
from lienthong.cleaning import addresses, columns, dates, identity, names, phones, text
from lienthong.cleaning.base import IssueType, RuleResult, Severity, merge_issues
from lienthong.spreadsheet_safety import unneutralise_array
from quality.reasons import Reason, mask_value
from schemas import Contract, FieldKind, FieldSpec

ISSUES: dict[str, IssueType] = {
    **text.ISSUES, **names.ISSUES, **identity.ISSUES, **phones.ISSUES, **dates.ISSUES, **addresses.ISSUES,
    **columns.ISSUES,
}
MAP_ISSUES = "map_issues"  # what the map stage found putting a field's parts together (stages.map)
_DEFAULT_OFFSET = "+0700"  # timestamps without a zone are Vietnam local time
_TEXT_KINDS = {FieldKind.TEXT, FieldKind.NAME, FieldKind.CODE}  # where legacy-font text turns up
_NULL = pa.scalar(None, pa.string())
_VIETNAM = dt.timezone(dt.timedelta(hours=7))


@dataclass
class Cleaned:
    """A typed table (one column per contract field, ``issues`` included), the reasons of values that could
    not be cleaned, and the encoding each text column was found in."""

    table: pa.Table
    reasons: dict[int, list[Reason]] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    ward_candidates: pa.Array | None = None  # list<string> per row: the 2025 wards an old split ward became


@dataclass
class _Field:
    text: pa.Array  # the value as sent, decoded and normalised: what reasons show
    value: pa.Array  # the typed, canonical value
    issues: list[pa.Array]
    reasons: dict[int, list[Reason]]
    parsed: dates.DateResult | None = None


def clean_batch(mapped: pa.Table, contract: type[Contract], code_lists: Mapping[str, CodeList]) -> Cleaned:
    """Clean every mappable field of ``mapped`` and derive the contract's derived fields."""
    specs = [spec for spec in contract.fields() if not spec.derived]
    # A rejects file the hub wrote and the clerk sent back carries its formula-neutralising quotes: undone first.
    columns = {s.name: _unquoted(mapped.column(s.name).combine_chunks()) for s in specs}
    # A file is typed in one font: columns are judged together (text.detect_table_encodings).
    encodings = text.detect_table_encodings(pa.table({s.name: columns[s.name] for s in specs
                                                      if s.kind in _TEXT_KINDS}))
    # Fields are independent and Arrow's kernels release the GIL: clean them on both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip((s.name for s in specs), pool.map(
            lambda s: _clean_field(columns[s.name], s, code_lists, encodings.get(s.name)), specs), strict=True))
    values = {name: f.value for name, f in done.items()}
    issues = [i for f in done.values() for i in f.issues]
    reasons: dict[int, list[Reason]] = {}
    for f in done.values():
        for row, rs in f.reasons.items():
            reasons.setdefault(row, []).extend(rs)
    if MAP_ISSUES in mapped.column_names and "date_of_birth" in done:
        # A date in both sex columns is refused here, with the row's other reasons (dob_in_both_sex_columns).
        found = mapped.column(MAP_ISSUES).combine_chunks()
        issues.append(found)
        _note_rejected(done["date_of_birth"].text, found, contract.field("date_of_birth"), _explain, reasons)
    dob = done.get("date_of_birth")
    if dob is not None and dob.parsed is not None:
        # Born in the future or over 110: a typing error, refused with the date as written.
        aged = dates.check_age(dob.parsed, as_of=dt.datetime.now(_VIETNAM).date())
        _note_rejected(dob.text, aged.issues, contract.field("date_of_birth"), dates.explain, reasons)
        dob.parsed, values["date_of_birth"] = aged, aged.values
        issues.append(aged.issues)
        if "organisation" in values:
            issues.append(_below_membership_age(values["organisation"], aged, today=dt.datetime.now(_VIETNAM).date()))
    if {"id_number", "sex", "date_of_birth"} <= values.keys():
        # A CCCD's digits encode sex, century and birth year: they must agree with the record.
        dob = done["date_of_birth"]
        checked = identity.check_cccd(values["id_number"], values["sex"], dob.parsed.year if dob.parsed else None)
        _note_rejected(done["id_number"].text, checked.issues, contract.field("id_number"), identity.explain,
                       reasons)
        values["id_number"] = checked.values
        issues.append(checked.issues)
    candidates: list[pa.Array] = []
    values.update(_derived(values, done, contract, code_lists, issues, candidates))
    table = pa.table({spec.name: values[spec.name] for spec in contract.fields()})
    found = {name: enc for name, enc in encodings.items() if enc not in ("unicode", "ascii")}
    return Cleaned(table, reasons, found, candidates[0] if candidates else None)


def _clean_field(col: pa.Array, spec: FieldSpec, lists: Mapping[str, CodeList], encoding: str | None) -> _Field:
    issues: list[pa.Array] = []
    reasons: dict[int, list[Reason]] = {}
    if encoding not in (None, "unicode", "ascii"):
        fixed = text.fix_column_encoding(col, encoding)  # type: ignore[arg-type]
        issues.append(fixed.issues)
        _note_rejected(col, fixed.issues, spec, _explain, reasons)  # garbled beyond reading: encoding_undetermined
        col = fixed.values
    out = _Field(col, col, issues, reasons)
    if spec.kind is FieldKind.NAME:
        normal = text.normalize_text(col)
        reordered = names.reversed_order(normal.values)
        out.text = normal.values
        out.value = text.normalize_tone_placement(text.fix_case(reordered.values))
        # Markup, code or no letter at all: not a name, never published as one (withheld, row quarantined).
        not_a_name = names.not_a_name(normal.values)
        out.value = pc.if_else(pc.is_valid(not_a_name), _NULL, out.value)
        issues += [normal.issues, reordered.issues, not_a_name]
        _note_rejected(out.text, not_a_name, spec, _explain, reasons)
    elif spec.kind in _RULES:  # the Vietnamese rules of lienthong.cleaning: they explain what they reject
        normal = _normalized(col)
        rule, explain = _RULES[spec.kind]
        result = rule(normal.values)
        out.text, out.value = normal.values, result.values
        issues += [normal.issues, result.issues]
        _note_rejected(out.text, result.issues, spec, explain, out.reasons)
        if isinstance(result, dates.DateResult):
            out.parsed = result
    else:
        out.text, out.value, normal_issues = _typed(col, spec, lists)
        issues.append(normal_issues)
    if spec.kind in _PARSED_KINDS:
        _note_unparsed(out, spec)
    return out


def _unquoted(col: pa.Array) -> pa.Array:
    """Text columns without the quote :func:`lienthong.spreadsheet_safety.neutralise` put before ``= + - @``."""
    return unneutralise_array(col) if pa.types.is_string(col.type) else col


@cache
def _membership_ages() -> dict[str, int]:
    """Organisation code -> the youngest age its charter admits (``cleaning/data/membership_ages.csv``)."""
    text_ = resources.files("lienthong.cleaning").joinpath("data", "membership_ages.csv").read_text(encoding="utf-8")
    return {row["organisation"]: int(row["min_age"]) for row in csv.DictReader(io.StringIO(text_))}


def _below_membership_age(organisation: pa.Array, dob: dates.DateResult, *, today: dt.date) -> pa.Array:
    """``age_below_minimum`` (FLAGGED: kept, for a person to check) where a member is younger than their
    organisation's charter admits — a 9-year-old in the Women's Union is a wrong date or a wrong membership."""
    n = len(organisation)
    out = pa.nulls(n, pa.string())
    for org, min_age in _membership_ages().items():
        rows = pc.indices_nonzero(pc.fill_null(pc.equal(organisation, org), False))
        if len(rows):
            flagged = dates.check_age(dob.take(rows), as_of=today, min_age=min_age).issues
            out = _scatter(out, rows, pc.if_else(pc.equal(flagged, "age_below_minimum"), flagged, _NULL), n)
    return out


def _normalized(col: pa.Array) -> RuleResult:
    """:func:`text.normalize_text`, once per distinct value when values repeat."""
    def normalize(values: pa.Array) -> tuple[pa.Array, pa.Array]:
        result = text.normalize_text(values)
        return result.values, result.issues

    return RuleResult(*_per_distinct(col, normalize))


def _typed(col: pa.Array, spec: FieldSpec, lists: Mapping[str, CodeList]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(normalised text, typed value, issues) of a field without a Vietnamese rule of its own."""
    def clean(values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
        normal = text.normalize_text(values)
        return normal.values, _CLEANERS[spec.kind](normal.values, spec, lists), normal.issues

    return _per_distinct(col, clean)  # type: ignore[return-value]


def _per_distinct(col: pa.Array, fn: Callable[[pa.Array], tuple[pa.Array, ...]]) -> tuple[pa.Array, ...]:
    """``fn`` over ``col``, or over its distinct values when they repeat (codes, dates, branch names): hashing a
    column is much cheaper than normalising and parsing every row of it."""
    if not _repetitive(col):
        return fn(col)
    encoded = col.dictionary_encode()
    return tuple(a.take(encoded.indices) for a in fn(encoded.dictionary))


def _repetitive(col: pa.Array, sample: int = 20_000) -> bool:
    head = col.slice(0, sample)
    return len(head) > 0 and len(pc.unique(head)) * 4 <= len(head)


def _keep(arr: pa.Array, _spec: FieldSpec, _lists: Mapping[str, CodeList]) -> pa.Array:
    return arr


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


def _explain(code: str, value: str | None) -> tuple[str, str]:
    """The issue's own (Vietnamese, English) words, for rules without an ``explain`` of their own."""
    return ISSUES[code].message_vi, ISSUES[code].message_en


_REJECTED = frozenset(code for code, issue in ISSUES.items() if issue.severity is Severity.REJECTED)


def _note_rejected(
    raw: pa.Array, issues: pa.Array, spec: FieldSpec, explain: Callable[..., tuple[str, str]],
    reasons: dict[int, list[Reason]],
) -> None:
    """A reason for each code a rule REJECTED a row with (changed or flagged values pass)."""
    # Rows share a few combinations of codes: each distinct one is looked at once.
    combinations = pc.unique(issues).drop_null().to_pylist()
    refused = [c for c in combinations if any(code in _REJECTED for code in c.split(";"))]
    if not refused:
        return
    hit = pc.fill_null(pc.is_in(issues, value_set=pa.array(refused, pa.string())), False)
    rows = pc.indices_nonzero(hit)
    for row, value, codes in zip(rows.to_pylist(), raw.take(rows).to_pylist(), issues.take(rows).to_pylist(),
                                 strict=True):
        for code in codes.split(";"):
            if code in _REJECTED:
                vi, en = explain(code, value)
                reasons.setdefault(row, []).append(Reason(
                    rule=code, column=spec.name, value=mask_value(value, spec.privacy), message_vi=vi,
                    message_en=f"{spec.name}: {en}",
                ))


def _note_unparsed(f: _Field, spec: FieldSpec) -> None:
    """A reason for values that were sent but could not be read, unless a rule already said why. A date known
    only to the year or month is not unreadable: it has its own issue (date_year_only, date_month_only)."""
    failed = pc.and_(pc.is_valid(f.text), pc.is_null(f.value))
    if f.parsed is not None:
        failed = pc.and_(failed, pc.is_null(f.parsed.year))
    if f.reasons:
        said = np.zeros(len(f.text), dtype=bool)
        said[list(f.reasons)] = True
        failed = pc.and_(failed, pa.array(~said))
    if not pc.any(failed).as_py():
        return
    form_vi, form_en = _EXPECTED_FORM[spec.kind]
    rows = pc.indices_nonzero(failed)
    for row, text_ in zip(rows.to_pylist(), f.text.take(rows).to_pylist(), strict=True):
        value = mask_value(text_, spec.privacy)
        f.reasons.setdefault(row, []).append(Reason(
            rule=f"{spec.kind.value}_format", column=spec.name, value=value,
            message_vi=f"{spec.label_vi} '{value}' không đọc được: cần {form_vi}.",
            message_en=f"{spec.name}: {value!r} is not {form_en}.",
        ))


def _derived(values: dict[str, pa.Array], done: dict[str, _Field], contract: type[Contract],
             lists: Mapping[str, CodeList], issues: list[pa.Array], candidates: list[pa.Array],
             ) -> dict[str, pa.Array]:
    derived = {f.name for f in contract.fields() if f.derived}
    n = len(next(iter(values.values())))
    out: dict[str, pa.Array] = {}
    if derived & {"family_name", "middle_name", "given_name"} and "full_name" in values:
        parts = names.split_names(values["full_name"])
        for part in ("family", "middle", "given"):
            out[f"{part}_name"] = pc.struct_field(parts, part)
    province_of_address = None  # a split old ward has no ward yet, but its province is certain
    if "ward_code" in values and "address" in values:
        # No ward code from the source: the address may name one, in the 2025 or the pre-July-2025 units.
        missing = pc.and_(pc.is_null(values["ward_code"]), pc.is_valid(values["address"]))
        if pc.any(missing).as_py():
            mapped = addresses.map_addresses(values["address"].filter(missing))
            where = pc.indices_nonzero(missing)
            values["ward_code"] = _scatter(values["ward_code"], where, mapped.values, n)
            issues.append(_scatter(pa.nulls(n, pa.string()), where, mapped.issues, n))
            candidates.append(_scatter(pa.nulls(n, addresses.CANDIDATES_TYPE), where, mapped.candidates, n))
            province_of_address = _scatter(pa.nulls(n, pa.string()), where, mapped.province_code, n)
            out["ward_code"] = values["ward_code"]
    if "province_code" in derived and "ward_code" in values:
        province = lists["wards"].parents_of(values["ward_code"])
        out["province_code"] = province if province_of_address is None else pc.coalesce(province, province_of_address)
    if "birth_year" in derived and "date_of_birth" in done:
        parsed = done["date_of_birth"].parsed
        out["birth_year"] = parsed.year.cast(pa.int64()) if parsed else pa.nulls(n, pa.int64())
    if "issues" in derived:
        out["issues"] = _unique_codes(merge_issues(*issues)) if issues else pa.nulls(n, pa.string())
    return out


def _scatter(base: pa.Array, where: pa.Array, new: pa.Array, n: int) -> pa.Array:
    """``base`` with the rows at ``where`` replaced by ``new``, in order (any type, lists included)."""
    indices = np.arange(n)
    indices[where.to_numpy()] = n + np.arange(len(new))
    return pa.concat_arrays([base, new.cast(base.type)]).take(pa.array(indices))


def _unique_codes(merged: pa.Array) -> pa.Array:
    """Each row's codes once, in first-seen order (two columns may raise the same code)."""
    uniques = pc.unique(merged).drop_null()
    tidy = pa.array([";".join(dict.fromkeys(v.split(";"))) for v in uniques.to_pylist()], pa.string())
    return pc.take(tidy, pc.index_in(merged, value_set=uniques))
