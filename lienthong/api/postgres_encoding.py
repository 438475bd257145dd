"""Records formatted by PostgreSQL itself: CSV by ``COPY (…) TO STDOUT``, JSON by ``row_to_json``.

Why: a full pull through :func:`records.shape` and :mod:`encoders` made a dict per row and a Python call per cell
(formula check, date format, HMAC) in one thread: 35–47k records/s (docs/BENCHMARKS.md, "HTTP API"). PostgreSQL
formats in C, in its own process, while the API forwards bytes. The output is the generic path's, byte for byte
(tests/lienthong/api/test_postgres_encoding.py compares them), so the choice of path is invisible to a consumer:

- tombstones carry the meta fields and the cursor only; the cursor is the same url-safe base64 of ``seq:key``;
- timestamps are Python's ``isoformat()`` (microseconds only when not zero, the session's offset), dates ISO;
- CSV: ``true``/``false``, empty cells for null *and* empty text, cells neutralised as by
  :func:`lienthong.spreadsheet_safety.neutralise`, a cell holding CR or LF quoted;
- JSON: compact, keys in the generic order, text escaped as Python's ``json`` does with ``ensure_ascii=False``
  (PostgreSQL's JSON escapes are the same);
- pseudonymised fields: :func:`lienthong.pseudonymise.token_sql`, the same HMAC tokens; in CSV neutralised by
  their key id alone (:func:`_token`).

The query itself is :func:`records.records_query` (same rows, order, filters and limit), wrapped. CSV comes from
``COPY … WITH (FORMAT csv)``; NDJSON from a COPY of the one JSON column in a CSV format whose quote and delimiter
JSON text never holds, so the lines arrive as they are sent. Where the time goes (PostgreSQL's own CPU per
million records, in-process, docs/BENCHMARKS.md "HTTP API"): ~7 s for CSV, ~11–14 s for NDJSON (``row_to_json``:
escaping and per-field lookups; ``json_build_object``, ``format()`` and ``||`` chains measured slower), 11–15 s for
pseudonymised CSV (two ``sha256()`` per token).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Boolean, Connection, Date, DateTime, Select

from lienthong.api.records import META, View
from lienthong.spreadsheet_safety import PLAIN_NUMBER_SQL, neutralise, neutralise_sql
from lienthong.warehouse.tables import PUBLISHED

CHUNK_BYTES = 1 << 20  # a streamed chunk: ~3,000 records, small enough that an interrupted pull is audited closely
# url-safe; base64 wraps lines at 76 characters. Three replace() cost less than one translate(), which looks each
# character up in its list (measured: 0.6 s more of the database's CPU per million records)
_CURSOR = ("rtrim(replace(replace(replace(encode(convert_to(r.published_seq::text || ':' || r.record_key, 'UTF8'), "
           "'base64'), '+', '-'), '/', '_'), E'\\n', ''), '=')")


# CSV whose quote and delimiter JSON text never holds raw (row_to_json escapes every control character), nor a line
# break: a one-column JSON value is then never quoted, each row comes out as the value and a newline.
_VERBATIM = "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"


def usable(conn: Connection) -> bool:
    """Whether this path serves ``conn``: PostgreSQL through psycopg 3, talking UTF-8."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return False
    return conn.connection.driver_connection.info.encoding == "utf-8"


def _iso(col: str) -> str:
    """``datetime.isoformat()`` of a timestamptz, in the session's time zone as psycopg would return it: no
    fraction when the microseconds are zero (the only place ``.000000`` can occur)."""
    return f"replace(to_char({col}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000', '')"


def _cells(view: View, *, csv: bool) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """``(name, SQL expression)`` of each output column, tombstone handling aside, and the parameters."""
    table = PUBLISHED[view.dataset]
    params: dict[str, Any] = {"plain_number": PLAIN_NUMBER_SQL} if csv else {}
    out = []
    for name in view.columns:
        col = f'r."{name}"'
        kind = table.c[name].type if name in table.c else None  # entity_id: text from match_link
        if name in view.pseudonymised and view.pseudonym_key:
            col, token_params = _token(col, *view.pseudonym_key, csv=csv)
            params |= token_params
            out.append((name, col))  # a token is never empty, and in CSV already neutralised
            continue
        if isinstance(kind, DateTime):
            col = _iso(col)  # text, and never a formula
        elif isinstance(kind, Boolean):
            col = f"(CASE WHEN {col} THEN 'true' WHEN NOT {col} THEN 'false' END)" if csv else col
        elif isinstance(kind, Date):
            col = f"to_char({col}, 'YYYY-MM-DD')" if csv else col
        elif csv and (kind is None or kind.python_type is str):
            col = f"nullif({neutralise_sql(col)}, '')"  # Python's csv writes "" as an empty cell, not ""
        out.append((name, col))
    return out, params


def _token(col: str, key: bytes, key_id: str, *, csv: bool) -> tuple[str, dict[str, Any]]:
    """The pseudonym of ``col`` (:func:`lienthong.pseudonymise.token_sql`), for CSV as :func:`neutralise` leaves it.

    A token is ``<key id>:<hex>``: never a plain number (``:`` is no digit), so a spreadsheet would run it exactly
    when the key id starts with a trigger. The quote then goes in front of the key id once, here: neutralising in
    SQL put the token's expression in a CASE twice, each two ``sha256()`` (a third of a pseudonymised pull's
    time in the database, docs/BENCHMARKS.md "HTTP API").
    """
    from lienthong.pseudonymise import key_fingerprint, token_sql

    key_id = key_id or key_fingerprint(key)
    if csv:
        key_id = neutralise(key_id + ":")[:-1]
    return token_sql(col, key=key, key_id=key_id)


def _sql(view: View, query: Select, conn: Connection, *, csv: bool) -> tuple[str, dict[str, Any]]:
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    cells, params = _cells(view, csv=csv)
    cells.append(("cursor", _CURSOR))
    if csv:  # a tombstone's cells beyond the meta fields are empty
        exprs = [e if n in META or n == "cursor" else f"CASE WHEN r.deleted THEN NULL ELSE {e} END" for n, e in cells]
        select = ", ".join(exprs)
    else:
        def obj(names: list[tuple[str, str]]) -> str:
            fields = ", ".join(f'{e} AS "{n}"' for n, e in names)
            return f"row_to_json((SELECT x FROM (SELECT {fields}) x))::text"

        meta = [c for c in cells if c[0] in META or c[0] == "cursor"]
        select = f"CASE WHEN r.deleted THEN {obj(meta)} ELSE {obj(cells)} END, {_CURSOR}"
    sql = f"SELECT {select} FROM ({compiled}) r ORDER BY r.published_seq, r.record_key"
    return sql, {**compiled.params, **params}


def json_rows(conn: Connection, view: View, query: Select) -> list[tuple[str, str]]:
    """``(record as JSON text, its cursor)`` of every row of ``query`` (a page: it is read whole)."""
    sql, params = _sql(view, query, conn, csv=False)
    with conn.connection.driver_connection.cursor() as cur:
        return cur.execute(sql, params).fetchall()


def copied_chunks(conn: Connection, view: View, query: Select, fmt: str) -> Iterator[tuple[int, bytes]]:
    """``(records, bytes)`` chunks of the CSV rows (no header) or NDJSON lines of ``query``, by COPY.

    The COPY runs in a savepoint: a client that goes away makes psycopg cancel it, and the transaction stays
    usable for the audit entry of what was sent.
    """
    sql, params = _sql(view, query, conn, csv=fmt == "csv")
    if fmt == "csv":
        copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    else:  # the JSON column only, written verbatim (no backslash to un-double, as the text format would need)
        copy_sql = f"COPY (SELECT j FROM ({sql}) AS q(j, c)) TO STDOUT WITH ({_VERBATIM})"
    with conn.begin_nested(), conn.connection.driver_connection.cursor() as cur, cur.copy(copy_sql, params) as copy:
        parts: list[bytes] = []
        size = 0
        for row in copy:
            parts.append(row)
            size += len(row)
            if size >= CHUNK_BYTES:
                yield len(parts), b"".join(parts)
                parts, size = [], 0
        if parts:
            yield len(parts), b"".join(parts)
