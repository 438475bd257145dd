"""`lienthong`: the command line of the hub (Typer + rich)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lienthong.cli import api as api_cmd
from lienthong.cli import bench as bench_cmd
from lienthong.cli import catalog as catalog_cmd
from lienthong.cli import files as files_cmd
from lienthong.cli import match as match_cmd
from lienthong.cli import open_data as open_data_cmd
from lienthong.cli import quarantine as quarantine_cmd
from lienthong.cli import warm_cmd
from lienthong.cli.console import console, show_error
from lienthong.errors import HubError

app = typer.Typer(
    help="Liên Thông — data-integration hub for the Vietnam Fatherland Front.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # hub errors are shown by main(); others keep their plain traceback
)
sources_app = typer.Typer(help="The source registry.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(quarantine_cmd.app, name="quarantine")
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(warm_cmd.app, name="warm")
match_cmd.register(app)
api_cmd.register(app)
open_data_cmd.register(app)
app.command()(files_cmd.normalize)
app.command()(files_cmd.check)


@app.callback()
def _global(
    database_url: Annotated[str | None, typer.Option(help="Warehouse URL (else LIENTHONG_DATABASE_URL).")] = None,
    home: Annotated[Path | None, typer.Option(help="Working folder (else LIENTHONG_HOME, default var/).")] = None,
) -> None:
    # The options become this process's Settings, passed on from there (never written into os.environ).
    from lienthong.settings import Settings, use_settings

    given = {name: value for name, value in (("database_url", database_url), ("home", home)) if value}
    use_settings(Settings(**given) if given else None)


@app.command()
def init() -> None:
    """Create or upgrade the warehouse (Alembic) and load the shared code lists."""
    from lienthong.hub import Hub

    hub = Hub.open(require_init=False)
    stored = hub.initialise()
    new = sum(1 for _, _, is_new in stored if is_new)
    shown = hub.engine.url.render_as_string(hide_password=True)
    console.print(f"warehouse ready at {shown}: schema at head, {len(stored)} code lists ({new} new versions)")


@app.command()
def sync(
    source_ids: Annotated[list[str] | None, typer.Argument(help="Sources to sync (default: all).")] = None,
    via_airflow: Annotated[bool, typer.Option(help="Trigger each source's Airflow DAG (AIRFLOW_API_URL).")] = False,
) -> None:
    """Extract, land, validate and publish the given sources (all by default).

    Exit code 0 when everything went through; 1 when a source stopped or a file or batch was refused (each said
    in one line; the rest was published); 2 when the command could not start (unknown source, no warehouse).
    """
    from lienthong.cli.runs import run_sources, show_problems, summary_table
    from lienthong.hub import Hub

    if via_airflow:
        _sync_via_airflow(source_ids)
        return
    hub = Hub.open()
    _sweep(hub)
    sources = [hub.source(s) for s in source_ids] if source_ids else list(hub.sources.values())
    outcome = run_sources(hub, sources)
    console.print(summary_table(outcome))
    console.print(f"quality report: {outcome.report}")
    show_problems(outcome)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


@sources_app.command("list")
def sources_list() -> None:
    """List the registered sources."""
    from lienthong.registry import load_registry
    from lienthong.settings import get_settings

    settings = get_settings()
    table = Table("id", "organisation", "dataset", "connector", "schedule", "title")
    for s in load_registry(settings.sources_dir, settings.registry_variables()).values():
        table.add_row(s.id, s.organisation, s.dataset, s.connector.type, s.schedule.cron or "manual", s.title)
    console.print(table)


@app.command()
def status(source: Annotated[str | None, typer.Option(help="Only this source.")] = None) -> None:
    """Per source and batch: rows in, valid, quarantined, published, the cursor, and why a batch failed.

    Batches stuck in `landed` longer than LIENTHONG_BATCH_STUCK_MINUTES are marked failed first (the sweeper).
    """
    from lienthong.hub import Hub
    from lienthong.warehouse.queries import batches, source_cursors

    hub = Hub.open()
    _sweep(hub)
    cursors = source_cursors(hub.engine)
    table = Table("source", "batch", "origin", "status", "read", "valid", "quarantined", "published", "reconciles",
                  title="Batches", title_justify="left")
    failed = Table("batch", "failed at", "reason", "lý do", title="Failed batches (send the file again or re-run "
                   "the sync to retry)", title_justify="left")
    for b in batches(hub.engine, source_id=source):
        shown = {"failed": "[red]failed[/]", "landed": "[yellow]landed[/]"}.get(b["status"], b["status"])
        table.add_row(b["source_id"], b["batch_id"], _short(b["origin"]), shown, str(b["rows_read"]),
                      _n(b["rows_valid"]), _n(b["rows_quarantined"]), _n(b["rows_published"]),
                      "[green]yes[/]" if b["reconciled"] else "[red]no[/]")
        if b["status"] == "failed":
            at = b["failed_at"].strftime("%Y-%m-%d %H:%M") if b["failed_at"] else ""
            failed.add_row(b["batch_id"], at, b["error_en"] or "", b["error_vi"] or "")
    console.print(table)
    if failed.row_count:
        console.print(failed)
    cur = Table("source", "cursor", title="Cursors", title_justify="left")
    for sid, c in sorted(cursors.items()):
        if source in (None, sid):
            cur.add_row(sid, str(c))
    console.print(cur)


def _sweep(hub) -> None:  # noqa: ANN001 - lienthong.hub.Hub, imported lazily
    """Mark failed the batches stuck in `landed` (their process stopped), saying so."""
    from datetime import timedelta

    from lienthong.warehouse.landing import sweep_stuck

    stuck = sweep_stuck(hub.engine, older_than=timedelta(minutes=hub.settings.batch_stuck_minutes))
    if stuck:
        console.print(f"[yellow]{len(stuck)} batches were still landed after {hub.settings.batch_stuck_minutes:g} "
                      f"minutes and are now marked failed[/]: {', '.join(stuck)}")


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the demo data generator.")] = 7,
    scale: Annotated[int, typer.Option(help="Multiply the demo's row counts.")] = 1,
) -> None:
    """Run the main job on the bundled demo sources (a local member-organisation API, files, a database)."""
    from lienthong.cli.demo import run_demo

    run_demo(seed=seed, scale=scale)


def _sync_via_airflow(source_ids: list[str] | None) -> None:
    from lienthong.orchestration.airflow_trigger import trigger_via_airflow
    from lienthong.registry import load_registry
    from lienthong.settings import get_settings

    settings = get_settings()
    if not settings.airflow_api_url:
        console.print("[red]AIRFLOW_API_URL is not set[/]: point it at the Airflow api-server (see docs/airflow.md)")
        raise typer.Exit(2)
    registry = load_registry(settings.sources_dir, settings.registry_variables())
    for source_id in source_ids or list(registry):
        if source_id not in registry:
            console.print(f"[red]unknown source {source_id!r}[/]")
            raise typer.Exit(2)
        run = trigger_via_airflow(source_id, api_url=settings.airflow_api_url, note="lienthong sync --via-airflow")
        console.print(f"{source_id}: DAG run {run.get('dag_run_id')} {run.get('state')}")


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _n(value: int | None) -> str:
    return "" if value is None else str(value)


def main() -> None:
    """The `lienthong` command: a hub error is one line (exit 2); anything unexpected is one line saying where
    its traceback was written (exit 1), or the traceback itself with ``--debug`` (anywhere on the line)."""
    import sys

    debug = "--debug" in sys.argv[1:]
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except HubError as exc:
        show_error(exc)
        raise SystemExit(2) from None
    except Exception as exc:
        if debug:
            raise
        from lienthong.cli.crash import report_crash

        report_crash(exc)
        raise SystemExit(1) from None
