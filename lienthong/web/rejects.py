"""Refused rows shaped for a clerk: each reason put on the cell (source column) it is about, as a table on the page
and as an Excel workbook to fix and send back.

A reason names a *contract field*; the clerk knows the *source's column*. Reasons about a field the source maps go
on that column's cell; the others (a duplicate key over several fields, a derived field, a cross-field rule) go to
an "other reasons" cell, so no reason is ever dropped. The workbook has the source's columns plus the API's three
reason columns (``lienthong.api.feeds.REASON_COLUMNS``), which an upload ignores: the fixed file goes back as it is.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from catalog import get_code_list
from lienthong.api.feeds import EXAMPLE_VALUES, REASON_COLUMNS
from lienthong.registry import SourceConfig
from lienthong.spreadsheet_safety import string_cell
from schemas import FieldKind, get_contract

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
_BAD_FONT = Font(color="9C0006", bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
_HEAD_FONT = Font(color="FFFFFF", bold=True)


@dataclass
class Cell:
    value: str
    reasons: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RejectedRow:
    """One refused row: its row as the file shows it (connectors.formats.file_row), a cell per source column, and
    reasons on no column."""

    row: int | str  # "Chi đoàn thôn 2, dòng 14" in a workbook read from several sheets (connectors.formats.row_label)
    cells: list[Cell]
    other: list[dict[str, Any]]

    @property
    def reasons(self) -> list[dict[str, Any]]:
        return [r for c in self.cells for r in c.reasons] + self.other


def shape(source: SourceConfig, rows: Iterable[tuple[int, Mapping[str, Any], Sequence[Mapping[str, Any]]]],
          *, by: str = "column") -> list[RejectedRow]:
    """``(row, record, reasons)`` → rows of cells; ``by="column"`` when records are keyed by the source's columns
    (the API's batch report), ``by="field"`` when keyed by contract fields (quarantine rows, a check)."""
    columns = list(source.mapping.values())
    column_of = dict(source.mapping)  # contract field -> source column
    out = []
    for row, record, reasons in rows:
        values = record if by == "column" else {column_of[f]: v for f, v in record.items() if f in column_of}
        cells = {c: Cell("" if values.get(c) is None else str(values.get(c))) for c in columns}
        other = []
        for reason in reasons:
            target = column_of.get(str(reason.get("column") or ""))
            (cells[target].reasons if target else other).append(dict(reason))
        out.append(RejectedRow(row, [cells[c] for c in columns], other))
    return out


def rejects_workbook(source: SourceConfig, rows: Sequence[RejectedRow]) -> bytes:
    """The refused rows as XLSX: the source's columns (text cells, so leading zeros stay; never formulas, and a
    value a spreadsheet would run is neutralised), the bad cells red with the reason as a comment, then the
    original row number and the reasons in Vietnamese and English."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Dòng lỗi"
    columns = [*source.mapping.values(), *REASON_COLUMNS]
    _header(ws, columns)
    for r, item in enumerate(rows, start=2):
        for c, cell in enumerate(item.cells, start=1):
            target = string_cell(ws.cell(r, c), cell.value)  # text, never a formula: "=HYPERLINK(…)" stays inert
            target.number_format = "@"
            if cell.reasons:
                target.fill, target.font = _BAD_FILL, _BAD_FONT
                target.comment = Comment("\n".join(x.get("message_vi", "") for x in cell.reasons), "Liên Thông")
        n = len(item.cells)
        ws.cell(r, n + 1, item.row)
        string_cell(ws.cell(r, n + 2), " | ".join(x.get("message_vi", "") for x in item.reasons))
        string_cell(ws.cell(r, n + 3), " | ".join(x.get("message_en", "") for x in item.reasons))
        for c in (n + 2, n + 3):
            ws.cell(r, c).alignment = Alignment(wrap_text=True, vertical="top")
    _widths(ws, columns, wide={len(columns) - 1: 60, len(columns): 50})
    return _save(wb)


def template_workbook(source: SourceConfig) -> bytes:
    """An empty feed for ``source``: its columns and one example row, and a guide sheet saying what each column
    holds, whether it is required, and which code list its values come from."""
    contract = get_contract(source.dataset)
    wb = Workbook()
    ws = wb.active
    ws.title = "Dữ liệu"
    columns = list(source.mapping.values())
    _header(ws, columns)
    for c, name in enumerate(source.mapping, start=1):
        cell = string_cell(ws.cell(2, c), example_value(contract.field(name)))
        cell.number_format = "@"
    _widths(ws, columns)
    guide = wb.create_sheet("Hướng dẫn")
    heads = ["Cột", "Ý nghĩa", "Bắt buộc", "Kiểu", "Danh mục", "Mô tả (English)"]
    _header(guide, heads)
    for r, (name, column) in enumerate(source.mapping.items(), start=2):
        spec = contract.field(name)
        for c, value in enumerate([column, spec.label_vi, "Có" if spec.required else "Không", spec.kind.value,
                                   spec.code_list or "", spec.description or ""], start=1):
            string_cell(guide.cell(r, c), value)
    _widths(guide, heads, wide={2: 30, 6: 60})
    return _save(wb)


# Examples by field name where the API's example per kind would contradict another field of the same row (a CCCD
# whose 4th digit says "female" next to "Nam"; joining the association on one's birthday) or say nothing (an
# address "HV0001"): the template's example row must itself pass the checks.
_FIELD_EXAMPLES = {"sex": "Nữ", "address": "Số 1 Hàng Bạc", "branch": "Chi hội 1", "joined_on": "01/01/2010",
                   "member_id": "HV0001"}


def example_value(spec: Any) -> str:
    """One plausible value of a field: the API's example per kind; for a coded field the first entry of its code
    list — its label when the list is short (sexes, religions: what a clerk types), its code when it is long (wards:
    names repeat across provinces)."""
    if spec.name in _FIELD_EXAMPLES:
        return _FIELD_EXAMPLES[spec.name]
    if spec.kind is FieldKind.CODE and spec.code_list:
        codes_list = get_code_list(spec.code_list)
        codes = sorted(codes_list.codes)
        if not codes:
            return ""
        return (codes_list.label(codes[0]) or codes[0]) if len(codes) <= 200 else codes[0]
    return EXAMPLE_VALUES.get(spec.kind, "")


def _header(ws: Any, columns: Sequence[str]) -> None:
    for c, name in enumerate(columns, start=1):
        cell = string_cell(ws.cell(1, c), name)
        cell.fill, cell.font = _HEAD_FILL, _HEAD_FONT
    ws.freeze_panes = "A2"


def _widths(ws: Any, columns: Sequence[str], wide: Mapping[int, int] | None = None) -> None:
    for c, name in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(c)].width = (wide or {}).get(c, max(12, len(name) + 4))


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
