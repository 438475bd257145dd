"""What every cleaning rule returns, and how its issues are described.

A rule takes Arrow arrays (a batch's column, or several) and returns a :class:`RuleResult`: the cleaned values
(null where nothing trustworthy could be made of the input — never invented) and, per row, the codes of what it
changed or found. Each rule module declares its codes in an ``ISSUES`` mapping of :class:`IssueType`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc


class Severity(StrEnum):
    CHANGED = "changed"  # the value was rewritten to its canonical form (11-digit phone converted): informative
    FLAGGED = "flagged"  # kept, but a person should look (a split ward: candidates listed, no guess)
    REJECTED = "rejected"  # unusable: the value is null and the row is quarantined with this reason


@dataclass(frozen=True)
class IssueType:
    """One kind of finding, with its messages for the clerk (Vietnamese) and the engineer (English)."""

    code: str
    severity: Severity
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class RuleResult:
    """Cleaned values and, per row, the issue codes (``;``-separated string, null when there is nothing to say)."""

    values: pa.Array
    issues: pa.Array

    def __post_init__(self) -> None:
        if len(self.values) != len(self.issues):
            msg = f"a rule returned {len(self.values)} values but {len(self.issues)} issue entries"
            raise ValueError(msg)


def issues_where(checks: list[tuple[pa.Array, str]]) -> pa.Array:
    """Per row, every code whose mask holds (null masks count as false), ``;``-separated; null when none."""
    out = pa.nulls(len(checks[0][0]), pa.string())
    for mask, code in checks:
        if not pc.any(mask).as_py():
            continue
        joined = pc.binary_join_element_wise(out, code, ";")
        out = pc.if_else(pc.fill_null(mask, False), pc.if_else(pc.is_null(out), pa.scalar(code), joined), out)
    return out


def merge_issues(*columns: pa.Array) -> pa.Array:
    """Row-wise ``;``-join of issue columns, null where all are null.

    Folded by hand: ``binary_join_element_wise(..., null_handling="skip")`` drops all-null rows in pyarrow 26,
    returning a shorter array.
    """
    # Most issue columns are all null (clean data): they add nothing and are skipped, not joined row by row.
    merged = columns[0].cast(pa.string())
    for col in columns[1:]:
        if col.null_count == len(col):
            continue
        col = col.cast(pa.string())
        if merged.null_count == len(merged):
            merged = col
            continue
        merged = pc.coalesce(pc.binary_join_element_wise(merged, col, ";"), merged, col)
    return merged
