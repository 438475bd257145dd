"""The only place the environment is read.

Every setting has a ``LIENTHONG_`` environment variable. Secrets (API tokens, database passwords of member
organisations) are never settings of the hub: sources name the environment variable that holds them.
Settings travel as a value: nothing writes them back into ``os.environ`` (the CLI's ``--home`` and
``--database-url`` become a :class:`Settings` through :func:`use_settings`; a child process of the hub gets
:meth:`Settings.as_environment` as its ``env=``).
"""

from __future__ import annotations

import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Hub settings, read from ``LIENTHONG_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="LIENTHONG_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Working folder: SQLite warehouse, reports, open data.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the warehouse; default an embedded SQLite file in the home folder.",
    )
    sources_dir: Path = Field(
        default=PROJECT_ROOT / "sources", description="Folder of source registry YAML files, one per source."
    )
    db_retry_attempts: int = Field(
        default=5, ge=1, description="Tries of one unit of database work when the warehouse connection is lost.",
    )
    db_retry_backoff_s: float = Field(
        default=0.5, ge=0, description="First wait before trying again after a lost connection; doubles each time.",
    )
    small_cell_threshold: int = Field(default=5, description="Open-data cells below this count are suppressed.")
    pseudonym_key: SecretStr | None = Field(
        default=None, description="Secret key of the HMAC pseudonyms of ID numbers and phones (non-open datasets).",
    )
    pseudonym_key_id: str | None = Field(
        default=None, description="Label of the pseudonym key generation, prefixed to tokens; default a fingerprint.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8080", description="Public address of `lienthong serve`, used in open-data links.",
    )
    airflow_api_url: str | None = Field(
        default=None, validation_alias="AIRFLOW_API_URL",
        description="Airflow api-server base URL; when set, `sync --via-airflow` triggers DAG runs there.",
    )
    spark_master: str | None = Field(
        default=None, description="Spark master of `backend: spark` matching (spark://host:7077); default: Spark's.",
    )
    spark_checkpoint_dir: str | None = Field(
        default=None, description="Where Splink on Spark writes its intermediate Parquet; every Spark node must reach "
                                  "it (hdfs://, s3a://, a shared mount). Default: <home>/spark-checkpoints.",
    )
    match_part_rows: int = Field(
        default=1_000_000, ge=1_000,
        description="Match stage: most records matched at once; a larger registry or batch is matched a part at a "
                    "time, so memory follows the part (docs/match.md, In parts).",
    )
    match_duckdb_memory_mb: int = Field(
        default=2048, ge=256,
        description="Match stage: memory of each DuckDB database it opens (Splink's scoring, the feature cache, golden "
                    "records); past it DuckDB spills to the temporary folder (docs/match.md, Memory).",
    )
    api_max_upload_mb: float = Field(default=200, description="HTTP API: largest feed upload accepted (413 above).")
    api_max_upload_rows: int = Field(default=2_000_000, description="HTTP API: most rows in one uploaded feed.")
    api_parse_memory_mb: int = Field(
        default=500, description="HTTP API and web: memory (RLIMIT_DATA) of the worker process parsing an upload.",
    )
    api_parse_workers: int = Field(default=1, description="HTTP API and web: worker processes parsing uploads.")
    api_rate_per_minute: int = Field(default=600, description="HTTP API: requests per minute per key (burst = same).")
    api_processing_workers: int = Field(
        default=2, ge=0,
        description="HTTP API: worker processes that process and publish pushed batches (0: one thread of the "
                    "server process, as before issue 12).",
    )
    api_threads: int = Field(
        default=6, ge=1,
        description="HTTP API: threads per server process running request work (key checks, reading the "
                    "warehouse, building pages). Starlette's 40 let page builders fight over the interpreter's lock "
                    "(docs/api.md, Page latency).",
    )
    api_page_builders: int = Field(
        default=2, ge=1,
        description="HTTP API: record pages (JSON, OData) read and built at once in one server process; further "
                    "requests wait their turn. Python builds one at a time, so more would only share it and "
                    "make the slowest pages much slower (docs/api.md, Page latency).",
    )
    api_after_publish: bool = Field(
        default=True,
        description="HTTP API: once a pushed batch is published, queue the rest of the job (match, quality report, "
                    "open data; lienthong.jobs.after_publish) on the processing workers, bursts coalesced.",
    )
    batch_stuck_minutes: float = Field(
        default=30, gt=0,
        description="A batch still `landed` this long after landing (or after a worker took it) is marked failed "
                    "by the sweeper (the server, `lienthong status` and `sync`).",
    )
    source_variables: dict[str, str] = Field(
        default_factory=dict,
        description="Values of `${VAR}` in source files over the environment's (e.g. the demo's API address); "
                    "never a secret: sources name the variable holding theirs.",
    )
    xroad_security_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="X-Road provider: addresses or networks (comma-separated, e.g. 10.0.5.7,10.0.6.0/28) of the "
                    "Security Servers whose X-Road-Client header the hub trusts on /xroad/; empty: none.",
    )

    @field_validator("xroad_security_servers", mode="before")
    @classmethod
    def _addresses(cls, value: object) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]
        out = []
        for item in (str(i).strip() for i in items):
            if not item:
                continue
            try:
                out.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                msg = f"LIENTHONG_XROAD_SECURITY_SERVERS: {item!r} is not an IP address or network (no host names)"
                raise ValueError(msg) from None
        return out

    @property
    def warehouse_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'lienthong.db').resolve()}"

    def registry_variables(self) -> dict[str, str]:
        """What ``${VAR}`` in a source file expands to: the environment, ``LIENTHONG_HOME`` = this ``home`` (so the
        CLI's ``--home`` reaches the sources' paths), then :attr:`source_variables`."""
        return {**os.environ, "LIENTHONG_HOME": str(self.home), **self.source_variables}

    def as_environment(self) -> dict[str, str]:
        """The variables that give a child process of the hub these settings (its ``env=``, over the parent's).

        Only the settings given explicitly (by the environment or in code); secrets included, so for the hub's own
        processes only (e.g. `lienthong serve --workers N`).
        """
        env = {}
        for name in sorted(self.model_fields_set):
            value = getattr(self, name)
            if value is None:
                continue
            alias = type(self).model_fields[name].validation_alias
            key = alias if isinstance(alias, str) else f"LIENTHONG_{name.upper()}"
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, list):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = json.dumps(value)
            env[key] = str(value)
        return env


_chosen: Settings | None = None


def use_settings(settings: Settings | None) -> None:
    """Make ``settings`` what :func:`get_settings` returns in this process (None: back to the environment's).

    The CLI calls it once per command with its global options; it never writes them into ``os.environ``.
    """
    global _chosen
    _chosen = settings
    get_settings.cache_clear()


@lru_cache
def get_settings() -> Settings:
    """The settings of this process: those :func:`use_settings` chose, else read from the environment once."""
    return _chosen if _chosen is not None else Settings()
