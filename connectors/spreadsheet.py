"""Read a workbook — ``.xlsx`` or old ``.xls`` (Excel 97-2003) — into one all-string Arrow table.

Every sheet holding a table is read (a member list often has one sheet per branch: "Chi đoàn thôn 1",
"Chi đoàn thôn 2", …); each table is found below its title block by :mod:`connectors.table_layout`, the sheets
are aligned by column name, and when more than one sheet has data and no column names the branch, a ``Chi hội``
column holds the sheet's name. Which sheets were read, and where each header was, is written into the read
options, so the payload is read again exactly so, and rows are numbered per sheet
(:mod:`connectors.row_numbers`).

An ``.xlsx`` goes through :mod:`connectors.xlsx_guard` before python-calamine allocates anything. An ``.xls`` is
an OLE2 compound file (magic ``D0 CF 11 E0``) that the zip pre-scan cannot apply to; its grid is bounded by the
format itself (65,536 rows × 256 columns), and the sheet's size is checked against the limits before its rows are
converted. A file is read by what its bytes are, not by its name: clerks rename ``.xls`` to ``.xlsx`` and back.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import pyarrow as pa
import python_calamine

from connectors import xlsx_guard
from connectors.base import MEDIA_XLSX
from connectors.csv_table import drop_spacers
from connectors.limits import ReadLimits, exceeded
from connectors.row_numbers import SheetRows, store_rows
from connectors.table_layout import HEAD_ROWS, TAIL_ROWS, TableStart, find_table, footer_rows, is_spacer
from lienthong.errors import MalformedInput
from lienthong.vietnamese.header_labels import header_field

SHEET_COLUMN = "Chi hội"  # the sheet's name, on each row, when a workbook's branches are its sheets
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXACT_INT = 2**53  # whole floats below this print as integers: Excel stores phones and CCCD as floats
_CHUNK_ROWS = 65_536  # rows turned into Arrow at a time: Python lists of a whole sheet cost ~10x Arrow
_XLS_ROWS, _XLS_COLUMNS = 65_536, 256


def read_workbook(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits,
                  media_type: str = MEDIA_XLSX) -> pa.Table:
    """The table of the sheet ``options["sheet"]``, or of every sheet holding one (``options["sheets"]`` when
    given: a landed payload read again). Fills in ``sheet`` or ``sheets``/``tables``, ``table``, ``sheet_column``
    and :data:`connectors.row_numbers.FILE_ROWS`.

    A sheet holds a table when it has a header of two named columns or more and a row under it; a workbook
    without any such sheet is read from its first sheet with a header, as before (a one-column list). When some
    tables name contract fields by their usual labels (a member list), only those are read: a guide sheet
    ("Cột | Ý nghĩa | …") or a summary beside them is not data, and is named to the clerk as not read.

    Raises:
        LimitExceeded: a limit of ``limits`` (sheet by sheet, and the rows of all sheets together).
        MalformedInput: not a workbook, a password-protected one, no such sheet.
    """
    xlsx = _is_xlsx(payload, origin)
    named = options.get("sheet")
    wanted = [named] if named else list(options.get("sheets") or ())
    guarded: set[str] = set()
    if xlsx:  # the pre-scan runs before calamine opens the workbook (its shared strings are read at opening)
        names = xlsx_guard.sheet_names(payload, limits, origin)
        first = wanted[0] if wanted else names[0] if names else None
        if first is None:
            raise xlsx_guard.unreadable(origin, "the workbook has no sheet")
        if xlsx_guard.guard_xlsx(payload, first, limits, origin) is None:
            raise _no_sheet(origin, first, names)
        guarded.add(first)
    workbook = _open(payload, origin)
    explicit = bool(wanted)
    if not explicit:
        wanted = [m.name for m in workbook.sheets_metadata
                  if str(m.visible).endswith(".Visible") and str(m.typ).endswith(".WorkSheet")]
    pinned = options.get("tables") or {}
    read: list[_Sheet] = []
    fallback: _Sheet | None = None
    rows = 0
    for sheet in wanted:
        if sheet not in workbook.sheet_names:
            raise _no_sheet(origin, sheet, workbook.sheet_names)
        if xlsx and sheet not in guarded:
            xlsx_guard.guard_xlsx(payload, sheet, limits, origin)
        found = _read_sheet(workbook, sheet, options.get("table") if named else pinned.get(sheet), origin, limits,
                            xlsx)
        if found is None:
            continue
        if not explicit and not found.is_table:
            fallback = fallback or found  # a cover page, a one-column summary: read only if nothing else is
            continue
        read.append(found)
        rows += found.table.num_rows
        if rows > limits.max_rows:
            raise exceeded(origin, "rows", "data rows (all sheets)", "số dòng dữ liệu (mọi trang)", rows,
                           limits.max_rows, at_least=True)
    if not read and fallback is not None:
        read = [fallback]
    if len(read) > 1 and any(s.labelled for s in read):
        read = [s for s in read if s.labelled]  # beside member lists, a guide or a summary is not data
    return _combine(read, options, media_type) if read else pa.table({})


def sheets_not_read(payload: bytes, options: dict[str, Any], limits: ReadLimits, origin: str) -> list[str]:
    """The workbook's sheets a read with ``options`` left out (a cover page, a hidden list, an empty sheet), to
    tell the clerk; nothing is dropped silently."""
    read = {options["sheet"]} if options.get("sheet") else set(options.get("sheets") or ())
    names = xlsx_guard.sheet_names(payload, limits, origin) if _is_xlsx(payload, origin) else \
        _open(payload, origin).sheet_names
    return [name for name in names if name not in read]


class _Sheet:
    """One sheet's table, the file row of each record, and where its header and footer were (None: usual)."""

    def __init__(self, name: str, table: pa.Table, rows: SheetRows, layout: dict | None, named: int) -> None:
        self.name, self.table, self.rows, self.layout = name, table, rows, layout
        self.is_table = named >= 2 and table.num_rows > 0
        self.labelled = sum(header_field(c) is not None for c in table.column_names) >= 2


def _combine(read: list[_Sheet], options: dict[str, Any], media_type: str) -> pa.Table:
    for key in ("sheet", "sheets", "tables", "table", "sheet_column"):
        options.pop(key, None)
    if len(read) == 1:
        only = read[0]
        options["sheet"] = only.name
        if only.layout:
            options["table"] = only.layout
        only.rows.sheet = None
        store_rows(options, media_type, [only.rows])
        return only.table
    options["sheets"] = [s.name for s in read]
    tables = {s.name: s.layout for s in read if s.layout}
    if tables:
        options["tables"] = tables
    store_rows(options, media_type, [s.rows for s in read])
    table = pa.concat_tables([s.table for s in read], promote_options="default")  # the union of the columns
    if not any(header_field(name) == "branch" for name in table.column_names):
        names = pa.array([s.name for s in read for _ in range(s.table.num_rows)], pa.string())
        table = table.append_column(SHEET_COLUMN, names)
        options["sheet_column"] = SHEET_COLUMN
    return table


def _read_sheet(workbook: python_calamine.CalamineWorkbook, sheet: str, pin: dict | None, origin: str,
                limits: ReadLimits, xlsx: bool) -> _Sheet | None:
    """One sheet's table below its title block and above its footer; None when the sheet holds nothing."""
    try:
        grid = workbook.get_sheet_by_name(sheet)
        if not xlsx:
            _check_xls_shape(grid, limits, origin)
        rows: Iterator[list[Any]] = iter(grid.iter_rows())
    except python_calamine.CalamineError as exc:
        raise _unreadable(origin, str(exc), xlsx) from exc
    head = [[cell_text(v) for v in row] for row in islice(rows, HEAD_ROWS + 4)]
    start = find_table(head, pin)
    if start is None:
        return None
    named = sum(name is not None for name in start.names)
    body = _Body(len(start.names))
    tail: deque[tuple[int, list[str | None]]] = deque()
    for number, cells in _numbered(head, rows, start.data):
        tail.append((number, cells))
        if len(tail) > TAIL_ROWS:
            body.add(*tail.popleft())
    footer = int(pin.get("footer", 0)) if pin else footer_rows([cells for _, cells in tail], named)
    for number, cells in list(tail)[:len(tail) - footer]:
        body.add(number, cells)
    table, sheet_rows = drop_spacers(body.table(start), body.rows, start.data + 1)
    sheet_rows.sheet = sheet
    layout = None if start.usual and not footer else {
        "header": start.header + 1, "header_rows": start.header_rows, "skip": start.skip, "footer": footer}
    return _Sheet(sheet, table, sheet_rows, layout, named)


def _numbered(head: list[list[str | None]], rest: Iterator[list[Any]], start: int
              ) -> Iterator[tuple[int, list[str | None]]]:
    """(sheet row, cells) from ``start`` on: calamine starts at the sheet's row 1."""
    for index in range(start, len(head)):
        yield index + 1, head[index]
    for number, row in enumerate(rest, start=len(head) + 1):
        yield number, [cell_text(v) for v in row]


class _Body:
    """Rows of one sheet gathered column by column, in Arrow chunks; empty rows left out, rows numbered."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.chunks: list[list[pa.Array]] = []
        self.pending: list[list[str | None]] = [[] for _ in range(width)]
        self.rows: list[int] = []

    def add(self, number: int, cells: list[str | None]) -> None:
        if is_spacer(cells, None):
            return  # rows Excel kept only as formatting, blank spacer rows
        self.rows.append(number)
        for values, value in zip(self.pending, cells, strict=False):
            values.append(value)
        for values in self.pending[len(cells):]:
            values.append(None)
        if len(self.rows) % _CHUNK_ROWS == 0:
            self._flush()

    def _flush(self) -> None:
        self.chunks.append([pa.array(values, pa.string()) for values in self.pending])
        self.pending = [[] for _ in range(self.width)]

    def table(self, start: TableStart) -> pa.Table:
        self._flush()
        columns, names = [], []
        for i, name in enumerate(start.names):
            column = pa.chunked_array([chunk[i] for chunk in self.chunks], pa.string())
            if name is None and column.null_count == len(column):
                continue  # an empty column Excel kept only as formatting
            columns.append(column)
            names.append(name or f"column_{i + 1}")  # a repeated name is kept: check_table refuses it
        return pa.Table.from_arrays(columns, names=names)


def cell_text(value: Any) -> str | None:
    """A cell as text: whole numbers without ``.0`` or exponent (a CCCD stored as 1.23456789012E+11 gives its 12
    digits), dates as ISO ``yyyy-mm-dd`` (the date cleaner reads them beside dd/mm/yyyy text)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < _EXACT_INT else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- the file ----------------------------------------------------------------------------------------------

def _is_xlsx(payload: bytes, origin: str) -> bool:
    """True for a zip (``.xlsx``, ``.xlsm``), False for an OLE2 ``.xls``; refuses anything else by name."""
    if payload.startswith(b"PK"):
        return True
    if payload.startswith(OLE2_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in payload[:1 << 20]:  # an encrypted .xlsx is wrapped in OLE2
            raise _password(origin)
        return False
    start = payload[:512].lstrip().lower()
    if start.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta")):
        msg = (f"{origin}: this 'Excel' file is really a web page or XML export, not a workbook; open it in Excel "
               "and save it as .xlsx (Excel Workbook)")
        msg_vi = (f"{origin}: tệp này thực chất là trang web/XML chứ không phải bảng tính Excel; hãy mở bằng "
                  "Excel rồi lưu lại dưới dạng .xlsx")
        raise MalformedInput(msg, message_vi=msg_vi)
    raise xlsx_guard.unreadable(origin, "neither a zip (.xlsx) nor an OLE2 (.xls) file")


def _open(payload: bytes, origin: str) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(payload))
    except python_calamine.PasswordError as exc:
        raise _password(origin) from exc
    except python_calamine.CalamineError as exc:
        raise _unreadable(origin, str(exc), payload.startswith(b"PK")) from exc


def _check_xls_shape(grid: python_calamine.CalamineSheet, limits: ReadLimits, origin: str) -> None:
    height, width = grid.height, grid.width
    if height > limits.max_rows + 1:
        raise exceeded(origin, "rows", "rows in the sheet", "số dòng của trang tính", height, limits.max_rows + 1)
    if width > limits.max_columns:
        raise exceeded(origin, "columns", "columns in the sheet", "số cột của trang tính", width, limits.max_columns)
    if height * width > limits.max_cells:
        raise exceeded(origin, "cells", "cells in the sheet", "số ô của trang tính", height * width, limits.max_cells)


def _unreadable(origin: str, why: str, xlsx: bool) -> MalformedInput:
    if xlsx:
        return xlsx_guard.unreadable(origin, why)
    msg = f"{origin}: not a readable Excel 97-2003 (.xls) workbook ({why}); open it in Excel, save it as .xlsx"
    msg_vi = f"{origin}: không đọc được tệp Excel (.xls); hãy mở bằng Excel và lưu lại dưới dạng .xlsx"
    return MalformedInput(msg, message_vi=msg_vi)


def _password(origin: str) -> MalformedInput:
    msg = f"{origin}: the workbook is password-protected; remove the password in Excel and send it again"
    return MalformedInput(msg, message_vi=f"{origin}: tệp Excel có mật khẩu; hãy bỏ mật khẩu rồi gửi lại")


def _no_sheet(origin: str, sheet: str, names: Iterable[str]) -> MalformedInput:
    msg = f"{origin}: no sheet {sheet!r}; the workbook has {', '.join(names)}"
    return MalformedInput(msg, message_vi=f"{origin}: không có trang tính {sheet!r}")
