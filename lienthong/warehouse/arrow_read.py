"""Query results as Arrow tables: ``COPY … TO STDOUT`` read by pyarrow on PostgreSQL, rows elsewhere.

The match stage reads whole registries (a million published members, their links); as Python row objects that
took gigabytes and most of a run, as CSV parsed in C++ it is a fraction of both.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Select


def query_arrow(conn: Connection, query: Select, types: dict[str, pa.DataType] | None = None) -> pa.Table:
    """The rows of ``query`` as an Arrow table, one column per selected column (strings unless ``types`` says)."""
    names = [c.name for c in query.selected_columns]
    types = {n: (types or {}).get(n, pa.string()) for n in names}
    if conn.dialect.name == "postgresql":
        return _copy_out(conn, query, types)
    rows = conn.execute(query).all()
    return pa.table({n: pa.array([r[i] for r in rows], t) for i, (n, t) in enumerate(types.items())})


def _copy_out(conn: Connection, query: Select, types: dict[str, pa.DataType]) -> pa.Table:
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    buf = io.BytesIO()
    with conn.connection.driver_connection.cursor() as cur, \
            cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy:
        for chunk in copy:
            buf.write(chunk)
    if not buf.tell():  # nothing came back (not even a header): no rows
        return pa.table({n: pa.array([], t) for n, t in types.items()})
    buf.seek(0)
    return pacsv.read_csv(buf, read_options=pacsv.ReadOptions(block_size=1 << 24),
                          convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                               quoted_strings_can_be_null=False))
