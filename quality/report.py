"""The quality report of a run: one self-contained HTML page, Vietnamese first, English second.

The page has no script and loads nothing (inline CSS), so it can be mailed to an organisation or opened from a
shared folder offline. It is rendered from plain data (:class:`RunReport`), which the engine fills either
straight from :class:`~quality.validate.ValidationResult` objects (:meth:`BatchReport.from_validation`) or
from what the warehouse stored (batch counts, outcome dicts, quarantine reasons) — this module never reads a
database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jinja2

from quality.reasons import Reason
from quality.validate import ExpectationOutcome, ValidationResult
from schemas import CONTRACTS

TOP_REASONS = 10
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class ReasonCount:
    """A quarantine message and how many rows got it."""

    rule: str
    column: str
    message_vi: str
    message_en: str
    rows: int


@dataclass(frozen=True)
class SampleRow:
    """One reason of one quarantined row, as shown in the samples; ``row`` is the 0-based batch position."""

    row: int
    column: str
    value: str | None  # already masked
    message_vi: str
    message_en: str


@dataclass
class BatchReport:
    """What happened to one batch.

    Attributes:
        source_id: the source's registry id.
        dataset: contract name (``members``, ...).
        batch_id: the warehouse's batch id.
        origin: where the batch came from (file, URL page, query chunk).
        rows_read: rows landed.
        rows_valid: rows that passed every rule.
        rows_quarantined: rows held back with reasons.
        rows_published: rows published from this batch; ``None`` when not published yet.
        outcomes: every expectation's outcome.
        top_reasons: the most frequent quarantine messages, most frequent first.
        samples: example quarantined rows, one line per reason.
    """

    source_id: str
    dataset: str
    batch_id: str
    origin: str
    rows_read: int
    rows_valid: int
    rows_quarantined: int
    rows_published: int | None = None
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    top_reasons: list[ReasonCount] = field(default_factory=list)
    samples: list[SampleRow] = field(default_factory=list)

    @classmethod
    def from_validation(
        cls,
        result: ValidationResult,
        *,
        source_id: str,
        dataset: str,
        batch_id: str,
        origin: str,
        rows_published: int | None = None,
        extra_reasons: Mapping[int, Sequence[Reason]] | None = None,
    ) -> BatchReport:
        """Summarise a validation result (plus reasons filed by earlier stages, e.g. unparseable dates)."""
        reasons: dict[int, list[Reason]] = {row: list(rs) for row, rs in result.reasons.items()}
        for row, rs in (extra_reasons or {}).items():
            reasons.setdefault(row, []).extend(rs)
        top, samples = summarise_reasons(reasons)
        return cls(
            source_id=source_id,
            dataset=dataset,
            batch_id=batch_id,
            origin=origin,
            rows_read=result.rows,
            rows_valid=result.rows - len(reasons),
            rows_quarantined=len(reasons),
            rows_published=rows_published,
            outcomes=list(result.outcomes),
            top_reasons=top,
            samples=samples,
        )


@dataclass
class RunReport:
    """One run of the hub: its batches, in processing order."""

    run_id: str
    started_at: datetime
    batches: list[BatchReport]
    finished_at: datetime | None = None
    # Identity verification against the population database, per source of the run: verified, match, mismatch
    # (and per field), not_found (lienthong.warehouse.verification.verification_counts).
    verification: dict[str, dict[str, int]] = field(default_factory=dict)


def summarise_reasons(
    reasons: Mapping[int, Sequence[Reason]], *, top: int = TOP_REASONS, samples: int = SAMPLE_ROWS
) -> tuple[list[ReasonCount], list[SampleRow]]:
    """The ``top`` most failed rules (per field) and up to ``samples`` sample lines of the first quarantined rows.

    Rules are counted per (rule, field), not per message: messages quote the offending value, and "unknown ward
    code" should rank as one rule failing 80 rows, not 80 rules failing once. The first message is the example.

    Args:
        reasons: row position -> its reasons, as in :attr:`ValidationResult.reasons` or the quarantine table.
    """
    counts: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], Reason] = {}
    for row in sorted(reasons):
        for r in reasons[row]:
            counts[(r.rule, r.column)] += 1
            example.setdefault((r.rule, r.column), r)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    top_reasons = [
        ReasonCount(rule, col, example[(rule, col)].message_vi, example[(rule, col)].message_en, n)
        for (rule, col), n in ranked
    ]
    sample_rows: list[SampleRow] = []
    for row in sorted(reasons):
        for r in reasons[row]:
            if len(sample_rows) == samples:
                return top_reasons, sample_rows
            sample_rows.append(SampleRow(row, r.column, r.value, r.message_vi, r.message_en))
    return top_reasons, sample_rows


def render_quality_report(report: RunReport) -> str:
    """The report page as a string (UTF-8 HTML, every value escaped)."""
    return _environment().get_template("report.html").render(
        run=report, labels=_labels, number=_number, title=_title, rules_by_dataset=rules_by_dataset
    )


def rules_by_dataset(report: RunReport) -> dict[str, list[ExpectationOutcome]]:
    """Each dataset's expectations once (from its first batch that has them): the report lists the rules once and
    each batch only the ones it failed, instead of the whole table again for every batch."""
    out: dict[str, list[ExpectationOutcome]] = {}
    for b in report.batches:
        if b.outcomes and b.dataset not in out:
            out[b.dataset] = list(b.outcomes)
    return out


def write_quality_report(report: RunReport, path: Path) -> Path:
    """Write the report page of ``report`` to ``path`` (parent folders are created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_quality_report(report), encoding="utf-8")
    return path


_env: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _env
    if _env is None:
        _env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=True,  # every value: messages and origins carry source data
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _env


def _labels(dataset: str, columns: Sequence[str]) -> str:
    """The fields' Vietnamese labels (field names when the dataset is unknown), for the report's tables."""
    contract = CONTRACTS.get(dataset)
    names = {f.name: f.label_vi for f in contract.fields()} if contract else {}
    return ", ".join(names.get(c, c) for c in columns)


def _title(dataset: str) -> tuple[str, str]:
    """The dataset's Vietnamese and English titles (its name when unknown)."""
    contract = CONTRACTS.get(dataset)
    return (contract.title_vi, contract.title_en) if contract else (dataset, dataset)


def _number(value: int | None) -> str:
    """Vietnamese thousands separator: 1.000.000."""
    return "—" if value is None else f"{value:,}".replace(",", ".")
