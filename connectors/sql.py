"""SQL connector: rows of a table or query in a member organisation's database, in chunks.

Incremental reads use a keyset on ``(watermark, key)``: rows after the last ``(watermark, key)`` seen, ordered
by both, so every chunk can carry its own cursor (its last row) and a run that dies half-way resumes exactly
after the last landed chunk. The key breaks ties between rows sharing a timestamp, which a bare
``updated_at > :last`` would silently skip. Rows whose watermark is NULL are never read incrementally.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from connectors.base import MEDIA_NDJSON, Batch, Connector, ConnectorConfig, Cursor
from connectors.formats import records_to_table, to_ndjson
from lienthong.errors import ConfigError, ExtractError

if TYPE_CHECKING:  # SQLAlchemy is imported where it is used: `import connectors` stays fast for DAG parsing
    from sqlalchemy.engine import Connection, Engine


class SqlConfig(ConnectorConfig):
    """A table or query. Example: ``{type: sql, url_env: HOI_CCB_DB_URL, table: hoi_vien,
    watermark: updated_at, key: id}``."""

    model_config = ConfigDict(hide_input_in_errors=True)  # a rejected URL may hold a password

    type: Literal["sql"] = "sql"
    url: str | None = Field(default=None, description="SQLAlchemy URL without a password (e.g. SQLite file).")
    url_env: str | None = Field(default=None, description="Env variable holding the URL (with password).")
    table: str | None = Field(default=None, description="Table to read, optionally schema-qualified.")
    query: str | None = Field(default=None, description="SELECT to read instead of a table.")
    watermark: str | None = Field(default=None, description="Column that grows when a row changes.")
    key: str | None = Field(default=None, description="Unique column breaking ties between equal watermarks.")
    chunk_size: int = Field(default=50_000, gt=0)

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, url: str | None) -> str | None:
        if url is not None:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                password = make_url(url).password
            except ArgumentError as exc:
                msg = f"not a SQLAlchemy URL ({exc})"
                raise ValueError(msg) from exc
            if password:
                msg = "the URL contains a password: put the URL in an environment variable named in url_env"
                raise ValueError(msg)
        return url

    @model_validator(mode="after")
    def _exactly_one(self) -> SqlConfig:
        if (self.url is None) == (self.url_env is None):
            msg = "give exactly one of url and url_env"
            raise ValueError(msg)
        if (self.table is None) == (self.query is None):
            msg = "give exactly one of table and query"
            raise ValueError(msg)
        if (self.watermark is None) != (self.key is None):
            msg = "watermark and key go together: key breaks ties between rows with the same watermark"
            raise ValueError(msg)
        return self


class SqlConnector(Connector[SqlConfig]):
    """One batch per chunk of ``chunk_size`` rows, read through a server-side cursor."""

    Config = SqlConfig

    def extract(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Rows after ``cursor`` (``{"watermark": ..., "key": ...}``); each chunk's cursor is its last row.

        Without ``watermark`` every run reads everything and no batch has a cursor.
        """
        engine = self._engine()
        try:
            with self._connect(engine) as conn:
                yield from self._read(engine, conn, cursor)
        finally:
            engine.dispose()

    def _connect(self, engine: Engine) -> Connection:
        from sqlalchemy.exc import DBAPIError

        try:
            return engine.connect()
        except DBAPIError as exc:
            hint = "the database is unreachable: check that it runs and that the URL is right"
            raise self._failure(engine, exc, hint) from exc

    def _read(self, engine: Engine, conn: Connection, cursor: Cursor | None) -> Iterator[Batch]:
        from sqlalchemy.exc import DBAPIError

        statement, params = self._statement(engine, cursor)
        chunk = self.config.chunk_size
        try:
            streaming = conn.execution_options(stream_results=True, max_row_buffer=chunk)
            result = streaming.execute(statement, params)
            columns = list(result.keys())
            self._check_columns(columns)
            first = 1
            for rows in result.partitions(chunk):
                yield self._batch(columns, rows, first)
                first += len(rows)
        except DBAPIError as exc:
            hint = "check `table`/`query`, `watermark` and `key` in the source config"
            raise self._failure(engine, exc, hint) from exc

    def _failure(self, engine: Engine, exc: Exception, hint: str) -> ExtractError:
        """An ExtractError naming the database without its password, and the driver's first line."""
        where = engine.url.render_as_string(hide_password=True)
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown error"])[0]
        msg = f"{self.source_id}: reading {self._what} from {where} failed: {reason}; {hint}"
        msg_vi = f"{self.source_id}: không đọc được dữ liệu từ cơ sở dữ liệu {where}: {reason}"
        return ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)

    @property
    def _what(self) -> str:
        return self.config.table or "query"

    def _engine(self) -> Engine:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        url = self.config.url
        if url is None:
            env = self.config.url_env or ""
            url = os.environ.get(env, "")
            if not url:
                msg = f"{self.source_id}: environment variable {env} (the database URL) is not set"
                msg_vi = f"Chưa đặt biến môi trường {env} (địa chỉ cơ sở dữ liệu)"
                raise ConfigError(msg, message_vi=msg_vi, source_id=self.source_id)
        try:
            return create_engine(url)
        except (ArgumentError, NoSuchModuleError) as exc:
            source = f"environment variable {self.config.url_env}" if self.config.url_env else "`url`"
            msg = f"{self.source_id}: the database URL in {source} is not valid ({type(exc).__name__})"
            msg_vi = f"{self.source_id}: địa chỉ cơ sở dữ liệu không hợp lệ"
            raise ConfigError(msg, message_vi=msg_vi, source_id=self.source_id) from exc

    def _statement(self, engine: Engine, cursor: Cursor | None) -> tuple[Any, dict[str, Any]]:
        """``SELECT * FROM <source> [WHERE keyset] [ORDER BY watermark, key]`` with bound parameters."""
        from sqlalchemy import text

        quote = engine.dialect.identifier_preparer.quote
        cfg = self.config
        if cfg.table:
            source = ".".join(quote(part) for part in cfg.table.split("."))
        else:
            source = f"({(cfg.query or '').strip().rstrip(';')}) AS src"
        sql, params = f"SELECT * FROM {source}", {}
        if cfg.watermark and cfg.key:
            wm, key = quote(cfg.watermark), quote(cfg.key)
            sql += f" WHERE {wm} IS NOT NULL"
            last = cursor or {}
            if last.get("watermark") is not None and last.get("key") is not None:
                # spelled out rather than a row-value comparison, which SQLite and others lack
                sql += f" AND ({wm} > :w OR ({wm} = :w AND {key} > :k))"
                params = {"w": last["watermark"], "k": last["key"]}
            elif last.get("watermark") is not None:
                sql += f" AND {wm} > :w"
                params = {"w": last["watermark"]}
            sql += f" ORDER BY {wm}, {key}"
        return text(sql), params

    def _check_columns(self, columns: Sequence[str]) -> None:
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            msg = f"{self.source_id}: the query returns {', '.join(twice)} more than once; give them aliases"
            msg_vi = f"{self.source_id}: truy vấn trả về cột trùng tên: {', '.join(twice)}"
            raise ConfigError(msg, message_vi=msg_vi, source_id=self.source_id)

    def _batch(self, columns: list[str], rows: Sequence[Any], first: int) -> Batch:
        records = [{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        cursor = None
        if self.config.watermark and self.config.key:
            last = records[-1]
            cursor = {"watermark": last[self.config.watermark], "key": last[self.config.key]}
        return Batch(
            payload=to_ndjson(records),
            media_type=MEDIA_NDJSON,
            origin=f"sql:{self._what} rows {first}–{first + len(rows) - 1}",
            records=records_to_table(records, columns),
            cursor=cursor,
            read_options={"encoding": "utf-8", "columns": columns},
        )


_NATIVE = frozenset({str, int, float, bool})


def _jsonable(value: Any) -> Any:
    """A JSON-native stand-in for a database value: ISO dates, exact decimals as strings, base64 bytes."""
    if value is None or type(value) in _NATIVE:
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict | list):
        return value
    return str(value)
