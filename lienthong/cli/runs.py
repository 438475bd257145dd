"""The main job, shared by `lienthong sync` and `lienthong demo`: sync sources with progress, publish, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from lienthong.cli.console import console, show_error
from lienthong.errors import HubError
from lienthong.hub import Hub
from lienthong.open_data.build import write_open_data
from lienthong.pipeline import SourceRun, match_published, publish_all, sync_source
from lienthong.registry import SourceConfig
from lienthong.reporting import write_run_report
from lienthong.warehouse.publishing import Publication
from lienthong.warehouse.queries import batches


@dataclass
class RunOutcome:
    runs: list[SourceRun] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    report: Path | None = None
    open_data: list[Path] = field(default_factory=list)
    matches: dict[str, dict] = field(default_factory=dict)  # dataset -> figures of the match stage


def run_sources(hub: Hub, sources: list[SourceConfig]) -> RunOutcome:
    """Sync ``sources`` one after the other (a failing source does not stop the others), then publish."""
    outcome = RunOutcome()
    started_at = datetime.now(UTC)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rows {task.fields[rows]:,}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        overall = progress.add_task("sources", total=len(sources), rows=0)
        for source in sources:
            task = progress.add_task(source.id, total=None, rows=0)

            def on_batch(run: SourceRun, task: int = task) -> None:
                progress.update(task, advance=1, rows=run.rows_read)

            try:
                run = sync_source(hub, source, on_batch=on_batch)
            except HubError as exc:
                progress.console.print(f"[red]✗ {source.id}[/]")
                show_error(exc)
                outcome.failed.append(source.id)
                run = SourceRun(source.id, source.dataset, error=str(exc))
            outcome.runs.append(run)
            progress.update(task, total=max(run.batches_new + run.batches_seen, 1),
                            completed=max(run.batches_new + run.batches_seen, 1))
            progress.update(overall, advance=1)
    outcome.publications = publish_all(hub, [s.dataset for s in sources])
    with console.status("matching people across feeds and organisations (Splink)"):
        outcome.matches = match_published(hub, [s.dataset for s in sources])
    published = {b["batch_id"]: b["rows_published"] or 0 for r in outcome.runs
                 for b in batches(hub.engine, batch_ids=r.batch_ids)}
    for run in outcome.runs:
        run.rows_published = sum(published.get(b, 0) for b in run.batch_ids)
    reports = hub.settings.home / "reports"
    outcome.report = write_run_report(hub, outcome.runs, reports, started_at=started_at)
    outcome.open_data = write_open_data(hub.engine, hub.settings.home / "open-data", hub.code_lists,
                                        threshold=hub.settings.small_cell_threshold,
                                        base_url=hub.settings.public_base_url)
    return outcome


def summary_table(outcome: RunOutcome) -> Table:
    table = Table(title="Liên Thông — sync summary", title_justify="left")
    for name in ("source", "dataset", "read", "valid", "quarantined", "published", "seconds", "note"):
        table.add_column(name, justify="left" if name in ("source", "dataset", "note") else "right",
                         no_wrap=name != "note")
    for r in outcome.runs:
        note = "[red]failed[/]" if r.error else (f"{r.batches_seen} batches already landed" if r.batches_seen else "")
        table.add_row(r.source_id, r.dataset, f"{r.rows_read:,}", f"{r.rows_valid:,}", f"{r.rows_quarantined:,}",
                      f"{r.rows_published:,}", f"{r.seconds:.2f}", note)
    table.caption = "; ".join(
        f"{ds}: {m.get('records', 0):,} records matched, {m.get('entities_created', 0):,} new entities, "
        f"{m.get('merges', 0):,} merges, {m.get('review_pairs', 0):,} pairs for review (lienthong review list)"
        for ds, m in outcome.matches.items()) or None
    return table
