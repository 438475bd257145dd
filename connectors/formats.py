"""Read payloads (CSV, XLSX, JSON, NDJSON) into all-string Arrow tables, and write canonical NDJSON.

Every column comes out as strings, empty cells as nulls: typing is the contract's job later, and guessing
types here would lose the leading zero of ``0912345678`` or turn ``05/06`` into a date. Everything a reader
detects (encoding, delimiter, sheet) is written back into ``read_options`` by :func:`resolve_read_options`, so
a landed payload can be re-read later exactly as the connector read it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

from connectors import xlsx_guard
from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLSX
from connectors.encoding import decode_text, detect_encoding
from connectors.limits import DEFAULT_LIMITS, ReadLimits, check_table, exceeded, refuse_non_feed
from lienthong.errors import MalformedInput

__all__ = [
    "detect_delimiter",
    "detect_encoding",
    "file_row",
    "read_feed",
    "read_payload",
    "records_to_table",
    "resolve_read_options",
    "to_ndjson",
]

DELIMITERS = (",", ";", "\t")
_SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 50
_EXACT_INT = 2**53  # whole floats below this print as integers: Excel stores phones as floats

_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)  # one encoder, not one per record

Reader = Callable[[bytes, dict[str, Any], str, ReadLimits], pa.Table]

# Read option the readers fill in when a file's records are not on consecutive rows right under a header on row 1
# (blank rows, a title above the header): {"first": file row of record 0, "skipped": [[record, rows], ...]}.
# Additive: a batch's identity is its payload, and batches landed without it read as the usual layout.
FILE_ROWS = "file_rows"
_FIRST_ROW = {MEDIA_CSV: 2, MEDIA_XLSX: 2}  # the header is row 1; JSON and NDJSON have none: record 0 is 1
_BLANK_LINES = (b"\n\n", b"\n\r\n", b"\r\r")  # searched with bytes.find: a regex costs 5x on a 50 MB file


def file_row(row_no: int, media_type: str, read_options: Mapping[str, Any] | None) -> int:
    """The row number a person sees for record ``row_no`` (0-based, as staged and quarantined) of a payload.

    It is the row a spreadsheet program shows: the header and any rows above it or blank rows between records
    counted. For a CSV that is its line number when no value holds a line break (one quoted value spread over
    lines is still one row, as Excel shows it); for NDJSON the line number; for JSON the record's position.
    Every door shows this number: ``check``, the batch status, the web result page and the rejects files.
    """
    layout = (read_options or {}).get(FILE_ROWS) or {}
    first = int(layout.get("first", _FIRST_ROW.get(media_type, 1)))
    return first + row_no + sum(int(rows) for record, rows in layout.get("skipped", ()) if record <= row_no)


class _RowLayout:
    """Collects where a reader found the header and which rows it skipped, for :func:`file_row`."""

    def __init__(self) -> None:
        self.header: int | None = None  # file row of the header (0 for formats without one)
        self.records = 0
        self.skipped: dict[int, int] = {}

    def skip(self) -> None:
        if self.header is not None:  # rows above the header are counted through the header's own row
            self.skipped[self.records] = self.skipped.get(self.records, 0) + 1

    def store(self, options: dict[str, Any], media_type: str) -> None:
        first = (self.header or 0) + 1
        self.skipped = {r: n for r, n in self.skipped.items() if r < self.records}  # blank rows at the end
        if first == _FIRST_ROW.get(media_type, 1) and not self.skipped:
            options.pop(FILE_ROWS, None)
            return
        options[FILE_ROWS] = {"first": first, "skipped": [[r, n] for r, n in sorted(self.skipped.items())]}


def resolve_read_options(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload",
    limits: ReadLimits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Fill in what the reader would otherwise detect: ``encoding`` and ``delimiter`` (CSV), ``encoding``
    (JSON, NDJSON), ``sheet`` (XLSX). Given options are kept as they are.

    Raises:
        MalformedInput: the encoding cannot be detected, or the XLSX is unreadable.
    """
    _check_size(payload, limits, origin)
    options = dict(read_options or {})
    if media_type in (MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON) and not options.get("encoding"):
        options["encoding"] = detect_encoding(payload, origin=origin)  # reads the whole payload: only when unknown
    if media_type == MEDIA_CSV and not options.get("delimiter"):
        head = payload[: _SNIFF_CHARS * 4].decode(options["encoding"], errors="replace")[:_SNIFF_CHARS]
        options["delimiter"] = detect_delimiter(head.lstrip("\ufeff"))
    if media_type == MEDIA_XLSX and not options.get("sheet"):
        _require_zip(payload, origin)
        names = xlsx_guard.sheet_names(payload, limits, origin)
        if not names:
            raise xlsx_guard.unreadable(origin, "the workbook has no sheet")
        options["sheet"] = names[0]
    return options


def read_feed(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload",
    limits: ReadLimits = DEFAULT_LIMITS,
) -> tuple[pa.Table, dict[str, Any]]:
    """Read a *file* meant as a feed: :func:`read_payload`, and refuse what cannot be one (empty, only blanks or a
    BOM, a header without rows). Every door that takes a file uses it: files connector, API push, web upload,
    ``check``, ``normalize``.

    Returns:
        The table and the resolved read options (to land with the payload).

    Raises:
        LimitExceeded: a limit of ``limits``; MalformedInput: the file cannot be read or cannot be a feed.
    """
    if media_type != MEDIA_XLSX and not payload.removeprefix(b"\xef\xbb\xbf").strip():
        return refuse_non_feed(pa.table({}), origin), dict(read_options or {})  # raises: the file is empty
    options = resolve_read_options(payload, media_type, read_options, origin=origin, limits=limits)
    table = _read(payload, media_type, options, origin, limits)  # fills in FILE_ROWS where needed
    return refuse_non_feed(table, origin), options


def read_payload(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload",
    limits: ReadLimits = DEFAULT_LIMITS,
) -> pa.Table:
    """Parse a payload into a table whose columns are all strings.

    Args:
        payload: the raw bytes (a file, an API page as NDJSON, a SQL chunk as NDJSON).
        media_type: one of ``connectors.base.MEDIA_*``.
        read_options: ``encoding``, ``delimiter`` (CSV), ``sheet`` (XLSX), ``records_path`` (JSON: dot-path of
            the list inside an object), ``columns`` (JSON/NDJSON: column order to keep); missing ones are
            detected.
        origin: the file, URL or query chunk, named in error messages.
        limits: checked while reading (rows, columns, cells, a cell's bytes; XLSX: before calamine allocates).

    Returns:
        An Arrow table, one string column per field, nulls for empty cells; no two columns of the same name.

    Raises:
        LimitExceeded: the payload is larger than ``limits`` allow.
        MalformedInput: the payload cannot be parsed; the message names ``origin`` and, when known, the line
            or row.
    """
    options = resolve_read_options(payload, media_type, read_options, origin=origin, limits=limits)
    return _read(payload, media_type, options, origin, limits)


def _read(payload: bytes, media_type: str, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    reader = _READERS.get(media_type)
    if reader is None:
        msg = f"{origin}: no reader for media type {media_type!r}; known: {', '.join(_READERS)}"
        raise MalformedInput(msg, message_vi=f"{origin}: không đọc được loại dữ liệu {media_type!r}")
    return check_table(reader(payload, options, origin, limits), limits, origin)


def _check_size(payload: bytes, limits: ReadLimits, origin: str) -> None:
    if len(payload) > limits.max_bytes:
        raise exceeded(origin, "bytes", "bytes", "số byte", len(payload), limits.max_bytes)


def detect_delimiter(sample: str) -> str:
    """Pick ``,``, ``;`` or tab: the one that splits the first lines into the same number (>1) of fields.

    Ties go to the most columns, then to the order above; a one-column file gets ``,``.
    """
    lines = sample.splitlines()
    if len(sample) >= _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the sample cut the last line short
    lines = [line for line in lines[:_SNIFF_LINES] if line.strip()]
    best, best_score = DELIMITERS[0], (0.0, 1)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not widths or widths[0] < 2:
            continue
        score = (sum(w == widths[0] for w in widths) / len(widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def records_to_table(
    records: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
    limits: ReadLimits | None = None, origin: str = "payload",
) -> pa.Table:
    """Turn JSON-like records into an all-string table.

    Columns are ``columns`` first (in that order, null where a record lacks them), then any other key in order
    of first appearance. Strings stay as they are; numbers, booleans and nulls print as JSON (whole floats
    without ``.0``); nested objects and lists become JSON strings.

    Raises:
        LimitExceeded: more distinct keys than ``limits.max_columns`` (checked before building any column).
    """
    names = dict.fromkeys(columns or ())
    for record in records:
        names.update(dict.fromkeys(record))
    if limits is not None and len(names) > limits.max_columns:
        raise exceeded(origin, "columns", "distinct keys (columns)", "số cột", len(names), limits.max_columns)
    data = {name: pa.array([_to_text(r.get(name)) for r in records], pa.string()) for name in names}
    return pa.table(data) if data else pa.table({})


def to_ndjson(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Canonical NDJSON: one ``json.dumps(sort_keys=True, ensure_ascii=False)`` line per record, UTF-8.

    Canonical so that the same records always give the same bytes, hence the same batch hash at landing.
    """
    return "".join(_CANONICAL.encode(r) + "\n" for r in records).encode("utf-8")


# --- CSV ---------------------------------------------------------------------------------------------------

def _read_csv(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    encoding, delimiter = options["encoding"], options["delimiter"]
    transcode = encoding not in ("utf-8", "utf-8-sig")
    if transcode:  # pyarrow reads only UTF-8; composing tone marks is done on the columns below
        data = decode_text(payload, encoding, origin=origin, compose=False).encode("utf-8")
    else:
        data = payload.removeprefix(b"\xef\xbb\xbf")  # read natively: no decoding pass over the file
    header = _csv_header(data, delimiter, origin, limits)
    if not header:
        return pa.table({})
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=limits.max_line_bytes),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), null_values=[""], strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        if "straddle" in str(exc):  # one record larger than the block pyarrow parses at once
            raise exceeded(origin, "line_bytes", "bytes in one line", "số byte trong một dòng",
                           limits.max_line_bytes, limits.max_line_bytes, at_least=True) from exc
        raise _csv_error(data, delimiter, origin, exc) from exc
    if any(t != pa.string() for t in table.schema.types):  # the header read by csv and by pyarrow disagree
        msg = f"{origin}: the CSV header could not be read consistently; check its quoting"
        raise MalformedInput(msg, message_vi=f"{origin}: không đọc được dòng tiêu đề của tệp CSV")
    # a trailing delimiter on every line makes an unnamed, empty column: drop it, as for Excel
    names = table.column_names
    keep = [i for i, name in enumerate(names) if name or table.column(i).null_count < table.num_rows]
    table = table.select(keep) if len(keep) < table.num_columns else table
    _csv_layout(data, delimiter).store(options, MEDIA_CSV)
    return _composed(table) if transcode else table


def _csv_layout(data: bytes, delimiter: str) -> _RowLayout:
    """Where the records are: pyarrow skips blank lines, a spreadsheet program shows them as rows. Only a file
    with a blank line is read again, with the csv module, to count them."""
    layout = _RowLayout()
    if not data.startswith((b"\n", b"\r")) and not any(blank in data for blank in _BLANK_LINES):
        layout.header = 1
        return layout
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""), delimiter=delimiter)
    for number, row in enumerate(_rows_until_error(reader), start=1):
        if not row:
            layout.skip()
        elif layout.header is None:
            layout.header = number
        else:
            layout.records += 1
    return layout


def _csv_header(data: bytes, delimiter: str, origin: str, limits: ReadLimits) -> list[str]:
    """The header line, read with Python's csv module from the file's first bytes."""
    head = data[: _SNIFF_CHARS * 4]
    if len(data) > len(head) and not any(end in head for end in (b"\n", b"\r")):
        raise exceeded(origin, "line_bytes", "bytes in the header line", "số byte của dòng tiêu đề",
                       len(head), len(head), at_least=True)
    try:
        header = next(csv.reader(io.StringIO(head.decode("utf-8", errors="replace")), delimiter=delimiter), None)
    except csv.Error as exc:  # e.g. a header cell longer than the csv module's field limit
        msg = f"{origin}: the CSV header line cannot be read ({exc}); check its quoting"
        raise MalformedInput(msg, message_vi=f"{origin}: không đọc được dòng tiêu đề của tệp CSV") from exc
    if header and len(header) > limits.max_columns:
        raise exceeded(origin, "columns", "columns", "số cột", len(header), limits.max_columns)
    return header or []


def _composed(table: pa.Table) -> pa.Table:
    """NFC-normalise names and values: cp1258 stores tone marks as separate combining characters."""
    names = [unicodedata.normalize("NFC", name) for name in table.column_names]
    return pa.Table.from_arrays([pc.utf8_normalize(column, "NFC") for column in table.columns], names=names)


def _csv_error(data: bytes, delimiter: str, origin: str, exc: Exception) -> MalformedInput:
    """Find the first ragged line again with Python's csv module (only on the error path) to name it."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""), delimiter=delimiter)
    width = None
    for row in _rows_until_error(reader):
        if not row:
            continue
        if width is None:
            width = len(row)
        elif len(row) != width:
            name = "tab" if delimiter == "\t" else repr(delimiter)
            msg = (
                f"{origin}: line {reader.line_num} has {len(row)} fields but the header has {width} "
                f"(delimiter {name}); fix the line or quote values that contain the delimiter"
            )
            msg_vi = (
                f"{origin}: dòng {reader.line_num} có {len(row)} cột nhưng dòng tiêu đề có {width} cột; "
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


# --- XLSX --------------------------------------------------------------------------------------------------

_XLSX_CHUNK_ROWS = 65_536  # rows turned into Arrow at a time: Python lists of a whole sheet cost ~10x Arrow


def _require_zip(payload: bytes, origin: str) -> None:
    if not payload.startswith(b"PK"):
        raise xlsx_guard.unreadable(origin, "not a zip archive")


def _open_workbook(payload: bytes, origin: str) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(payload))
    except python_calamine.CalamineError as exc:
        raise xlsx_guard.unreadable(origin, str(exc)) from exc


def _read_xlsx(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    _require_zip(payload, origin)
    sheet = options["sheet"]
    shape = xlsx_guard.guard_xlsx(payload, sheet, limits, origin)  # before calamine allocates anything
    workbook = _open_workbook(payload, origin)
    if shape is None:
        msg = f"{origin}: no sheet {sheet!r}; the workbook has {', '.join(workbook.sheet_names)}"
        raise MalformedInput(msg, message_vi=f"{origin}: không có trang tính {sheet!r}")
    try:
        rows = workbook.get_sheet_by_name(sheet).iter_rows()
    except python_calamine.CalamineError as exc:
        raise xlsx_guard.unreadable(origin, str(exc)) from exc
    header: list[str | None] | None = None
    chunks: list[list[pa.Array]] = []
    pending: list[list[str | None]] = []
    layout = _RowLayout()
    for number, row in enumerate(rows, start=1):  # calamine starts at the sheet's row 1
        cells = [_cell_text(v) for v in row]
        if all(v is None for v in cells):
            layout.skip()
            continue  # rows Excel kept only as formatting
        if header is None:
            header, pending, layout.header = cells, [[] for _ in cells], number
            continue
        layout.records += 1
        for values, value in zip(pending, cells, strict=False):
            values.append(value)
        if len(pending[0]) >= _XLSX_CHUNK_ROWS:
            chunks.append([pa.array(values, pa.string()) for values in pending])
            pending = [[] for _ in header]
    if header is None:
        return pa.table({})
    layout.store(options, MEDIA_XLSX)
    chunks.append([pa.array(values, pa.string()) for values in pending])
    names, columns = [], []
    for i, name in enumerate(header):
        column = pa.chunked_array([chunk[i] for chunk in chunks], pa.string())
        if name is None and column.null_count == len(column):
            continue  # an empty column Excel kept only as formatting
        names.append(name or f"column_{i + 1}")  # a repeated name is kept: check_table refuses it
        columns.append(column)
    return pa.Table.from_arrays(columns, names=names)


def _cell_text(value: Any) -> str | None:
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


# --- JSON / NDJSON -----------------------------------------------------------------------------------------

def _read_json(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    text = decode_text(payload, options["encoding"], origin=origin).lstrip("\ufeff")
    document = _json_loads(text, origin, line=None)
    records = _objects(_at_path(document, options.get("records_path"), origin), origin)
    if len(records) > limits.max_rows:
        raise exceeded(origin, "rows", "records", "số bản ghi", len(records), limits.max_rows)
    return records_to_table(records, options.get("columns"), limits=limits, origin=origin)


def _read_ndjson(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    text = decode_text(payload, options["encoding"], origin=origin).lstrip("\ufeff")
    records = []
    layout = _RowLayout()
    layout.header = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            layout.skip()
            continue
        layout.records += 1
        records.append(_json_loads(line, origin, line=number))
        if not isinstance(records[-1], dict):
            msg = f"{origin}: line {number} is not a JSON object; NDJSON needs one object per line"
            raise MalformedInput(msg, message_vi=f"{origin}: dòng {number} không phải là một đối tượng JSON")
        if len(records) > limits.max_rows:
            raise exceeded(origin, "rows", "records", "số bản ghi", len(records), limits.max_rows, at_least=True)
    layout.store(options, MEDIA_NDJSON)
    return records_to_table(records, options.get("columns"), limits=limits, origin=origin)


def _json_loads(text: str, origin: str, *, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(text, origin, exc, line=exc.lineno if line is None else line) from exc
    except RecursionError as exc:  # e.g. "[" x 100,000: deeper than Python's parser goes
        where = f"line {line}: " if line else ""
        msg = (f"{origin}: {where}the JSON is nested deeper than it can be read (about "
               f"{sys.getrecursionlimit():,} levels); records are flat objects")
        msg_vi = f"{origin}: dữ liệu JSON lồng nhau quá sâu, không đọc được; mỗi bản ghi phải là một đối tượng phẳng"
        raise MalformedInput(msg, message_vi=msg_vi) from exc


def _json_error(text: str, origin: str, exc: json.JSONDecodeError, *, line: int) -> MalformedInput:
    if text.lstrip()[:1] == "<":
        msg = (
            f"{origin}: expected JSON but got HTML or XML (starts with {text.lstrip()[:40]!r}); the server "
            "may have answered with an error or login page"
        )
        msg_vi = f"{origin}: dữ liệu nhận được là trang HTML chứ không phải JSON; máy chủ có thể đang lỗi"
        return MalformedInput(msg, message_vi=msg_vi)
    msg = f"{origin}: invalid JSON at line {line}: {exc.msg}"
    return MalformedInput(msg, message_vi=f"{origin}: JSON không hợp lệ ở dòng {line}")


def _at_path(document: Any, path: str | None, origin: str) -> Any:
    """The value at a dot-path such as ``result.items`` (no path: the document itself)."""
    value = document
    for part in path.split(".") if path else ():
        if not isinstance(value, dict) or part not in value:
            keys = ", ".join(map(str, value)) if isinstance(value, dict) else type(value).__name__
            msg = f"{origin}: no {part!r} in the JSON for records_path {path!r} (found: {keys}); fix it"
            raise MalformedInput(msg, message_vi=f"{origin}: không tìm thấy {path!r} trong dữ liệu JSON")
        value = value[part]
    return value


def _objects(records: Any, origin: str) -> list[dict[str, Any]]:
    if not isinstance(records, list):
        msg = (
            f"{origin}: expected a list of records but found a JSON {type(records).__name__}; "
            "set records_path to where the list is (e.g. data or result.items)"
        )
        raise MalformedInput(msg, message_vi=f"{origin}: không tìm thấy danh sách bản ghi trong dữ liệu JSON")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            msg = f"{origin}: record {i + 1} is a JSON {type(record).__name__}, not an object"
            msg_vi = f"{origin}: bản ghi thứ {i + 1} không phải là đối tượng JSON"
            raise MalformedInput(msg, message_vi=msg_vi)
    return records


def _to_text(value: Any) -> str | None:
    kind = type(value)
    if value is None or kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is float and value.is_integer() and abs(value) < _EXACT_INT:
        return str(int(value))
    return _CANONICAL.encode(value)


_READERS: dict[str, Reader] = {
    MEDIA_CSV: _read_csv,
    MEDIA_XLSX: _read_xlsx,
    MEDIA_JSON: _read_json,
    MEDIA_NDJSON: _read_ndjson,
}
