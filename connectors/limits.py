"""How much of a file a reader accepts, and the refusals that say so before anything is landed.

A file comes from outside: a clerk's export, a member organisation's folder, an upload over the API. The readers
of :mod:`connectors.formats` check these limits *while* they read (the XLSX pre-scan of
:mod:`connectors.xlsx_guard` before python-calamine allocates anything), so the largest national export and a
1,765-byte workbook claiming a cell at ``XFD1048576`` both cost bounded memory and end in a clean
:class:`LimitExceeded`, never an abort of the process.

:func:`refuse_non_feed` is the other half: a file that parses but cannot be a feed (empty, a header and no rows,
two columns of the same name) is refused by every door — files connector, API push, web upload, ``check``,
``normalize`` — before anything is written.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.errors import MalformedInput

MiB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """Hard limits of one file, sized for the largest real export (an Excel sheet is at most 1,048,576 rows).

    Attributes:
        max_bytes: the payload itself (a files-connector file is refused by its size before it is read).
        max_rows: data rows (the header is not counted).
        max_columns: columns; for XLSX the width of the sheet's used range.
        max_cells: rows × columns; for XLSX the area of the used range, which python-calamine allocates densely.
        max_cell_bytes: one cell (Excel itself stops at 32,767 characters).
        max_line_bytes: one CSV record (the block pyarrow parses at once).
        max_uncompressed_bytes: XLSX: all zip members together, as really inflated (not as declared).
        max_compression_ratio: XLSX: uncompressed / compressed size of a member larger than ``ratio_grace_bytes``
            (Apache POI refuses above 100 too: a zip bomb, not a spreadsheet).
        ratio_grace_bytes: members smaller than this are harmless whatever their ratio.
        max_zip_members: XLSX: entries of the zip.
    """

    max_bytes: int = 1024 * MiB
    max_rows: int = 2_000_000
    max_columns: int = 1_000
    max_cells: int = 30_000_000
    max_cell_bytes: int = 4 * MiB
    max_line_bytes: int = 16 * MiB
    max_uncompressed_bytes: int = 1024 * MiB
    max_compression_ratio: float = 100.0
    ratio_grace_bytes: int = 4 * MiB
    max_zip_members: int = 2_000


DEFAULT_LIMITS = ReadLimits()


class LimitExceeded(MalformedInput):
    """A file is larger than a :class:`ReadLimits` allows; ``limit`` names which one (``rows``, ``cells`` …).

    The API answers it with 413, other malformed input with 422.
    """

    def __init__(self, message: str, *, message_vi: str, limit: str, source_id: str | None = None) -> None:
        super().__init__(message, message_vi=message_vi, source_id=source_id)
        self.limit = limit


def exceeded(origin: str, limit: str, what_en: str, what_vi: str, value: int | float, maximum: int | float, *,
             at_least: bool = False) -> LimitExceeded:
    """A :class:`LimitExceeded` saying what, where, how much and what to do.

    Args:
        origin: the file, named first.
        limit: the :class:`ReadLimits` field without ``max_`` (``rows``, ``columns`` …).
        what_en: e.g. ``"data rows"``; what_vi: the same in Vietnamese (``"số dòng dữ liệu"``).
        value: what the file has; maximum: what is allowed.
        at_least: the reader stopped counting at the limit, so ``value`` is a lower bound.
    """
    shown, top = f"{value:,.0f}", f"{maximum:,.0f}"
    more_en, more_vi = ("at least ", "ít nhất ") if at_least else ("", "")
    msg = (f"{origin}: {what_en}: {more_en}{shown}, above the limit of {top}; split the file into smaller ones "
           "(or ask the hub's operator whether the limit should be raised)")
    msg_vi = (f"{origin}: {what_vi}: {more_vi}{shown.replace(',', '.')}, vượt giới hạn {top.replace(',', '.')}; "
              "hãy chia thành các tệp nhỏ hơn")
    return LimitExceeded(msg, message_vi=msg_vi, limit=limit)


def check_table(table: pa.Table, limits: ReadLimits, origin: str, *, nul_free: bool = False) -> pa.Table:
    """Every limit a parsed table can be held to, and its column names: nothing that reaches a stage breaks it.

    Checks rows, columns, cells, the longest cell, NUL characters (PostgreSQL refuses them in text) and column
    names that are the same once trimmed and NFC-normalised (one would silently replace the other).
    ``nul_free``: the caller knows no cell can hold NUL (a CSV payload without a 0 byte), so the columns are not
    searched for it.

    Returns:
        ``table`` unchanged.

    Raises:
        LimitExceeded: a size limit; MalformedInput: NUL characters or duplicate column names.
    """
    if table.num_rows > limits.max_rows:
        raise exceeded(origin, "rows", "data rows", "số dòng dữ liệu", table.num_rows, limits.max_rows)
    if table.num_columns > limits.max_columns:
        raise exceeded(origin, "columns", "columns", "số cột", table.num_columns, limits.max_columns)
    if table.num_rows * table.num_columns > limits.max_cells:
        raise exceeded(origin, "cells", "cells (rows × columns)", "số ô (dòng × cột)",
                       table.num_rows * table.num_columns, limits.max_cells)
    refuse_duplicate_columns(table.column_names, origin)
    for name, column in zip(table.column_names, table.columns, strict=True):
        _check_name(name, origin)
        if not pa.types.is_string(column.type) or column.null_count == len(column):
            continue
        longest = pc.max(pc.binary_length(column)).as_py() or 0
        if longest > limits.max_cell_bytes:
            raise exceeded(origin, "cell_bytes", f"bytes in one cell of column {name!r}",
                           f"số byte trong một ô của cột {name!r}", longest, limits.max_cell_bytes)
        if not nul_free and pc.any(pc.match_substring(column, "\x00")).as_py():
            row = pc.index(pc.match_substring(column, "\x00"), True).as_py() + 1
            raise _nul(origin, f"column {name!r}, data row {row}", f"cột {name!r}, dòng dữ liệu {row}")
    return table


def _check_name(name: str, origin: str) -> None:
    if "\x00" in name:
        raise _nul(origin, "the header", "dòng tiêu đề")


def _nul(origin: str, where_en: str, where_vi: str) -> MalformedInput:
    msg = (f"{origin}: {where_en} holds a NUL character (byte 0), which no text field may contain; the file is "
           "probably binary or saved in another encoding: save it again as CSV UTF-8 or .xlsx")
    msg_vi = (f"{origin}: {where_vi} có ký tự NUL (byte 0), không được phép trong dữ liệu; tệp có thể bị hỏng "
              "hoặc lưu sai bảng mã: hãy lưu lại dưới dạng CSV UTF-8 hoặc .xlsx")
    return MalformedInput(msg, message_vi=msg_vi)


def column_key(name: str) -> str:
    """What makes two headers the same column: NFC, no BOM, no surrounding spaces (as the map stage compares)."""
    return unicodedata.normalize("NFC", name.replace("\ufeff", "")).strip()


def refuse_duplicate_columns(names: list[str], origin: str) -> None:
    """Two columns with the same header (once trimmed and NFC-normalised) would make one silently win.

    Raises:
        MalformedInput: naming the repeated headers.
    """
    counts = Counter(column_key(n) for n in names)
    repeated = [n for n, c in counts.items() if c > 1]
    if repeated:
        shown = ", ".join(repr(n) for n in repeated[:10])
        msg = (f"{origin}: the header repeats column {shown}; each column needs its own name: rename or "
               "delete the repeated column")
        msg_vi = f"{origin}: dòng tiêu đề có cột trùng tên {shown}; hãy đổi tên hoặc xoá cột bị lặp"
        raise MalformedInput(msg, message_vi=msg_vi)


def refuse_non_feed(table: pa.Table, origin: str) -> pa.Table:
    """Refuse a parsed file that cannot be a feed: no columns at all, or a header without data rows.

    Only for files (a clerk's or an organisation's export): an API page or SQL chunk may be empty.

    Returns:
        ``table`` unchanged.

    Raises:
        MalformedInput: the file is empty, or has a header and no rows.
    """
    if table.num_columns == 0:
        msg = f"{origin}: the file is empty (no header, no rows); check you sent the right file"
        msg_vi = f"{origin}: tệp rỗng (không có dòng tiêu đề và dữ liệu); hãy kiểm tra lại tệp"
        raise MalformedInput(msg, message_vi=msg_vi)
    if table.num_rows == 0:
        msg = (f"{origin}: the file has a header ({', '.join(table.column_names[:8])}) but no data rows; "
               "check you sent the right file (or the right sheet)")
        msg_vi = (f"{origin}: tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào; hãy kiểm tra lại tệp "
                  "(hoặc trang tính)")
        raise MalformedInput(msg, message_vi=msg_vi)
    return table
