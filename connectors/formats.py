"""Read payloads (CSV, XLSX, XLS, JSON, NDJSON) into all-string Arrow tables, and write canonical NDJSON.

Every column comes out as strings, empty cells as nulls: typing is the contract's job later, and guessing
types here would lose the leading zero of ``0912345678`` or turn ``05/06`` into a date. Everything a reader
detects (encoding, delimiter, the sheets read, where each table's header and footer are) is written back into
``read_options``, so a landed payload can be re-read later exactly as the connector read it. A CSV or a sheet is
read from its header down, below any title block and above any footer (:mod:`connectors.table_layout`); a
workbook from every sheet holding a table (:mod:`connectors.spreadsheet`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLS, MEDIA_XLSX
from connectors.csv_table import SNIFF_CHARS, detect_delimiter, read_csv
from connectors.limits import DEFAULT_LIMITS, ReadLimits, check_table, exceeded, refuse_non_feed
from connectors.row_numbers import (
    FILE_ROWS,
    SheetRows,
    file_row,
    file_sheet,
    header_summary,
    row_label,
    row_shown,
    shown_row,
    store_rows,
)
from connectors.spreadsheet import read_workbook, sheets_not_read
from lienthong.errors import MalformedInput
from lienthong.vietnamese.encoding_detection import decode_text, detect_encoding

__all__ = [
    "FILE_ROWS",
    "detect_delimiter",
    "detect_encoding",
    "file_row",
    "file_sheet",
    "header_summary",
    "read_feed",
    "read_payload",
    "read_resolved",
    "records_to_table",
    "resolve_read_options",
    "row_label",
    "row_shown",
    "skipped_sheets",
    "shown_row",
    "to_ndjson",
]

_EXACT_INT = 2**53  # whole floats below this print as integers

_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)  # one encoder, not one per record

Reader = Callable[[bytes, dict[str, Any], str, ReadLimits], pa.Table]
SPREADSHEETS = (MEDIA_XLSX, MEDIA_XLS)


def resolve_read_options(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload",
    limits: ReadLimits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Every read option the reader would otherwise detect: ``encoding`` and ``delimiter`` (CSV), ``encoding``
    (JSON, NDJSON), ``sheet`` or ``sheets`` (workbooks), where a table's header and footer are, and the rows
    skipped. Given options are kept as they are. Reads the payload.

    Raises:
        MalformedInput: the encoding cannot be detected, or the payload is unreadable.
    """
    options = _detected(payload, media_type, read_options, origin, limits)
    _read(payload, media_type, options, origin, limits)
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
    if media_type not in SPREADSHEETS and not payload.removeprefix(b"\xef\xbb\xbf").strip():
        return refuse_non_feed(pa.table({}), origin), dict(read_options or {})  # raises: the file is empty
    table, options = read_resolved(payload, media_type, read_options, origin=origin, limits=limits)
    return refuse_non_feed(table, origin), options


def read_resolved(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload",
    limits: ReadLimits = DEFAULT_LIMITS,
) -> tuple[pa.Table, dict[str, Any]]:
    """:func:`read_payload`, and the read options as resolved (detected, and the layout the reader found)."""
    options = _detected(payload, media_type, read_options, origin, limits)
    return _read(payload, media_type, options, origin, limits), options  # _read fills in the layout


def read_payload(
    payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *, origin: str = "payload",
    limits: ReadLimits = DEFAULT_LIMITS,
) -> pa.Table:
    """Parse a payload into a table whose columns are all strings.

    Args:
        payload: the raw bytes (a file, an API page as NDJSON, a SQL chunk as NDJSON).
        media_type: one of ``connectors.base.MEDIA_*``.
        read_options: ``encoding``, ``delimiter`` (CSV), ``sheet`` (a workbook's one sheet to read) or ``sheets``,
            ``table``/``tables`` (where the header and footer were found), ``records_path`` (JSON: dot-path of
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
    options = _detected(payload, media_type, read_options, origin, limits)
    return _read(payload, media_type, options, origin, limits)


def _detected(payload: bytes, media_type: str, read_options: Mapping[str, Any] | None, origin: str,
              limits: ReadLimits) -> dict[str, Any]:
    """The given options and the encoding and delimiter of a text payload, detected when not given."""
    if len(payload) > limits.max_bytes:
        raise exceeded(origin, "bytes", "bytes", "số byte", len(payload), limits.max_bytes)
    options = dict(read_options or {})
    if media_type in (MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON) and not options.get("encoding"):
        options["encoding"] = detect_encoding(payload, origin=origin)  # reads the whole payload: only when unknown
    if media_type == MEDIA_CSV and not options.get("delimiter"):
        head = payload[: SNIFF_CHARS * 4].decode(options["encoding"], errors="replace")[:SNIFF_CHARS]
        options["delimiter"] = detect_delimiter(head.lstrip("\ufeff"))
    return options


def skipped_sheets(payload: bytes, media_type: str, read_options: Mapping[str, Any], *, origin: str = "payload",
                   limits: ReadLimits = DEFAULT_LIMITS) -> list[str]:
    """The sheets of a workbook that reading it left out (none for other formats), for the clerk."""
    if media_type not in SPREADSHEETS:
        return []
    return sheets_not_read(payload, dict(read_options), limits, origin)


def _read(payload: bytes, media_type: str, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    reader = _READERS.get(media_type)
    if reader is None:
        msg = f"{origin}: no reader for media type {media_type!r}; known: {', '.join(_READERS)}"
        raise MalformedInput(msg, message_vi=f"{origin}: không đọc được loại dữ liệu {media_type!r}")
    # CSV has no escapes: a NUL in a cell is a 0 byte in the payload (one memchr instead of a search per column).
    # Not so for JSON ("\u0000") nor UTF-16, whose every other byte is 0.
    nul_free = media_type == MEDIA_CSV and b"\x00" not in payload
    return check_table(reader(payload, options, origin, limits), limits, origin, nul_free=nul_free)


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
    records, rows = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rows.append(number)
        records.append(_json_loads(line, origin, line=number))
        if not isinstance(records[-1], dict):
            msg = f"{origin}: line {number} is not a JSON object; NDJSON needs one object per line"
            raise MalformedInput(msg, message_vi=f"{origin}: dòng {number} không phải là một đối tượng JSON")
        if len(records) > limits.max_rows:
            raise exceeded(origin, "rows", "records", "số bản ghi", len(records), limits.max_rows, at_least=True)
    store_rows(options, MEDIA_NDJSON, [SheetRows.from_rows(None, rows, 1)])
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


def _read_workbook(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    return read_workbook(payload, options, origin, limits, MEDIA_XLSX)


def _read_xls(payload: bytes, options: dict[str, Any], origin: str, limits: ReadLimits) -> pa.Table:
    return read_workbook(payload, options, origin, limits, MEDIA_XLS)


_READERS: dict[str, Reader] = {
    MEDIA_CSV: read_csv,
    MEDIA_XLSX: _read_workbook,
    MEDIA_XLS: _read_xls,
    MEDIA_JSON: _read_json,
    MEDIA_NDJSON: _read_ndjson,
}
