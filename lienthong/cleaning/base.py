"""What every cleaning rule returns, and how its issues are described.

A rule takes Arrow arrays (a batch's column, or several) and returns a :class:`RuleResult`: the cleaned values
(null where nothing trustworthy could be made of the input — never invented) and, per row, the codes of what it
changed or found. Each rule module declares its codes in an ``ISSUES`` mapping of :class:`IssueType`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa


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
