"""`lienthong open-data build` and `lienthong forget`: the open release, and erasure of a person's data."""

from __future__ import annotations

import getpass
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lienthong.cli.console import console

app = typer.Typer(help="Open data: the public, protected aggregates and their catalogue.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `open-data` and `forget` to the root command line."""
    root.add_typer(app, name="open-data")
    root.command("forget")(forget)


@app.command()
def build(
    out: Annotated[Path | None, typer.Option(help="Folder of the release (default <home>/open-data).")] = None,
    threshold: Annotated[int | None, typer.Option(help="Smallest count published (default the setting).")] = None,
) -> None:
    """Rebuild the open tables (CSV, JSON, Parquet), datapackage.json, the DCAT catalogue and the charts."""
    from lienthong.hub import Hub
    from lienthong.open_data.build import build_open_data

    hub = Hub.open()
    folder = out or hub.settings.home / "open-data"
    limit = threshold or hub.settings.small_cell_threshold
    with console.status("building the open-data release (aggregates, disclosure control, catalogue, charts)"):
        release = build_open_data(hub.engine, folder, hub.code_lists, threshold=limit,
                                  base_url=hub.settings.public_base_url)
    table = Table("table", "cells", "suppressed", title=f"Open data → {folder}", title_justify="left")
    for name, t in release.tables.items():
        table.add_row(name, f"{len(t.published):,}", f"{sum(v is None for v in t.published.values()):,}")
    console.print(table)
    console.print(f"{len(release.files)} files; cells under {limit} suppressed, complements checked: none "
                  "recoverable")


def forget(
    id_number: Annotated[str, typer.Option("--id-number", help="CCCD (12 digits) or CMND (9 digits).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    rebuild: Annotated[bool, typer.Option(help="Rebuild the open data afterwards.")] = True,
) -> None:
    """Erase a person's personal data from every zone (published, staging, quarantine, raw) and audit it."""
    from lienthong.hub import Hub
    from lienthong.open_data.build import build_open_data
    from lienthong.pseudonymise import key_from_settings
    from lienthong.warehouse.erasure import forget as erase

    if not yes:
        typer.confirm("Xóa vĩnh viễn dữ liệu cá nhân của người này? / Permanently erase this person's data?",
                      abort=True)
    hub = Hub.open()
    key = key_from_settings(hub.settings) if hub.settings.pseudonym_key else None
    with console.status("erasing"):
        erasure = erase(hub.engine, id_number, sources=hub.sources, actor=f"cli:{getpass.getuser()}",
                        pseudonym_key=key)
    if erasure.entities:
        # The match stage's cache of cleaned comparison columns holds the person too; it is rebuilt from the
        # warehouse when missing.
        shutil.rmtree(hub.settings.home / "match", ignore_errors=True)
    table = Table("dataset", "published", "staging", "quarantine", "raw rows", "raw batches", "entities",
                  title=f"Erased {erasure.subject}", title_justify="left")
    for ds in erasure.datasets:
        table.add_row(ds, str(erasure.published.get(ds, 0)), str(erasure.staging.get(ds, 0)),
                      str(erasure.quarantine.get(ds, 0)), str(erasure.raw_rows.get(ds, 0)),
                      str(len(erasure.raw_batches.get(ds, []))), str(erasure.entities.get(ds, 0)))
    console.print(table if erasure.datasets else f"no record holds {erasure.subject}; the request is audited")
    if rebuild and erasure.datasets:
        with console.status("rebuilding the open data"):
            build_open_data(hub.engine, hub.settings.home / "open-data", hub.code_lists,
                            threshold=hub.settings.small_cell_threshold, base_url=hub.settings.public_base_url)
        console.print("open data rebuilt")
