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
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLSX
from connectors.encoding import decode_text, detect_encoding
from lienthong.errors import MalformedInput

__all__ = [
    "detect_delimiter",
    "detect_encoding",
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

Reader = Callable[[bytes, dict[str, Any], str], pa.Table]


def resolve_read_options(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload"
) -> dict[str, Any]:
    """Fill in what the reader would otherwise detect: ``encoding`` and ``delimiter`` (CSV), ``encoding``
    (JSON, NDJSON), ``sheet`` (XLSX). Given options are kept as they are.

    Raises:
        MalformedInput: the encoding cannot be detected, or the XLSX is unreadable.
    """
    options = dict(read_options or {})
    if media_type in (MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON) and not options.get("encoding"):
        options["encoding"] = detect_encoding(payload, origin=origin)  # reads the whole payload: only when unknown
    if media_type == MEDIA_CSV and not options.get("delimiter"):
        head = payload[: _SNIFF_CHARS * 4].decode(options["encoding"], errors="replace")[:_SNIFF_CHARS]
        options["delimiter"] = detect_delimiter(head.lstrip("\ufeff"))
    if media_type == MEDIA_XLSX and not options.get("sheet"):
        options["sheet"] = _open_workbook(payload, origin).sheet_names[0]
    return options


def read_payload(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload"
) -> pa.Table:
    """Parse a payload into a table whose columns are all strings.

    Args:
        payload: the raw bytes (a file, an API page as NDJSON, a SQL chunk as NDJSON).
        media_type: one of ``connectors.base.MEDIA_*``.
        read_options: ``encoding``, ``delimiter`` (CSV), ``sheet`` (XLSX), ``records_path`` (JSON: dot-path of
            the list inside an object), ``columns`` (JSON/NDJSON: column order to keep); missing ones are
            detected.
        origin: the file, URL or query chunk, named in error messages.

    Returns:
        An Arrow table, one string column per field, nulls for empty cells.

    Raises:
        MalformedInput: the payload cannot be parsed; the message names ``origin`` and, when known, the line
            or row.
    """
    reader = _READERS.get(media_type)
    if reader is None:
        msg = f"{origin}: no reader for media type {media_type!r}; known: {', '.join(_READERS)}"
        raise MalformedInput(msg, message_vi=f"{origin}: không đọc được loại dữ liệu {media_type!r}")
    return reader(payload, resolve_read_options(payload, media_type, read_options, origin=origin), origin)


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


def records_to_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pa.Table:
    """Turn JSON-like records into an all-string table.

    Columns are ``columns`` first (in that order, null where a record lacks them), then any other key in order
    of first appearance. Strings stay as they are; numbers, booleans and nulls print as JSON (whole floats
    without ``.0``); nested objects and lists become JSON strings.
    """
    names = dict.fromkeys(columns or ())
    for record in records:
        names.update(dict.fromkeys(record))
    data = {name: pa.array([_to_text(r.get(name)) for r in records], pa.string()) for name in names}
    return pa.table(data) if data else pa.table({})


def to_ndjson(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Canonical NDJSON: one ``json.dumps(sort_keys=True, ensure_ascii=False)`` line per record, UTF-8.

    Canonical so that the same records always give the same bytes, hence the same batch hash at landing.
    """
    return "".join(_CANONICAL.encode(r) + "\n" for r in records).encode("utf-8")


# --- CSV ---------------------------------------------------------------------------------------------------

def _read_csv(payload: bytes, options: dict[str, Any], origin: str) -> pa.Table:
    encoding, delimiter = options["encoding"], options["delimiter"]
    transcode = encoding not in ("utf-8", "utf-8-sig")
    if transcode:  # pyarrow reads only UTF-8; composing tone marks is done on the columns below
        data = decode_text(payload, encoding, origin=origin, compose=False).encode("utf-8")
    else:
        data = payload.removeprefix(b"\xef\xbb\xbf")  # read natively: no decoding pass over the file
    head = data[: _SNIFF_CHARS * 4].decode("utf-8", errors="replace")
    header = next(csv.reader(io.StringIO(head), delimiter=delimiter), None)
    if not header:
        return pa.table({})
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), null_values=[""], strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _csv_error(data, delimiter, origin, exc) from exc
    if any(t != pa.string() for t in table.schema.types):  # the header read by csv and by pyarrow disagree
        msg = f"{origin}: the CSV header could not be read consistently; check its quoting"
        raise MalformedInput(msg, message_vi=f"{origin}: không đọc được dòng tiêu đề của tệp CSV")
    # a trailing delimiter on every line makes an unnamed, empty column: drop it, as for Excel
    names = table.column_names
    keep = [i for i, name in enumerate(names) if name or table.column(i).null_count < table.num_rows]
    table = table.select(keep) if len(keep) < table.num_columns else table
    return _composed(table) if transcode else table


def _composed(table: pa.Table) -> pa.Table:
    """NFC-normalise names and values: cp1258 stores tone marks as separate combining characters."""
    names = [unicodedata.normalize("NFC", name) for name in table.column_names]
    return pa.Table.from_arrays([pc.utf8_normalize(column, "NFC") for column in table.columns], names=names)


def _csv_error(data: bytes, delimiter: str, origin: str, exc: Exception) -> MalformedInput:
    """Find the first ragged line again with Python's csv module (only on the error path) to name it."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""), delimiter=delimiter)
    width = None
    for row in reader:
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


# --- XLSX --------------------------------------------------------------------------------------------------

def _open_workbook(payload: bytes, origin: str) -> python_calamine.CalamineWorkbook:
    try:
        if not payload.startswith(b"PK"):
            msg = "not a zip archive"
            raise python_calamine.CalamineError(msg)
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(payload))
    except python_calamine.CalamineError as exc:
        msg = f"{origin}: not a readable Excel (.xlsx) workbook ({exc}); open it in Excel, save it as .xlsx"
        msg_vi = f"{origin}: không đọc được tệp Excel (.xlsx); hãy mở bằng Excel và lưu lại dưới dạng .xlsx"
        raise MalformedInput(msg, message_vi=msg_vi) from exc


def _read_xlsx(payload: bytes, options: dict[str, Any], origin: str) -> pa.Table:
    workbook = _open_workbook(payload, origin)
    sheet = options["sheet"]
    try:
        rows = workbook.get_sheet_by_name(sheet).to_python()
    except python_calamine.CalamineError as exc:
        msg = f"{origin}: no sheet {sheet!r}; the workbook has {', '.join(workbook.sheet_names)}"
        raise MalformedInput(msg, message_vi=f"{origin}: không có trang tính {sheet!r}") from exc
    cells = [[_cell_text(v) for v in row] for row in rows]
    cells = [row for row in cells if any(v is not None for v in row)]  # rows Excel kept only as formatting
    if not cells:
        return pa.table({})
    header, body = cells[0], cells[1:]
    data = {}
    for i, name in enumerate(header):
        values = [row[i] if i < len(row) else None for row in body]
        if name is None and all(v is None for v in values):
            continue  # an empty column Excel kept only as formatting
        data[name or f"column_{i + 1}"] = pa.array(values, pa.string())
    return pa.table(data)


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

def _read_json(payload: bytes, options: dict[str, Any], origin: str) -> pa.Table:
    text = decode_text(payload, options["encoding"], origin=origin).lstrip("\ufeff")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(text, origin, exc, line=exc.lineno) from exc
    records = _at_path(document, options.get("records_path"), origin)
    return records_to_table(_objects(records, origin), options.get("columns"))


def _read_ndjson(payload: bytes, options: dict[str, Any], origin: str) -> pa.Table:
    text = decode_text(payload, options["encoding"], origin=origin).lstrip("\ufeff")
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _json_error(line, origin, exc, line=number) from exc
        if not isinstance(records[-1], dict):
            msg = f"{origin}: line {number} is not a JSON object; NDJSON needs one object per line"
            raise MalformedInput(msg, message_vi=f"{origin}: dòng {number} không phải là một đối tượng JSON")
    return records_to_table(records, options.get("columns"))


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
