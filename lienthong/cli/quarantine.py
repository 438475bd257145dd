"""`lienthong quarantine`: see why rows were refused, and retry them after a fix (e.g. a new code list)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from lienthong.cli.console import console

app = typer.Typer(help="Rows refused by validation, with their reasons.", no_args_is_help=True)


@app.command("list")
def list_(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
    english: Annotated[bool, typer.Option("--en", help="Reasons in English.")] = False,
) -> None:
    """Quarantined rows with their reasons (personal values masked)."""
    from lienthong.hub import Hub
    from lienthong.warehouse.queries import quarantined

    hub = Hub.open()
    table = Table("source", "batch", "row", "field", "value", "reason", title="Quarantine", title_justify="left")
    row_of = _file_rows(hub.engine)
    for q in quarantined(hub.engine, source_id=source, batch_id=batch, limit=limit):
        for r in q["reasons"]:
            table.add_row(q["source_id"], q["batch_id"], row_of(q), r["column"], r["value"] or "",
                          r["message_en"] if english else r["message_vi"])
    console.print(table)


def _file_rows(engine):  # noqa: ANN001, ANN202 - Engine -> (quarantined row -> str)
    """The row the file shows for a quarantined row, as every other door numbers it (``row_label``): "14", or
    "Chi đoàn thôn 2, dòng 14" in a workbook read from several sheets."""
    from functools import cache

    from connectors.formats import row_label
    from lienthong.warehouse.queries import batch_status

    layout = cache(lambda batch_id: batch_status(engine, batch_id) or {})

    def row_of(q: dict) -> str:
        b = layout(q["batch_id"])
        return row_label(q["row_no"], b.get("media_type", ""), b.get("read_options"))

    return row_of


@app.command()
def show(batch: str, row: Annotated[str, typer.Argument(help="Row as the file shows it, as `list` prints it: "
                                                          "'14', or 'Chi đoàn thôn 2, dòng 14'.")]) -> None:
    """One quarantined row: its reasons, and its mapped values with personal fields masked."""
    from lienthong.hub import Hub
    from lienthong.warehouse.queries import quarantined
    from quality.reasons import mask_value
    from schemas import get_contract

    hub = Hub.open()
    row_of = _file_rows(hub.engine)
    found = [q for q in quarantined(hub.engine, batch_id=batch) if row_of(q) == row.strip()]
    if not found:
        console.print(f"no open quarantined row {row} in batch {batch}")
        raise typer.Exit(1)
    q = found[0]
    contract = get_contract(q["dataset"])
    masked = {k: mask_value(v, contract.field(k).privacy) for k, v in q["record"].items()}
    shown = int(row) if row.strip().isdigit() else row.strip()
    console.print_json(json.dumps({"source": q["source_id"], "batch": batch, "row": shown,
                                   "reasons": q["reasons"], "record": masked}, ensure_ascii=False))


@app.command()
def retry(source: Annotated[str | None, typer.Option(help="Only this source.")] = None) -> None:
    """Validate open quarantined rows again against the current code lists; publish those that now pass."""
    from lienthong.hub import Hub
    from lienthong.pipeline import publish_all
    from lienthong.stages.retry import retry_quarantine

    hub = Hub.open()
    results = retry_quarantine(hub, source_id=source)
    publish_all(hub, {r.dataset for r in results if r.released})
    for r in results:
        console.print(f"{r.batch_id} ({r.source_id}): {r.released} released, {r.still_failing} still quarantined")
    if not results:
        console.print("nothing in quarantine")
