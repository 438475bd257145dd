"""Encoders of records for the wire: JSON values, CSV and NDJSON lines, chunk by chunk so nothing is held whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable, Iterator
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


def ndjson_chunks(chunks: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    dumps = json.JSONEncoder(ensure_ascii=False, default=json_value, separators=(",", ":")).encode
    for chunk in chunks:
        yield ("\n".join(dumps(r) for r in chunk) + "\n").encode() if chunk else b""


def csv_chunks(columns: list[str], chunks: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    """CSV with a header row; a tombstone has empty cells for the fields it no longer carries.

    UTF-8 with a BOM so Excel, which clerks open CSVs with, shows Vietnamese correctly; a text cell a spreadsheet
    would run as a formula is neutralised (:mod:`lienthong.spreadsheet_safety`).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    yield ("\ufeff" + buf.getvalue()).encode()
    for chunk in chunks:
        buf.seek(0)
        buf.truncate()
        writer.writerows([[_cell(r.get(c)) for c in columns] for r in chunk])
        yield buf.getvalue().encode()


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
