"""Encoders of records for the wire: JSON values, CSV and NDJSON lines, chunk by chunk so nothing is held whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from typing import Any

import anyio

from lienthong.spreadsheet_safety import neutralise

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: json_value(v) for k, v in record.items()}


_JSON = json.JSONEncoder(ensure_ascii=False, default=json_value, separators=(",", ":"))


def ndjson_lines(records: list[dict[str, Any]]) -> bytes:
    """One JSON object per line, each line ended."""
    dumps = _JSON.encode
    return ("\n".join(dumps(r) for r in records) + "\n").encode() if records else b""


def csv_header(columns: list[str]) -> bytes:
    """The header row, after a BOM so Excel, which clerks open CSVs with, shows Vietnamese correctly."""
    return ("\ufeff" + _csv_text([columns])).encode()


def csv_rows(columns: list[str], records: list[dict[str, Any]]) -> bytes:
    """CSV rows of ``records``; a tombstone has empty cells for the fields it no longer carries.

    A text cell a spreadsheet would run as a formula is neutralised (:mod:`lienthong.spreadsheet_safety`).
    """
    return _csv_text([[_cell(r.get(c)) for c in columns] for r in records]).encode()


def _csv_text(rows: list[list[Any]]) -> str:
    """Rows ended by ``\n``, a cell holding CR or LF quoted (RFC 4180; PostgreSQL's COPY does the same).

    Python's csv module quotes only the characters of its line terminator: written with ``\n`` it left a CR bare,
    and a reader split the row there. So each row is written with ``\r\n`` and its own terminator then shortened.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    out = []
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow(row)
        out.append(buf.getvalue()[:-2])
    return "\n".join(out) + "\n" if out else ""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(value)


_DONE = object()


async def closing_stream(body: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Iterate a blocking generator on worker threads, and *close* it however the response ends.

    Starlette would iterate it too, but leaves it unclosed when the client goes away; closing it is what ends
    its database transaction and writes the audit entry of what was actually sent.
    """
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, body, _DONE)
            if chunk is _DONE:
                break
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(body.close)
