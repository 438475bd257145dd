"""``INSERT … ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite: the database, not a read before the write, decides
which of several concurrent writers of the same key wins (a read-then-insert lets two of them through)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row unless it would break a unique key of ``table``; True when it was inserted.

    On PostgreSQL a concurrent, uncommitted insert of the same key makes this wait for that transaction and then
    do nothing (or insert, if it rolled back); on SQLite writers are serialised by the database lock.
    """
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values).on_conflict_do_nothing()
    # RETURNING, not rowcount: with an autoincrement key SQLAlchemy returns it, and rowcount is then -1.
    return conn.execute(statement.returning(*table.primary_key.columns)).first() is not None
