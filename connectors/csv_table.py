"""Read a CSV into an all-string Arrow table: the table found below any title lines, above any footer.

pyarrow parses the records (fast, in bounded blocks); Python's csv module reads only the first and last few
dozen records, where :mod:`connectors.table_layout` looks for the header and the footer, and — only when the file
has blank lines — the whole file once more, to number rows as a spreadsheet program shows them.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import MEDIA_CSV
from connectors.limits import ReadLimits, exceeded
from connectors.row_numbers import SheetRows, store_rows
from connectors.table_layout import HEAD_ROWS, TAIL_ROWS, TableStart, find_table, footer_rows, numbering_column
from lienthong.errors import MalformedInput
from lienthong.vietnamese.encoding_detection import decode_text

DELIMITERS = (",", ";", "\t")
SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 50
_EDGE_BYTES = 256 * 1024  # the head read for the header
_TAIL_BYTES = 64 * 1024  # the tail read for the footer: its last 30 records
_BLANK_LINES = (b"\n\n", b"\n\r\n", b"\r\r")  # searched with bytes.find: a regex costs 5x on a 50 MB file


def detect_delimiter(sample: str) -> str:
    """Pick ``,``, ``;`` or tab: the one that splits the most lines into one same number (>1) of fields.

    Title and footer lines hold no delimiter, or a comma of prose ("Tân Lập, ngày 15 tháng 3"): so among the
    delimiters whose most common width covers at least half as many lines as the best one's, the widest table
    wins, then the most lines, then the order above. A one-column file gets ``,``.
    """
    lines = sample.splitlines()
    if len(sample) >= SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the sample cut the last line short
    lines = [line for line in lines[:_SNIFF_LINES] if line.strip()]
    found: dict[str, tuple[int, int]] = {}  # delimiter -> (width, lines of that width)
    for delimiter in DELIMITERS:
        widths = [w for w in (len(row) for row in csv.reader(lines, delimiter=delimiter)) if w >= 2]
        if widths:
            modal = max(set(widths), key=lambda w: (widths.count(w), w))
            found[delimiter] = (modal, widths.count(modal))
    if not found:
        return DELIMITERS[0]
    most = max(count for _, count in found.values())
    fair = [d for d in DELIMITERS if d in found and 2 * found[d][1] >= most]
    return max(fair, key=lambda d: (found[d][0], found[d][1], -DELIMITERS.index(d)))


def read_csv(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    """The CSV's table; fills in ``table`` (where the header and footer were found, when not the usual layout)
    and :data:`connectors.row_numbers.FILE_ROWS` in ``options``."""
    encoding, delimiter = options["encoding"], options["delimiter"]
    transcode = encoding not in ("utf-8", "utf-8-sig")
    if transcode:  # pyarrow reads only UTF-8; composing tone marks is done on the columns below
        data = decode_text(payload, encoding, origin=origin, compose=False).encode("utf-8")
    else:
        data = payload.removeprefix(b"\xef\xbb\xbf")  # read natively: no decoding pass over the file
    _check_first_line(data, origin)
    head = _records(data[:_EDGE_BYTES], delimiter, cut=len(data) > _EDGE_BYTES, limit=HEAD_ROWS + 4)
    pinned = options.get("table")  # a part of a file read in parts may pin only its footer (connectors.file_parts)
    start = find_table([row for _, row in head], pinned if pinned and "header" in pinned else None)
    if start is None:
        _header(data, delimiter, origin)  # raises when the csv module could not read the first line
        return pa.table({})
    if len(start.names) > limits.max_columns:
        raise exceeded(origin, "columns", "columns", "số cột", len(start.names), limits.max_columns)
    body_at = head[start.data][0] if start.data < len(head) else len(data)
    footer, body_end = _footer(data, delimiter, body_at, start, pinned)
    if start.usual and not footer:
        table = _parse(data, delimiter, origin, limits, names=None)
    else:
        names = [name or f"column_{i + 1}" for i, name in enumerate(start.names)]
        table = _parse(data[body_at:body_end], delimiter, origin, limits, names=names,
                       line_offset=data[:body_at].count(b"\n"))
        options["table"] = {"header": start.header + 1, "header_rows": start.header_rows, "skip": start.skip,
                            "footer": footer}
    table = _drop_unnamed_empty(table, start)
    rows = _record_rows(data, body_at, body_end, delimiter, start.data + 1)
    table, rows = drop_spacers(table, rows, start.data + 1, keep_empty=start.usual)
    store_rows(options, MEDIA_CSV, [rows])
    return _composed(table) if transcode else table


def header_bytes(data: bytes, delimiter: str, table: dict[str, Any]) -> bytes:
    """The raw bytes of a CSV's header rows and the column-number row under them, where ``table`` (the layout
    :func:`read_csv` found) says they are: what every later part of a file read in parts starts with."""
    first = int(table["header"]) - 1
    end = first + int(table.get("header_rows", 1)) + int(table.get("skip", 0))
    head = _records(data[:_EDGE_BYTES], delimiter, cut=len(data) > _EDGE_BYTES, limit=end + 1)
    return data[head[first][0]:head[end][0] if end < len(head) else len(data)]


def drop_spacers(table: pa.Table, rows: list[int] | None, first: int, *, keep_empty: bool = False
                 ) -> tuple[pa.Table, SheetRows]:
    """``table`` without its spacer rows (empty, or only a row number in an STT column) and without the STT
    column itself when it holds only numbers; with the file row of each remaining record.

    ``keep_empty``: a plain CSV (header on line 1, no STT column) keeps a row of empty cells as a record, to be
    quarantined as empty as before; a clerk's form (title block, STT column) has spacer rows, not records."""
    numbering = numbering_column(table.column_names)
    if numbering is not None:
        stt = table.column(numbering)
        if not pc.all(pc.fill_null(pc.match_substring_regex(stt, r"^\s*\d{1,7}\.?\s*$"), True)).as_py():
            numbering = None
    others = [c for i, c in enumerate(table.columns) if i != numbering]
    spacer = None
    if keep_empty and numbering is None:
        return table, SheetRows.from_rows(None, rows, first) if rows is not None else SheetRows(None, first,
                                                                                                 table.num_rows)
    if others and all(c.null_count for c in others):  # a column filled on every row: no row is a spacer
        for column in others:
            empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True)
            spacer = empty if spacer is None else pc.and_(spacer, empty)
    if numbering is not None:
        table = table.remove_column(numbering)
    if spacer is not None and pc.any(spacer).as_py():
        keep = pc.invert(spacer)
        table = table.filter(keep)
        positions = np.asarray(rows) if rows is not None else np.arange(first, first + len(keep))
        rows = positions[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)].tolist()
    if rows is None:
        return table, SheetRows(None, first, table.num_rows)
    return table, SheetRows.from_rows(None, rows, first)


# --- parsing -----------------------------------------------------------------------------------------------

def _parse(data: bytes, delimiter: str, origin: str, limits: ReadLimits, *, names: list[str] | None,
           line_offset: int = 0) -> pa.Table:
    """pyarrow's parse: of the whole file (its header read by pyarrow), or of the records under a header found
    elsewhere (``names`` given, ``line_offset`` lines above them, for error messages)."""
    explicit = names is not None
    names = names if explicit else _header(data, delimiter, origin)
    if not names:
        return pa.table({})
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=limits.max_line_bytes, column_names=names if explicit else None),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), null_values=[""], strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        if "straddle" in str(exc):  # one record larger than the block pyarrow parses at once
            raise exceeded(origin, "line_bytes", "bytes in one line", "số byte trong một dòng",
                           limits.max_line_bytes, limits.max_line_bytes, at_least=True) from exc
        raise _csv_error(data, delimiter, origin, exc, line_offset, header=None if explicit else True,
                         width=len(names)) from exc
    if any(t != pa.string() for t in table.schema.types):  # the header read by csv and by pyarrow disagree
        msg = f"{origin}: the CSV header could not be read consistently; check its quoting"
        raise MalformedInput(msg, message_vi=f"{origin}: không đọc được dòng tiêu đề của tệp CSV")
    return table


def _check_first_line(data: bytes, origin: str) -> None:
    head = data[: SNIFF_CHARS * 4]
    if len(data) > len(head) and not any(end in head for end in (b"\n", b"\r")):
        raise exceeded(origin, "line_bytes", "bytes in the header line", "số byte của dòng tiêu đề",
                       len(head), len(head), at_least=True)


def _header(data: bytes, delimiter: str, origin: str) -> list[str]:
    """The header line, read with Python's csv module from the file's first bytes."""
    head = data[: SNIFF_CHARS * 4]
    try:
        header = next(csv.reader(io.StringIO(head.decode("utf-8", errors="replace")), delimiter=delimiter), None)
    except csv.Error as exc:  # e.g. a header cell longer than the csv module's field limit
        raise _unreadable_header(origin, exc) from exc
    return header or []


def _unreadable_header(origin: str, exc: Exception) -> MalformedInput:
    msg = f"{origin}: the CSV header line cannot be read ({exc}); check its quoting"
    return MalformedInput(msg, message_vi=f"{origin}: không đọc được dòng tiêu đề của tệp CSV")


def _records(data: bytes, delimiter: str, *, cut: bool, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """(byte offset, cells) of the CSV records in ``data``, blank lines as empty records; ``cut``: the last line
    may be cut short and is left out. Stops at ``limit`` records, or at a record the csv module cannot read."""
    lines = data.splitlines(keepends=True)
    if cut and lines:
        lines.pop()
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    reader = csv.reader((line.decode("utf-8", errors="replace") for line in lines), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    consumed = 0
    for row in _rows_until_error(reader):
        records.append((offsets[consumed], row))
        consumed = reader.line_num
        if limit is not None and len(records) >= limit:
            break
    return records


def _footer(data: bytes, delimiter: str, body_at: int, start: TableStart, pinned: dict | None) -> tuple[int, int]:
    """(rows of footer, byte offset where it starts) among the last records; (0, len(data)) without one.

    A pinned layout without a ``footer`` key (the last part of a file read in parts) looks for one."""
    if pinned is not None and "footer" in pinned and not pinned["footer"]:
        return 0, len(data)
    tail_at = max(body_at, len(data) - _TAIL_BYTES)
    tail = _records(data[tail_at:], delimiter, cut=False)
    if tail_at > body_at and tail:
        tail = tail[1:]  # the first line may be the end of a record that began before
    tail = tail[-TAIL_ROWS:]
    width = sum(name is not None for name in start.names)
    count = int(pinned["footer"]) if pinned and pinned.get("footer") else footer_rows([row for _, row in tail], width)
    if not count or count > len(tail):
        return 0, len(data)
    return count, tail_at + tail[-count][0]


def _record_rows(data: bytes, start: int, end: int, delimiter: str, first: int) -> list[int] | None:
    """The file row of each record pyarrow reads from ``data[start:end]`` (it skips blank lines, a spreadsheet
    program shows them as rows); None when there is no blank line, so the rows follow one another from ``first``.
    Searched in place: a copy of a 50 MB body costs more than the search."""
    if not data.startswith((b"\n", b"\r"), start) and all(data.find(b, start, end) < 0 for b in _BLANK_LINES):
        return None
    body = data[start:end].decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    return [first + i for i, row in enumerate(_rows_until_error(reader)) if row]


def _drop_unnamed_empty(table: pa.Table, start: TableStart) -> pa.Table:
    """A trailing delimiter on every line (or a column the header left unnamed and nobody filled) makes an
    empty column: drop it, as for Excel."""
    names = table.column_names
    unnamed = {f"column_{i + 1}" for i, name in enumerate(start.names) if name is None} | {""}
    keep = [i for i, name in enumerate(names)
            if name not in unnamed or table.column(i).null_count < table.num_rows]
    return table.select(keep) if len(keep) < table.num_columns else table


def _composed(table: pa.Table) -> pa.Table:
    """NFC-normalise names and values: cp1258 stores tone marks as separate combining characters."""
    names = [unicodedata.normalize("NFC", name) for name in table.column_names]
    return pa.Table.from_arrays([pc.utf8_normalize(column, "NFC") for column in table.columns], names=names)


def _csv_error(data: bytes, delimiter: str, origin: str, exc: Exception, line_offset: int, *,
               header: bool | None, width: int) -> MalformedInput:
    """Find the first ragged line again with Python's csv module (only on the error path) to name it."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""), delimiter=delimiter)
    expected = None if header else width
    for row in _rows_until_error(reader):
        if not row:
            continue
        if expected is None:
            expected = len(row)
        elif len(row) != expected:
            line = reader.line_num + line_offset
            name = "tab" if delimiter == "\t" else repr(delimiter)
            msg = (
                f"{origin}: line {line} has {len(row)} fields but the header has {expected} "
                f"(delimiter {name}); fix the line or quote values that contain the delimiter"
            )
            msg_vi = (
                f"{origin}: dòng {line} có {len(row)} cột nhưng dòng tiêu đề có {expected} cột; "
                "hãy sửa dòng này hoặc đặt giá trị chứa dấu phân cách trong ngoặc kép"
            )
            return MalformedInput(msg, message_vi=msg_vi)
    msg = f"{origin}: not a readable CSV file ({exc})"
    return MalformedInput(msg, message_vi=f"{origin}: tệp CSV không đọc được")


def _rows_until_error(reader: Iterable[list[str]]) -> Iterable[list[str]]:
    """The csv module's rows up to the first it cannot read (a field over its limit, a NUL): the caller then
    falls back to pyarrow's own message."""
    try:
        yield from reader
    except csv.Error:
        return
