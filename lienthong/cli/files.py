"""`lienthong normalize` and `lienthong check`: a member organisation's file, cleaned or checked, not loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pyarrow.csv as pacsv
import typer
import yaml
from rich.table import Table

from lienthong.cli.console import console, show_error
from lienthong.errors import MalformedInput


def normalize(
    file: Path,
    out: Annotated[Path, typer.Option("--out", help="Where to write the cleaned rows (UTF-8 CSV).")],
    dataset: Annotated[str, typer.Option(help="Contract of the file's rows.")] = "members",
    mapping: Annotated[Path | None, typer.Option(help="YAML: contract field -> column of the file.")] = None,
) -> None:
    """Clean a CSV/XLSX/JSON/NDJSON file in any encoding: every input column kept, cleaned fields and `issues`
    added. Exit 2 if the file cannot be read or cannot be a feed."""
    from lienthong.normalize import normalize_table
    from lienthong.spreadsheet_safety import neutralise_table

    _members_only(dataset)
    with console.status(f"reading {file}"):
        table = _read(file)
    with console.status(f"cleaning {table.num_rows:,} rows"):
        result = normalize_table(table, _mapping(mapping))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        fh.write("\ufeff".encode())  # Excel opens UTF-8 with a BOM as UTF-8
        pacsv.write_csv(neutralise_table(result.table), fh)  # clerks open it in Excel: no cell may run
    console.print(f"{table.num_rows:,} rows cleaned to {out}; columns used: "
                  + ", ".join(f"{k}←{v}" for k, v in result.fields.items()))
    legacy = {c: e for c, e in result.encodings.items() if e not in ("unicode", "ascii")}
    if legacy:
        console.print("legacy encodings converted: " + ", ".join(f"{c} ({e})" for c, e in legacy.items()))
    _issue_table(result.issue_counts)
    _unmapped_table(result.unmapped)


def check(
    file: Path,
    dataset: Annotated[str, typer.Option(help="Contract of the file's rows.")] = "members",
    mapping: Annotated[Path | None, typer.Option(help="YAML: contract field -> column of the file.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many failing rows.")] = 50,
) -> None:
    """Kiểm tra tệp trước khi gửi: những dòng nào lỗi và vì sao (nothing is loaded). Exit 1 if a row fails, 2 if
    the file cannot be read or cannot be a feed."""
    from lienthong.normalize import normalize_table, rejected_rows

    _members_only(dataset)
    table = _read(file)
    result = normalize_table(table, _mapping(mapping))
    failing = rejected_rows(result)
    _unmapped_table(result.unmapped)
    if not failing:
        console.print(f"[green]✓ {table.num_rows:,} dòng hợp lệ[/] / all {table.num_rows:,} rows pass")
        return
    shown = Table("Dòng / row", "Lý do / reason", title=f"{len(failing):,} / {table.num_rows:,} dòng có lỗi",
                  title_justify="left")
    for row, reasons in failing[:limit]:
        shown.add_row(str(row + 2), "\n".join(reasons))  # +2: the header is line 1 of the file
    console.print(shown)
    if len(failing) > limit:
        console.print(f"… và {len(failing) - limit:,} dòng khác (--limit)")
    raise typer.Exit(1)


def _read(file: Path):  # noqa: ANN202 - pyarrow.Table, imported lazily
    """The file as the files connector reads it; a file that cannot be read or cannot be a feed ends the command
    with its reason in English and Vietnamese and exit code 2, never a traceback."""
    from lienthong.normalize import read_file

    try:
        return read_file(file)
    except MalformedInput as exc:
        show_error(exc)
        raise typer.Exit(2) from None


def _members_only(dataset: str) -> None:
    if dataset != "members":
        console.print(f"[red]only the members contract has cleaning rules so far, not {dataset!r}[/]")
        raise typer.Exit(2)


def _mapping(path: Path | None) -> dict[str, str] | None:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path else None


def _issue_table(counts) -> None:  # noqa: ANN001 - Counter[str]
    from lienthong.normalize import ISSUES

    if not counts:
        return
    table = Table("issue", "rows", "meaning", title="What was changed or flagged", title_justify="left")
    for code, n in counts.most_common():
        meaning = ISSUES[code].message_vi if code in ISSUES else code
        table.add_row(code, f"{n:,}", meaning)
    console.print(table)


def _unmapped_table(unmapped) -> None:  # noqa: ANN001 - dict[str, Counter[str]]
    """The values no shared code list knows, most frequent first: what to fix, or to add as an alias."""
    if not unmapped:
        return
    table = Table("cột / field", "giá trị / value", "dòng / rows", title="Giá trị không có trong danh mục / "
                  "values not in the code lists", title_justify="left")
    for name, counts in unmapped.items():
        for value, n in counts.most_common(20):
            table.add_row(name, value, f"{n:,}")
    console.print(table)
