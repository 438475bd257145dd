"""The main job, shared by `lienthong sync` and `lienthong demo`: sync sources with progress, publish, report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from lienthong.cli.console import console, err_console
from lienthong.errors import ConnectionLost, HubError
from lienthong.hub import Hub
from lienthong.open_data.build import write_open_data
from lienthong.pipeline import BatchHook, Problem, SourceRun, match_published, publish_all, sync_source
from lienthong.registry import SourceConfig
from lienthong.reporting import write_run_report
from lienthong.warehouse.publishing import Publication
from lienthong.warehouse.queries import batches

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class RunOutcome:
    runs: list[SourceRun] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # sources that stopped or refused a file or batch
    problems: list[Problem] = field(default_factory=list)  # one line each: sources' and the steps after them
    report: Path | None = None
    open_data: list[Path] = field(default_factory=list)
    matches: dict[str, dict] = field(default_factory=dict)  # dataset -> figures of the match stage

    @property
    def exit_code(self) -> int:
        """0 when everything went through; 1 when something was refused or stopped (the rest was published)."""
        return 1 if self.problems else 0


def run_sources(hub: Hub, sources: list[SourceConfig]) -> RunOutcome:
    """Sync ``sources`` one after the other, then publish, match, report and refresh open data.

    A source that fails is reported (``outcome.problems``, one line each) and the others go on; so do the steps
    after them. Once the warehouse connection is lost for good, the remaining steps are skipped with a line.
    """
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

            run = _sync_one(hub, source, on_batch)
            if run.problems:
                progress.console.print(f"[red]✗ {source.id}[/]")
                outcome.failed.append(source.id)
                outcome.problems += run.problems
            outcome.runs.append(run)
            progress.update(task, total=max(run.batches_new + run.batches_seen, 1),
                            completed=max(run.batches_new + run.batches_seen, 1))
            progress.update(overall, advance=1)
    steps = _Steps(outcome)
    datasets = [s.dataset for s in sources]
    outcome.publications = steps.run("publish", lambda: publish_all(hub, datasets), [])
    with console.status("matching people across feeds and organisations (Splink)"):
        outcome.matches = steps.run("match", lambda: match_published(hub, datasets), {})
    published = steps.run("count published rows", lambda: {
        b["batch_id"]: b["rows_published"] or 0 for r in outcome.runs
        for b in batches(hub.engine, batch_ids=r.batch_ids)}, {})
    for run in outcome.runs:
        run.rows_published = sum(published.get(b, 0) for b in run.batch_ids)
    reports = hub.settings.home / "reports"
    outcome.report = steps.run("quality report",
                               lambda: write_run_report(hub, outcome.runs, reports, started_at=started_at), None)
    outcome.open_data = steps.run("open data", lambda: write_open_data(
        hub.engine, hub.settings.home / "open-data", hub.code_lists, threshold=hub.settings.small_cell_threshold,
        base_url=hub.settings.public_base_url), [])
    return outcome


def _sync_one(hub: Hub, source: SourceConfig, on_batch: BatchHook) -> SourceRun:
    """``sync_source``, with a failure of the source turned into its one-line problem: the others go on."""
    try:
        return sync_source(hub, source, on_batch=on_batch)
    except Exception as exc:  # noqa: BLE001 - one source, whatever broke it, never stops the others
        problem = Problem.of(source.id, exc, where=f"source {source.id}")
        log.info("source %s stopped: %s", source.id, problem.message, exc_info=None if isinstance(exc, HubError)
                 else exc)
        return SourceRun(source.id, source.dataset, error=problem.message, problems=[problem])


class _Steps:
    """The steps after the sources: each failure is one line; after a lost warehouse the rest are skipped."""

    def __init__(self, outcome: RunOutcome) -> None:
        self.outcome, self.lost = outcome, False

    def run(self, name: str, work: Callable[[], T], default: T) -> T:
        if self.lost:
            self.outcome.problems.append(Problem(
                name, f"{name}: skipped, the warehouse is unreachable; run the sync again once it is back",
                f"{name}: bỏ qua vì không kết nối được kho dữ liệu; hãy chạy lại khi kho hoạt động trở lại"))
            return default
        try:
            return work()
        except HubError as exc:
            self.lost = self.lost or isinstance(exc, ConnectionLost)
            self.outcome.problems.append(Problem.of(name, exc))
            return default


def summary_table(outcome: RunOutcome) -> Table:
    """One line per source, fitting an 80-column terminal: numbers never wrap, the note may. Rows read are
    published or quarantined (`lienthong status` shows each batch reconcile), so valid rows are not repeated."""
    table = Table(title="Liên Thông — sync summary", title_justify="left", show_edge=False)
    for name in ("source", "dataset", "read", "quarantined", "published", "seconds", "note"):
        words = name in ("source", "dataset", "note")
        short = {"quarantined": "quar.", "published": "publ.", "seconds": "s"}.get(name, name)
        table.add_column(short, justify="left" if words else "right", no_wrap=name != "note",
                         min_width=12 if name == "note" else None)
    for r in outcome.runs:
        refused = len(r.problems)
        note = ("[red]failed[/]" if r.error
                else f"[red]{refused} refused[/]" if refused
                else f"{r.batches_seen} seen before" if r.batches_seen else "")
        table.add_row(r.source_id, r.dataset, f"{r.rows_read:,}", f"{r.rows_quarantined:,}", f"{r.rows_published:,}",
                      f"{r.seconds:.1f}", note)
    table.caption = "; ".join(
        f"{ds}: {m.get('records', 0):,} records matched, {m.get('entities_created', 0):,} new entities, "
        f"{m.get('merges', 0):,} merges, {m.get('review_pairs', 0):,} pairs for review (lienthong review list)"
        for ds, m in outcome.matches.items()) or None
    table.caption_justify = "left"
    table.caption_style = "dim"
    return table


def show_problems(outcome: RunOutcome) -> None:
    """Each problem of the run as one line, in English then Vietnamese, on stderr."""
    for problem in outcome.problems:
        err_console.print(f"[bold red]✗[/] {escape(problem.message)}", soft_wrap=True, highlight=False)
        err_console.print(f"  {escape(problem.message_vi)}", soft_wrap=True, highlight=False)
