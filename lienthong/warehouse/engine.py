"""Opening the warehouse: an SQLAlchemy engine for SQLite (embedded, default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError

from lienthong.errors import WarehouseError


def open_engine(url: str) -> Engine:
    """Connect to the warehouse at ``url`` and check it answers.

    Raises:
        WarehouseError: the database cannot be reached; the message hides the password.
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        msg = f"cannot reach the warehouse at {shown}: {exc.orig}. Is the database running?"
        raise WarehouseError(msg, message_vi=f"Không kết nối được kho dữ liệu {shown}") from exc
    return engine


def require_schema(engine: Engine) -> None:
    """Fail clearly when ``lienthong init`` has not been run on this warehouse."""
    if not inspect(engine).has_table("batch"):
        shown = engine.url.render_as_string(hide_password=True)
        msg = f"the warehouse at {shown} is not initialised: run `lienthong init` first"
        raise WarehouseError(msg, message_vi="Kho dữ liệu chưa được khởi tạo: chạy `lienthong init`")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers keep seeing the last published version while we write
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
