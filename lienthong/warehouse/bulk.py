"""Bulk loading of Arrow tables: PostgreSQL COPY (psycopg 3) or batched executemany (SQLite)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table

_COPY_CHUNK_ROWS = 200_000


def insert_arrow(conn: Connection, table: Table, data: pa.Table) -> int:
    """Insert every row of ``data`` (columns named like ``table``'s) in the caller's transaction.

    On PostgreSQL the rows are streamed with ``COPY ... FROM STDIN (FORMAT csv)`` from CSV that pyarrow writes in
    C++ (nulls as unquoted empty fields, empty strings quoted), the fastest way in; elsewhere a batched
    executemany. Returns the number of rows written.
    """
    if data.num_rows == 0:
        return 0
    columns = data.column_names
    if conn.dialect.name == "postgresql":
        cols = ", ".join(f'"{c}"' for c in columns)
        dbapi = conn.connection.driver_connection  # the psycopg connection inside SQLAlchemy's transaction
        data = _utc_text(data)
        with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN (FORMAT csv)') as copy:
            for start in range(0, data.num_rows, _COPY_CHUNK_ROWS):
                buf = io.BytesIO()
                pacsv.write_csv(
                    data.slice(start, _COPY_CHUNK_ROWS), buf,
                    pacsv.WriteOptions(include_header=False, quoting_style="needed"),
                )
                copy.write(buf.getbuffer())
        return data.num_rows
    for rows in chunks(data.to_pylist(), 20_000):
        conn.execute(table.insert(), rows)
    return data.num_rows


def _utc_text(data: pa.Table) -> pa.Table:
    """``data`` with its time-zone-aware timestamp columns as UTC text (``2026-12-04 15:40:06.918359+00``).

    pyarrow's CSV writer converts each zoned timestamp through the time-zone database, dozens of times slower than
    casting the same instant to naive UTC and writing its offset, which PostgreSQL reads back as the same instant
    whatever the session's time zone.
    """
    for i, field in enumerate(data.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = data.column(i).cast(pa.timestamp(field.type.unit)).cast(pa.string())
            data = data.set_column(i, field.name, pc.binary_join_element_wise(naive, "", "+00"))
    return data


def chunks(items: list, size: int):  # noqa: ANN201 - yields slices of items
    """``items`` in slices of ``size`` (IN lists and executemany batches stay bounded)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
