"""`lienthong catalog`: the shared code lists (danh mục dùng chung) the hub validates against."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lienthong.cli.console import console

app = typer.Typer(help="Shared electronic code lists.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """Every code list with its current version and size (from the warehouse after `init`, else the package)."""
    lists = _current_lists()
    table = Table("name", "version", "values", "valid from", "title", "basis")
    for cl in sorted(lists.values(), key=lambda c: c.name):
        table.add_row(cl.name, cl.version, str(len(cl.values)), str(cl.valid_from), cl.title_vi, cl.basis)
    console.print(table)


@app.command()
def show(
    name: str,
    limit: Annotated[int, typer.Option(help="At most this many values (0 = all).")] = 0,
    parent: Annotated[str | None, typer.Option(help="Only values under this parent code (e.g. a province).")] = None,
) -> None:
    """The values of one code list."""
    lists = _current_lists()
    if name not in lists:
        console.print(f"[red]unknown code list {name!r}[/]; known: {', '.join(sorted(lists))}")
        raise typer.Exit(1)
    cl = lists[name]
    values = [v for v in cl.values if parent is None or v.parent == parent]
    table = Table("code", "label", "English", "parent", "aliases", title=f"{cl.title_vi} — {cl.version}",
                  title_justify="left")
    for v in values[: limit or None]:
        table.add_row(v.code, v.label_vi, v.label_en or "", v.parent or "", ", ".join(v.aliases))
    console.print(table)
    if limit and len(values) > limit:
        console.print(f"… {len(values) - limit} more (use --limit 0)")


@app.command("import")
def import_(
    name: str,
    file: Path,
    version: Annotated[str, typer.Option(help="Version of the new content, e.g. 2026-01-01.")],
    valid_from: Annotated[str | None, typer.Option(help="Date from which it applies (YYYY-MM-DD).")] = None,
) -> None:
    """Store a new version of a code list from a CSV (code,label_vi,label_en,parent,aliases) and make it current."""
    from catalog import read_code_list_csv
    from lienthong.hub import Hub
    from lienthong.warehouse.catalog_store import store_code_lists

    hub = Hub.open()
    current = hub.code_lists.get(name)
    if current is None:
        console.print(f"[red]unknown code list {name!r}[/]: import only new versions of existing lists")
        raise typer.Exit(1)
    try:
        new = read_code_list_csv(
            file, name=name, version=version, title_vi=current.title_vi, title_en=current.title_en,
            valid_from=date.fromisoformat(valid_from) if valid_from else date.today(),
            basis=f"imported from {file.name}",
        )
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")  # the message names the file, line and column
        raise typer.Exit(1) from None
    store_code_lists(hub.engine, [new])
    console.print(f"{name} {version}: {len(new.values)} values stored and current (was {current.version})")


def _current_lists():  # noqa: ANN202 - dict[str, CodeList]
    from catalog import load_code_lists
    from lienthong.errors import HubError
    from lienthong.hub import Hub

    try:
        return Hub.open().code_lists
    except HubError:
        return load_code_lists()
