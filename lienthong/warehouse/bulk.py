"""Bulk loading of Arrow tables: PostgreSQL COPY (psycopg 3) or batched executemany (SQLite)."""

from __future__ import annotations

import io

import pyarrow as pa
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


def chunks(items: list, size: int):  # noqa: ANN201 - yields slices of items
    """``items`` in slices of ``size`` (IN lists and executemany batches stay bounded)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
