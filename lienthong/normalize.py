"""`lienthong normalize` / `lienthong check`: clean a member file on its own, without loading it.

Reads a CSV, XLSX, JSON or NDJSON file as the files connector does (same suffixes, limits and refusals), in any
of the encodings member organisations use (UTF-8, cp1258, UTF-16, and TCVN3 / VNI / VIQR text inside them),
matches its headers to contract fields by name or usual Vietnamese label, runs the pipeline's own map → clean →
validate on them (:mod:`lienthong.file_check`: one way to check) and returns every input column unchanged plus
the cleaned fields, the candidate wards of a split old ward (with their names) and an ``issues`` column. A value
that cannot be cleaned is left empty and explained, never invented.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from catalog import get_code_list
from lienthong.cleaning.addresses import named_candidates
from lienthong.cleaning.base import merge_issues
from lienthong.stages.clean import ISSUES
from lienthong.vietnamese.header_labels import HEADER_LABELS, match_headers  # noqa: F401 - HEADER_LABELS re-exported
from quality.reasons import Reason

# Usual headers of each field in member lists, matched case-, diacritic- and spacing-insensitively.
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
    guessed: dict[str, str] = field(default_factory=dict)  # field -> column taken by a guess, not an exact label


def normalize_table(table: pa.Table, mapping: Mapping[str, str | None] | None = None) -> Normalized:
    """Put the member fields found in ``table`` through the pipeline's map → clean → validate
    (:func:`lienthong.file_check.source_of` its headers, ``mapping`` winning field by field), nothing written;
    keep every input column and add the cleaned fields, the candidate wards and ``issues``. ``reasons`` are those
    loading the table would quarantine its rows for; ``guessed`` the columns not taken by an exact label."""
    from lienthong.file_check import source_of, with_row_ids
    from lienthong.stages.process import check_records

    found = match_headers(table.column_names, mapping)
    source = source_of(table.column_names, found)
    checked = check_records(with_row_ids(table, source), source, _code_lists())
    cleaned = checked.cleaned
    assert cleaned is not None  # noqa: S101 - check_records always returns the cleaned table
    fields = {name: column for name, column in source.mapping.items() if column in table.column_names}
    n = table.num_rows
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
    col["province_code"] = pc.coalesce(get_code_list("wards").parents_of(col["ward_code"]), col["province_code"])
    iso = pc.cast(col["date_of_birth"], pa.string())  # date32 casts to ISO "YYYY-MM-DD"
    col["date_of_birth"] = pc.coalesce(iso, pc.cast(col["birth_year"], pa.string()))
    merged = merge_issues(*issues)
    counts = _rows_per_issue(merged)
    out = table
    for name in OUTPUT_FIELDS:
        target = name if name not in out.column_names else f"{name}_cleaned"
        out = out.append_column(target, col[name].cast(pa.string()))
    candidates = cleaned.ward_candidates
    out = out.append_column("ward_candidates", pa.nulls(n, pa.string()) if candidates is None
                            else _named_candidates(candidates))
    out = out.append_column("issues", _describe(merged))
    encodings = {fields[name]: enc for name, enc in cleaned.encodings.items() if name in fields}
    reasons = {q.row_no: [Reason(**r) for r in q.reasons] for q in checked.rejected}
    return Normalized(out, fields, {c: encodings.get(c, "unicode") for c in fields.values()}, counts, unmapped,
                      reasons, found.guessed)


def rejected_rows(result: Normalized) -> list[tuple[int, list[str]]]:
    """(row, Vietnamese reasons) of the rows loading the table would quarantine, ``row`` counted from 0 as the
    pipeline counts them (:func:`connectors.formats.file_row` turns it into the row a person sees)."""
    return [(row, [r.message_vi for r in reasons]) for row, reasons in sorted(result.reasons.items())]


def _code_lists() -> dict:
    from catalog import load_code_lists

    return load_code_lists()


def _rows_per_issue(merged: pa.Array) -> Counter[str]:
    """How many rows raised each issue code, counted over the distinct ``;``-joined combinations (few)."""
    counts: Counter[str] = Counter()
    for combination in pc.value_counts(pc.drop_null(merged)).to_pylist():
        for code in set(combination["values"].split(";")):
            counts[code] += combination["counts"]
    return counts


def _named_candidates(candidates: pa.Array) -> pa.Array:
    """The wards' names beside their codes, once per distinct list of codes (split wards repeat)."""
    joined = pc.binary_join(candidates, ";")
    distinct = pc.unique(joined).drop_null()
    named = pa.array([named_candidates(v.split(";") if v else None) for v in distinct.to_pylist()], pa.string())
    return pc.take(named, pc.index_in(joined, value_set=distinct))


_LOOKUP_ISSUES = {
    "sex_unmapped": ("Giới tính không nhận ra (dùng Nam/Nữ)", "sex not recognised"),
    "ethnicity_unmapped": ("Dân tộc không có trong danh mục 54 dân tộc", "ethnicity not in the 54-group list"),
    "religion_unmapped": ("Tôn giáo không có trong danh mục", "religion not in the list"),
    "ward_code_unknown": ("Mã xã/phường không có trong danh mục 2025", "ward code not a 2025 unit"),
}


def issue_text(code: str) -> str:
    """The Vietnamese text of an issue code: the clean stage's, or those of a value no code list knows."""
    if code in ISSUES:
        return ISSUES[code].message_vi
    return _LOOKUP_ISSUES[code][0] if code in _LOOKUP_ISSUES else code


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
            parts.append(f"{code}: {issue_text(code)}")
        return "; ".join(parts)

    uniques = pc.unique(merged).drop_null()
    described = pa.array([one(v) for v in uniques.to_pylist()], pa.string())
    return pc.take(described, pc.index_in(merged, value_set=uniques))
