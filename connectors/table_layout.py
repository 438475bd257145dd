"""Find the table in a grid of cells as clerks make it: title block above, header (one or two rows), a row of
column numbers, data with spacer rows, and a footer of place, date and signatures below.

Administrative spreadsheets almost never start with the header on row 1::

    HỘI NÔNG DÂN XÃ TÂN LẬP          CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
                                      Độc lập - Tự do - Hạnh phúc
            DANH SÁCH HỘI VIÊN NĂM 2026
    STT | Họ và tên | Ngày, tháng, năm sinh |     | Địa chỉ   |           | Số CCCD
        |           | Nam                   | Nữ  | Thôn/Xóm  | Xã/Phường |
    (1) | (2)       | (3)                   | (4) | (5)       | (6)       | (7)
    1   | Nguyễn Văn An | 02/03/1985        |     | Thôn 1    | Tân Lập   | 001085012345
    …
                                                  Tân Lập, ngày 15 tháng 3 năm 2026
                                                        Người lập biểu

The functions here work on rows of cell texts (``None`` for an empty cell), the same for CSV records and sheet
rows, and look only at a bounded number of rows: :data:`HEAD_ROWS` at the top for the header, :data:`TAIL_ROWS` at
the bottom for the footer. The header row is the one naming the most contract fields
(:func:`lienthong.vietnamese.header_labels.header_field`); a file whose header names none is read by generic cues
(the first row as wide as the table, of short text, not a title).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from lienthong.vietnamese.folding import match_key
from lienthong.vietnamese.header_labels import header_field

HEAD_ROWS = 30  # rows looked at for the header: a title block is a few rows, never thirty
TAIL_ROWS = 30  # rows looked at for the footer
CHILD_SEPARATOR = " / "  # "<parent> / <child>" names the columns under a merged header cell

Row = Sequence[str | None]

_NUMERIC = re.compile(r"^[\d\s.,/:+\-()]+$")  # numbers, dates, phones: data, never a header label
_NUMBERING_CELL = re.compile(r"^\(?(\d{1,3}|[A-Za-z])\)?\.?$")  # "(1)", "1", "A": a column-number row
_STT_KEYS = frozenset({"stt", "tt", "so tt", "so thu tu", "thu tu"})
_TITLE_CUES = re.compile(r"cong hoa xa hoi chu nghia|doc lap\W+tu do|^danh sach|^bao cao|^bieu\b|^mau so|"
                         r"^kem theo")
_FOOTER_CUES = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b|nguoi lap|ky,? ghi ro|^\(ky|^tong cong|^tong so|^cong\b|"
                          r"thu truong|^t/?m\.? |xac nhan|^chu tich|^truong ban|^ke toan|nguoi duyet|^noi nhan")
_TOTALS = re.compile(r"^(tong cong|tong so|cong)\b")


@dataclass(frozen=True)
class TableStart:
    """Where a table starts in a grid (0-based row indices of the rows given to :func:`find_table`).

    Attributes:
        header: the header's first row.
        header_rows: 1, or 2 for a merged parent row over sub-columns.
        skip: rows between the header and the data (a column-number row "(1) (2) (3)").
        names: one column name per cell of the widest header row (``None``: the header left it empty).
    """

    header: int
    header_rows: int
    skip: int
    names: list[str | None]

    @property
    def data(self) -> int:
        """Index of the first row after the header and its column-number row."""
        return self.header + self.header_rows + self.skip

    @property
    def usual(self) -> bool:
        """A header on the first row, one row high, data right under it: how files were read before."""
        return self.header == 0 and self.header_rows == 1 and self.skip == 0


def find_table(head: Sequence[Row], pinned: dict | None = None) -> TableStart | None:
    """Locate the header among the first rows of a grid (at most :data:`HEAD_ROWS` of them are looked at).

    Args:
        head: the first rows, cells as text or ``None``.
        pinned: a layout read before (``{"header": row, "header_rows": h, "skip": k}``, rows 1-based): taken as it
            is, so a landed payload is read again exactly as it was.

    Returns:
        The table's start, or None when no row holds anything.
    """
    rows = [_cells(row) for row in head[:HEAD_ROWS]]
    if pinned:
        header, height = int(pinned["header"]) - 1, int(pinned.get("header_rows", 1))
        return TableStart(header, height, int(pinned.get("skip", 0)), header_names(rows[header:header + height]))
    filled = [i for i, row in enumerate(rows) if any(row)]
    if not filled:
        return None
    header = _by_labels(rows) if len(filled) > 1 else None
    labelled = header is not None
    if header is None:
        header = _by_shape(rows, filled)
    height = 2 if _is_sub_header(rows, header) else 1
    below = rows[header + height] if header + height < len(rows) else []
    # "1 2 3" under a header of unknown labels may be data (a test's "a,b / 1,2"): only "(1) (2)" is taken then
    skip = 1 if is_numbering_row(below) and (labelled or all(c is None or c.strip()[:1] == "(" for c in below)) else 0
    return TableStart(header, height, skip, header_names(rows[header:header + height]))


def header_names(rows: Sequence[Row]) -> list[str | None]:
    """Column names from one header row, or two: ``"<parent> / <child>"`` under a merged parent cell (its text in
    the first cell, empties after it, as Excel exports merged cells), the plain name elsewhere."""
    rows = [[_label(cell) for cell in row] for row in rows]
    width = max((len(row) for row in rows), default=0)
    top = [*rows[0], *[None] * (width - len(rows[0]))] if rows else []
    if len(rows) < 2:
        return top
    below = [*rows[1], *[None] * (width - len(rows[1]))]
    names: list[str | None] = []
    parent: str | None = None
    for i in range(width):
        if top[i] is not None:
            parent = top[i] if _spans(top, i) else None
            names.append(f"{top[i]}{CHILD_SEPARATOR}{below[i]}" if parent and below[i] else top[i])
        elif parent is not None and below[i] is not None:
            names.append(f"{parent}{CHILD_SEPARATOR}{below[i]}")
        else:
            names.append(below[i])
    return names


def is_numbering_row(row: Row) -> bool:
    """A row of column numbers under the header: "(1) (2) (3) …", "1 2 3 …" or "A B 1 2 …"."""
    cells = [cell.strip() for cell in row if cell and cell.strip()]
    if len(cells) < 3 or not all(_NUMBERING_CELL.match(cell) for cell in cells):
        return False
    numbers = [int(n) for n in (re.sub(r"\D", "", cell) for cell in cells) if n]
    return len(numbers) >= 2 and numbers[0] == 1 and all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False))


def footer_rows(tail: Sequence[Row], width: int) -> int:
    """How many rows at the end of ``tail`` are the footer: from the topmost place-and-date, signature or totals
    row under which every row is blank or sparse (a signer's name), to the end. 0 when there is none.

    Args:
        tail: the last rows of the table (at most :data:`TAIL_ROWS` are looked at).
        width: the table's number of named columns (what makes a row sparse).
    """
    rows = [_cells(row) for row in tail[-TAIL_ROWS:]]
    cut = 0
    for back, row in enumerate(reversed(rows), start=1):
        texts = [cell for cell in row if cell]
        cue = any(_FOOTER_CUES.search(match_key(cell)) for cell in texts[:4])
        totals = any(_TOTALS.match(match_key(cell)) for cell in texts[:3])
        sparse = len(texts) <= max(2, width // 3) and (width > 3 or len(texts) < width)
        if not texts:
            continue
        if cue and (sparse or totals):
            cut = back
        elif not sparse:
            break
    return cut


def numbering_column(names: Sequence[str | None]) -> int | None:
    """The index of the column whose header says it numbers the rows (STT, TT, Số TT), if any."""
    for i, name in enumerate(names):
        if name and re.sub(r"[^a-z0-9 ]", "", match_key(name)).strip() in _STT_KEYS:
            return i
    return None


def is_spacer(row: Row, numbering: int | None) -> bool:
    """An empty row, or one holding only a row number in the numbering column."""
    for i, cell in enumerate(row):
        if cell is not None and cell.strip() and not (i == numbering and _NUMERIC.match(cell)):
            return False
    return True


# --- detection ---------------------------------------------------------------------------------------------

def _cells(row: Row) -> list[str | None]:
    return [cell if cell is not None and cell.strip() else None for cell in row]


def _label(cell: str | None) -> str | None:
    """A header cell as a column name: a line break typed inside the cell (Alt+Enter) becomes a space."""
    if cell is None or not cell.strip():
        return None
    return " ".join(cell.split()) if "\n" in cell or "\r" in cell else cell


def _by_labels(rows: list[list[str | None]]) -> int | None:
    """The row naming the most contract fields (two at least; a merged header's second row counted with it)."""
    best, best_score = None, 1
    for i, row in enumerate(rows):
        if best is not None and i > best + 2:
            break  # the rows after a header are its second row, its column numbers, then data
        if sum(cell is not None for cell in row) < 2:
            continue
        fields = {_field(cell) for cell in row if cell}
        if i + 1 < len(rows) and _is_sub_header(rows, i):
            fields |= {_field(cell) for cell in rows[i + 1] if cell}
        score = len(fields - {None})
        if score > best_score:
            best, best_score = i, score
    return best


@lru_cache(maxsize=4096)
def _field(cell: str) -> str | None:
    """:func:`header_field` of a short cell (a header label is never a paragraph), remembered: headers repeat."""
    return header_field(cell) if len(cell) <= 80 else None


def _by_shape(rows: list[list[str | None]], filled: list[int]) -> int:
    """Generic cues: the first row of short non-numeric text, not a title, at least 60% as wide as the widest row
    and with a row below it; else the first row holding anything."""
    widest = max(sum(cell is not None for cell in rows[i]) for i in filled)
    for i in filled:
        cells = [cell for cell in rows[i] if cell is not None]
        if len(cells) < 2 or len(cells) < 0.6 * widest or i == filled[-1] and len(filled) > 1:
            continue
        texts = sum(not _NUMERIC.match(cell) and len(cell) <= 80 for cell in cells)
        if texts >= 0.8 * len(cells) and not any(_TITLE_CUES.search(match_key(cell)) for cell in cells):
            return i
    return filled[0]


def _spans(top: list[str | None], i: int) -> bool:
    """Does the header cell at ``i`` stand over more than its own column (empty cells follow it)?"""
    return i + 1 < len(top) and top[i + 1] is None


def _is_sub_header(rows: list[list[str | None]], header: int) -> bool:
    """Is the row under ``header`` the second row of a merged header: short text only, some of it under an
    empty cell that continues a parent to its left, and nothing under a column the top row names alone?"""
    if header + 1 >= len(rows):
        return False
    top, below = rows[header], rows[header + 1]
    width = max(len(top), len(below))
    top = [*top, *[None] * (width - len(top))]
    below = [*below, *[None] * (width - len(below))]
    cells = [cell for cell in below if cell is not None]
    if not cells or is_numbering_row(below) or any(_NUMERIC.match(c) or len(c) > 60 for c in cells):
        return False
    under_parent: set[int] = set()
    continued = parent = False
    for i in range(width):
        if top[i] is not None:
            parent = _spans(top, i)
        if parent:
            under_parent.add(i)
            continued = continued or (top[i] is None and below[i] is not None)
    return continued and all(below[i] is None or i in under_parent for i in range(width))
