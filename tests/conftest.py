"""Shared fixtures: a real PostgreSQL database per test session, fresh folders for the hub's home."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

# No test leaves a warm `check` server behind (lienthong/cli/warm.py); tests/lienthong/cli/test_warm.py turns it
# on for its own processes and stops its server.
os.environ["LIENTHONG_WARM"] = "0"

# make test exports this after making sure a server runs; the default is the machine's own server.
ADMIN_DSN = os.environ.get("LIENTHONG_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def _admin_connect() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"PostgreSQL is not reachable at {ADMIN_DSN!r} (run the tests with `make test`): {exc}")


@contextmanager
def new_database() -> Iterator[str]:
    """A SQLAlchemy URL of a brand-new, empty PostgreSQL database, dropped afterwards (a uuid name: test workers
    running in parallel never share one)."""
    name = f"lienthong_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = dict(item.split("=", 1) for item in ADMIN_DSN.split())
    host, port, user = params.get("host", "127.0.0.1"), params.get("port", "5432"), params.get("user", "postgres")
    try:
        yield f"postgresql+psycopg://{user}@{host}:{port}/{name}"
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A SQLAlchemy URL of a brand-new, empty PostgreSQL database, dropped after the test."""
    with new_database() as url:
        yield url
