"""The quality report of a run, built from what the warehouse recorded (batches, outcomes, quarantine)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from lienthong.hub import Hub
from lienthong.pipeline import SourceRun
from lienthong.warehouse.queries import batches, quarantined
from lienthong.warehouse.verification import verification_counts
from quality.reasons import Reason
from quality.report import BatchReport, RunReport, summarise_reasons, write_quality_report
from quality.validate import ExpectationOutcome


def build_run_report(hub: Hub, runs: Sequence[SourceRun], *, started_at: datetime) -> RunReport:
    """One BatchReport per batch the runs processed, with its expectations and quarantine reasons."""
    reports = []
    for run in runs:
        for b in batches(hub.engine, batch_ids=run.batch_ids):
            reasons = {
                q["row_no"]: [Reason(**r) for r in q["reasons"]]
                for q in quarantined(hub.engine, batch_id=b["batch_id"])
            }
            top, samples = summarise_reasons(reasons)
            outcomes = [ExpectationOutcome(**{**o, "columns": tuple(o["columns"])}) for o in b["outcomes"] or []]
            reports.append(BatchReport(
                source_id=b["source_id"], dataset=b["dataset"], batch_id=b["batch_id"], origin=b["origin"],
                rows_read=b["rows_read"], rows_valid=b["rows_valid"] or 0,
                rows_quarantined=b["rows_quarantined"] or 0, rows_published=b["rows_published"],
                outcomes=outcomes, top_reasons=top, samples=samples,
            ))
    sources = {r.source_id for r in runs}
    return RunReport(run_id=f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", started_at=started_at,
                     batches=reports, finished_at=datetime.now(UTC),
                     verification=verification_counts(hub.engine, source_ids=sources) if sources else {})


def write_run_report(hub: Hub, runs: Sequence[SourceRun], folder: Path, *, started_at: datetime) -> Path:
    """Write ``quality-<run id>.html`` and refresh ``latest.html`` beside it."""
    report = build_run_report(hub, runs, started_at=started_at)
    path = write_quality_report(report, folder / f"quality-{report.run_id}.html")
    (folder / "latest.html").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return path
