"""One row numbering for every door: the row (and sheet) a person sees for a record of a payload.

The readers record where each file's records are — the header's row, rows skipped (blank, spacer, title, footer),
and for a workbook read sheet by sheet which records came from which sheet — in the read option
:data:`FILE_ROWS`, landed with the payload. :func:`file_row`, :func:`file_sheet` and :func:`row_label` turn a
record's position (0-based, as staged and quarantined) back into "dòng 14" or "Chi đoàn thôn 2, dòng 14", and
:func:`header_summary` tells a clerk which row was taken as the header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import MEDIA_CSV, MEDIA_XLS, MEDIA_XLSX

# Read option the readers fill in when a file's records are not on consecutive rows right under a header on row 1
# (blank rows, a title above the header): {"first": file row of record 0, "skipped": [[record, rows], ...]}; for a
# workbook read from several sheets {"sheets": [{"sheet": name, "records": n, "first": …, "skipped": …}, …]}.
# Additive: a batch's identity is its payload, and batches landed without it read as the usual layout.
FILE_ROWS = "file_rows"
_FIRST_ROW = {MEDIA_CSV: 2, MEDIA_XLSX: 2, MEDIA_XLS: 2}  # the header is row 1; JSON and NDJSON have none


@dataclass
class SheetRows:
    """Where one table's records are: the file row of each record, given as a first row and the gaps."""

    sheet: str | None
    first: int
    records: int = 0
    skipped: dict[int, int] = field(default_factory=dict)  # record -> rows skipped just before it

    @classmethod
    def from_rows(cls, sheet: str | None, rows: Sequence[int], first: int) -> SheetRows:
        """From the file row of every record (ascending); ``first`` when there is none."""
        part = cls(sheet, rows[0] if len(rows) else first, len(rows))
        for record in range(1, len(rows)):
            gap = rows[record] - rows[record - 1] - 1
            if gap:
                part.skipped[record] = gap
        return part

    def as_option(self) -> dict[str, Any]:
        return {"first": self.first, "skipped": [[r, n] for r, n in sorted(self.skipped.items())]}


def store_rows(options: dict[str, Any], media_type: str, parts: Sequence[SheetRows]) -> None:
    """Write :data:`FILE_ROWS` for ``parts`` into ``options``; nothing for the usual layout."""
    if len(parts) == 1:
        part = parts[0]
        if part.first == _FIRST_ROW.get(media_type, 1) and not part.skipped:
            options.pop(FILE_ROWS, None)
        else:
            options[FILE_ROWS] = part.as_option()
        return
    options[FILE_ROWS] = {"sheets": [{"sheet": p.sheet, "records": p.records, **p.as_option()} for p in parts]}


def _locate(row_no: int, media_type: str, read_options: Mapping[str, Any] | None) -> tuple[str | None, int]:
    layout = (read_options or {}).get(FILE_ROWS) or {}
    parts = layout.get("sheets")
    if parts:
        start = 0
        for part in parts:
            if row_no < start + int(part["records"]) or part is parts[-1]:
                return part["sheet"], _row(part, row_no - start, media_type)
            start += int(part["records"])
    return None, _row(layout, row_no, media_type)


def _row(layout: Mapping[str, Any], record: int, media_type: str) -> int:
    first = int(layout.get("first", _FIRST_ROW.get(media_type, 1)))
    return first + record + sum(int(rows) for r, rows in layout.get("skipped", ()) if r <= record)


def file_row(row_no: int, media_type: str, read_options: Mapping[str, Any] | None) -> int:
    """The row number a person sees for record ``row_no`` (0-based, as staged and quarantined) of a payload.

    It is the row a spreadsheet program shows: the header and any rows above it or blank rows between records
    counted; for a workbook read from several sheets, the row in the record's own sheet (:func:`file_sheet`).
    For a CSV that is its line number when no value holds a line break (one quoted value spread over lines is
    still one row, as Excel shows it); for NDJSON the line number; for JSON the record's position. Every door
    shows this number: ``check``, the batch status, the web result page and the rejects files.
    """
    return _locate(row_no, media_type, read_options)[1]


def file_sheet(row_no: int, media_type: str, read_options: Mapping[str, Any] | None) -> str | None:
    """The sheet record ``row_no`` came from, when the workbook was read from several sheets; else None."""
    return _locate(row_no, media_type, read_options)[0]


def row_label(row_no: int, media_type: str, read_options: Mapping[str, Any] | None) -> str:
    """Record ``row_no`` as a clerk finds it: ``"14"``, or ``"Chi đoàn thôn 2, dòng 14"`` in a workbook read
    from several sheets."""
    return str(row_shown(row_no, media_type, read_options))


def row_shown(row_no: int, media_type: str, read_options: Mapping[str, Any] | None) -> int | str:
    """As :func:`row_label`, but the bare row number stays a number (a spreadsheet cell, a JSON field)."""
    return shown_row(*_locate(row_no, media_type, read_options))


def shown_row(sheet: str | None, row: int) -> int | str:
    """The row number alone, or ``"<sheet>, dòng <row>"`` when the file was read from several sheets."""
    return row if sheet is None else f"{sheet}, dòng {row}"


def header_summary(read_options: Mapping[str, Any] | None, media_type: str) -> str | None:
    """Which row was taken as the header, for the clerk: ``"Dòng tiêu đề: dòng 5 (trang 'Chi đoàn thôn 1')"``;
    several sheets one after the other. None for formats without a header (JSON, NDJSON)."""
    options = read_options or {}
    if media_type not in _FIRST_ROW:
        return None
    tables = options.get("tables") or {}
    sheets = options.get("sheets") or ([options["sheet"]] if options.get("sheet") else [None])
    parts = []
    for sheet in sheets:
        table = (tables.get(sheet) if sheet is not None and "sheets" in options else options.get("table")) or {}
        header, height = int(table.get("header", 1)), int(table.get("header_rows", 1))
        rows = f"dòng {header}" if height == 1 else f"dòng {header}–{header + height - 1}"
        parts.append(rows if sheet is None else f"{rows} (trang '{sheet}')")
    return "Dòng tiêu đề: " + ", ".join(parts)
