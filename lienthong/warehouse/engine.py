"""Opening the warehouse: an SQLAlchemy engine for SQLite (embedded, default) or PostgreSQL; and trying a unit of
database work again when the connection to PostgreSQL is lost in the middle of it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from lienthong.errors import ConnectionLost, WarehouseError

log = logging.getLogger(__name__)
T = TypeVar("T")


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


def is_connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the warehouse connection going away: a terminated backend
    (``AdminShutdown``), a server restart, a cut network, or a refused reconnection while it is down."""
    import psycopg  # the PostgreSQL driver; always installed with the hub

    seen: BaseException | None = exc
    for _ in range(32):  # a chain of causes is short; the bound guards against a cycle
        if seen is None:
            break
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        seen = (seen.orig if isinstance(seen, DBAPIError) else None) or seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class Reconnect:
    """Bounded retries of one unit of database work after a lost connection, with doubling waits.

    Only a unit that is safe to repeat is given to :meth:`run`: one transaction that replaces what an earlier
    attempt wrote (processing a batch), a write keyed by content (landing), a read. Waits: ``backoff_s``, then
    twice that, ... (0.5 + 1 + 2 + 4 s over five attempts by default, so a server restart is ridden out).
    """

    attempts: int = 5
    backoff_s: float = 0.5

    def run(self, work: Callable[[], T], *, what: str, what_vi: str, action: str, action_vi: str) -> T:
        """``work()``, tried again while the connection keeps being lost.

        Args:
            work: the unit of work; repeated from the start on each attempt.
            what: what it does, naming the source and batch ("processing batch b1… (x.csv) of source hnd_files").
            what_vi: the same in Vietnamese.
            action: what to do when every attempt failed, in English; ``action_vi`` in Vietnamese.

        Raises:
            ConnectionLost: the connection was lost on every attempt; the message is one line.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                return work()
            except Exception as exc:
                if not is_connection_lost(exc):
                    raise
                cause = _first_line(exc)
                if attempt == self.attempts:
                    msg = (f"lost the connection to the warehouse while {what}, {self.attempts} attempts "
                           f"(last: {cause}); {action}")
                    msg_vi = f"Mất kết nối tới kho dữ liệu khi {what_vi} sau {self.attempts} lần thử; {action_vi}"
                    raise ConnectionLost(msg, message_vi=msg_vi) from exc
                wait = self.backoff_s * 2 ** (attempt - 1)
                log.warning("lost the connection to the warehouse while %s (%s); attempt %d of %d in %.1fs",
                            what, cause, attempt + 1, self.attempts, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")  # attempts >= 1


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text_[0] if text_ else ''}".strip()
