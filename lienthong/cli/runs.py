"""`lienthong sync` and `lienthong demo` on screen: the job of :mod:`lienthong.jobs` with progress bars, a summary
table and one line per problem."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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

from lienthong import jobs
from lienthong.cli.console import console, err_console
from lienthong.hub import Hub
from lienthong.pipeline import BatchHook, Problem, SourceRun
from lienthong.registry import SourceConfig
from lienthong.warehouse.publishing import Publication
from lienthong.warehouse.queries import batches


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
    """Sync ``sources`` one after the other with progress bars, then :func:`lienthong.jobs.after_publish`.

    A source that fails is reported (``outcome.problems``, one line each) and the others go on; so do the steps
    after them. Once the warehouse connection is lost for good, the remaining steps are skipped with a line.
    """
    outcome = RunOutcome()
    started_at = datetime.now(UTC)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rows {task.fields[rows]:,}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        overall = progress.add_task("sources", total=len(sources), rows=0)
        tasks: dict[str, int] = {}

        def on_source(source: SourceConfig) -> BatchHook:
            task = tasks[source.id] = progress.add_task(source.id, total=None, rows=0)
            return lambda run: progress.update(task, advance=1, rows=run.rows_read)

        def on_done(run: SourceRun) -> None:
            if run.problems:
                progress.console.print(f"[red]✗ {run.source_id}[/]")
                outcome.failed.append(run.source_id)
                outcome.problems.extend(run.problems)
            done = max(run.batches_new + run.batches_seen, 1)
            progress.update(tasks[run.source_id], total=done, completed=done)
            progress.update(overall, advance=1)

        outcome.runs = jobs.sync_sources(hub, sources, on_source=on_source, on_done=on_done)
    steps = jobs.Steps(outcome.problems)
    with console.status("publishing") as status:
        done = jobs.after_publish(hub, [s.dataset for s in sources], batch_ids=outcome.runs,
                                  started_at=started_at, steps=steps, actor=f"cli:{getpass.getuser()}",
                                  on_step=lambda name: status.update(_STEP_TEXT.get(name, name)))
    outcome.publications, outcome.matches = done.publications, done.matches
    outcome.report, outcome.open_data = done.report, done.open_data
    published = steps.run("count published rows", lambda: {
        b["batch_id"]: b["rows_published"] or 0 for r in outcome.runs
        for b in batches(hub.engine, batch_ids=r.batch_ids)}, {})
    for run in outcome.runs:
        run.rows_published = sum(published.get(b, 0) for b in run.batch_ids)
    return outcome


_STEP_TEXT = {"publish": "publishing", "match": "matching people (Splink)",
              "quality report": "writing the quality report", "open data": "releasing the open data"}


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


def verification_line(hub: Hub) -> str:
    """The population database's answers so far, per verifying source, in one line (empty when none)."""
    from lienthong.warehouse.verification import verification_counts

    counts = verification_counts(hub.engine)
    if not counts:
        return ""
    return "identity verification (population database): " + "; ".join(
        f"{source}: {c['verified']:,} checked, {c['match']:,} match, {c['mismatch']:,} mismatch "
        f"(name {c['full_name_mismatch']:,}, date of birth {c['date_of_birth_mismatch']:,}, sex {c['sex_mismatch']:,})"
        f", {c['not_found']:,} not found" for source, c in counts.items())


def show_problems(outcome: RunOutcome) -> None:
    """Each problem of the run as one line, in English then Vietnamese, on stderr."""
    for problem in outcome.problems:
        err_console.print(f"[bold red]✗[/] {escape(problem.message)}", soft_wrap=True, highlight=False)
        err_console.print(f"  {escape(problem.message_vi)}", soft_wrap=True, highlight=False)
