"""`lienthong normalize` and `lienthong check`: a member organisation's file, cleaned or checked, not loaded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import yaml
from rich.table import Table

from lienthong.cli.console import console, err_console
from lienthong.errors import MalformedInput

T = TypeVar("T")


def normalize(
    file: Path,
    out: Annotated[Path, typer.Option("--out", help="Where to write the cleaned rows (UTF-8 CSV).")],
    dataset: Annotated[str, typer.Option(help="Contract of the file's rows.")] = "members",
    mapping: Annotated[Path | None, typer.Option(help="YAML: contract field -> column of the file; "
                                                      "overrides the guessed columns, field by field.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Take the columns of this registered source.")]
    = None,
) -> None:
    """Clean a CSV/XLSX/JSON/NDJSON file in any encoding through the pipeline's own stages: every input column
    kept, cleaned fields and `issues` added. Exit 2 if the file cannot be read or cannot be a feed."""
    from lienthong.normalize import normalize_table, rejected_rows
    from lienthong.spreadsheet_safety import neutralise_table

    _members_only(dataset)
    columns = _registered(source).mapping if source else _mapping(mapping)
    with console.status(f"đang đọc / reading {file}"):
        batch = _read(file)
    table = batch.records
    with console.status(f"đang làm sạch / cleaning {table.num_rows:,} rows"):
        result = _refusing(lambda: normalize_table(table, columns))
    import pyarrow.csv as pacsv  # here, not at the top: `lienthong --help` needs no Arrow

    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        fh.write("\ufeff".encode())  # Excel opens UTF-8 with a BOM as UTF-8
        pacsv.write_csv(neutralise_table(result.table), fh)  # clerks open it in Excel: no cell may run
    refused = len(rejected_rows(result))
    console.print(f"Đã làm sạch {table.num_rows:,} dòng vào {out}; {refused:,} dòng sẽ bị giữ lại khi nạp "
                  f"(xem `lienthong check`). / {table.num_rows:,} rows cleaned to {out}; {refused:,} would be "
                  "quarantined on loading.")
    _print_layout(batch)
    console.print("Cột đã dùng / columns used: " + ", ".join(f"{k}←{v}" for k, v in result.fields.items()))
    _guesses(result.guessed)
    legacy = {c: e for c, e in result.encodings.items() if e not in ("unicode", "ascii")}
    if legacy:
        console.print("Đã chuyển phông cũ / legacy encodings converted: "
                      + ", ".join(f"{c} ({e})" for c, e in legacy.items()))
    _issue_table(result.issue_counts)
    _unmapped_table(result.unmapped)


def check(
    file: Path,
    source: Annotated[str | None, typer.Option("--source", help="Check against this registered source's columns "
                                               "and rules (default: the usual Vietnamese labels).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"rows": N, "failing": [{"row", "column", '
                                          '"reasons"}]} instead of a table.')] = False,
    dataset: Annotated[str, typer.Option(help="Contract of the file's rows.")] = "members",
    mapping: Annotated[Path | None, typer.Option(help="YAML: contract field -> column of the file; "
                                                      "overrides the guessed columns, field by field.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many failing rows.")] = 50,
) -> None:
    """Kiểm tra tệp trước khi gửi: những dòng nào sẽ bị giữ lại và vì sao, đúng như khi nạp (nothing is loaded).
    Rows are numbered as a spreadsheet program shows them. Exit 1 if a row fails, 2 if the file cannot be read,
    cannot be a feed or does not have the source's columns."""
    from lienthong.file_check import check_file

    _members_only(dataset)
    registered = _registered(source) if source else None
    result = _refusing(lambda: check_file(file, registered, mapping=_mapping(mapping)))
    failing = result.failing
    note = _verify_note(registered)
    if not as_json:
        _guesses(result.guessed)
    if as_json:
        typer.echo(json.dumps({**result.to_json(), **({"verification": note[1]} if note else {})},
                              ensure_ascii=False, default=str))
        if failing:
            raise typer.Exit(1)
        return
    _print_layout(result.batch)
    if note:
        console.print(f"[dim]{note[0]} / {note[1]}[/]", highlight=False)
    if not failing:
        console.print(f"[green]✓ {result.rows:,} dòng hợp lệ[/] / all {result.rows:,} rows pass")
        return
    shown = Table("Dòng / row", "Cột / column", "Lý do / reason", title=f"{len(failing):,} / {result.rows:,} dòng "
                  "có lỗi, sẽ bị giữ lại khi nạp / rows loading would quarantine", title_justify="left")
    for f in failing[:limit]:
        shown.add_row(f.label, f.column or "", "\n".join(r["message_vi"] for r in f.reasons))
    console.print(shown)
    if len(failing) > limit:
        console.print(f"… và {len(failing) - limit:,} dòng khác (--limit)")
    raise typer.Exit(1)


def _guesses(guessed: dict[str, str]) -> None:
    from lienthong.file_check import guess_lines

    for line in guess_lines(guessed):
        console.print(line, highlight=False, soft_wrap=True)


def _print_layout(batch) -> None:  # noqa: ANN001 - connectors.base.Batch
    """Where the table was found: its header row (and sheets), so the clerk can see it was the right one."""
    from connectors.formats import header_summary, skipped_sheets

    header = header_summary(batch.read_options, batch.media_type)
    if header:
        console.print(header, highlight=False)
    skipped = skipped_sheets(batch.payload, batch.media_type, batch.read_options, origin=batch.origin)
    if skipped:
        console.print("Không đọc các trang không có bảng dữ liệu hoặc bị ẩn / sheets not read (no table, or hidden): "
                      + ", ".join(f"'{s}'" for s in skipped), highlight=False)
    if batch.read_options.get("sheet_column"):
        console.print(f"Đã thêm cột '{batch.read_options['sheet_column']}' ghi tên trang của mỗi dòng / a column "
                      "names each row's sheet", highlight=False)


def _verify_note(source) -> tuple[str, str] | None:  # noqa: ANN001 - lienthong.registry.SourceConfig | None
    """What `check` says when the source verifies identities: it calls no outside service (issue 19)."""
    if source is None or source.verify is None or not source.verify.enabled:
        return None
    return ("Chưa đối chiếu với CSDLQG về dân cư: lệnh kiểm tra không gọi dịch vụ bên ngoài; việc đối chiếu "
            "diễn ra khi tệp được nạp",
            "not checked against the population database: `check` calls no outside service; the check runs when "
            "the file is loaded")


def _read(file: Path):  # noqa: ANN202 - connectors.base.Batch, imported lazily
    """The file as the files connector reads it; a file that cannot be read or cannot be a feed ends the command
    with its reason, Vietnamese first, and exit code 2, never a traceback."""
    from lienthong.file_check import read_file

    return _refusing(lambda: read_file(file))


def _refusing(work: Callable[[], T]) -> T:
    """``work()``; a file it refuses ends the command with one reason, Vietnamese first, and exit code 2."""
    try:
        return work()
    except MalformedInput as exc:
        show_refusal(exc)
        raise typer.Exit(2) from None


def show_refusal(exc: MalformedInput) -> None:
    """A refused file, for a clerk: its reason in Vietnamese first, then in English."""
    if exc.message_vi and exc.message_vi != str(exc):
        err_console.print(f"[red]lỗi:[/] {exc.message_vi}", highlight=False, soft_wrap=True)
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)


def _registered(source_id: str):  # noqa: ANN202 - lienthong.registry.SourceConfig, imported lazily
    from lienthong.registry import load_registry
    from lienthong.settings import get_settings

    sources = load_registry(get_settings().sources_dir)
    if source_id not in sources:
        err_console.print(f"[red]lỗi:[/] không có nguồn {source_id!r}; các nguồn: {', '.join(sources)}")
        err_console.print(f"[red]error:[/] unknown source {source_id!r}; known: {', '.join(sources)}")
        raise typer.Exit(2)
    return sources[source_id]


def _members_only(dataset: str) -> None:
    if dataset != "members":
        err_console.print(f"[red]lỗi:[/] mới có quy tắc làm sạch cho danh sách hội viên (members), chưa có cho "
                          f"{dataset!r} / only the members contract has cleaning rules so far")
        raise typer.Exit(2)


def _mapping(path: Path | None) -> dict[str, str] | None:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path else None


def _issue_table(counts) -> None:  # noqa: ANN001 - Counter[str]
    from lienthong.normalize import issue_text

    if not counts:
        return
    table = Table("mã / issue", "dòng / rows", "ý nghĩa / meaning", title="Đã sửa hoặc cần xem lại / What was "
                  "changed or flagged", title_justify="left")
    for code, n in _most_first(counts):
        meaning = issue_text(code)
        table.add_row(code, f"{n:,}", meaning)
    console.print(table)


def _unmapped_table(unmapped) -> None:  # noqa: ANN001 - dict[str, Counter[str]]
    """The values no shared code list knows, most frequent first: what to fix, or to add as an alias."""
    if not unmapped:
        return
    table = Table("cột / field", "giá trị / value", "dòng / rows", title="Giá trị không có trong danh mục / "
                  "values not in the code lists", title_justify="left")
    for name, counts in unmapped.items():
        for value, n in _most_first(counts)[:20]:
            table.add_row(name, value, f"{n:,}")
    console.print(table)


def _most_first(counts) -> list[tuple[str, int]]:  # noqa: ANN001 - Counter[str]
    """Most frequent first, ties by name: the same table whatever order the counts were made in."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
