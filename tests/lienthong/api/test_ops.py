"""Readiness follows the warehouse: reachable, initialised, and at the newest schema revision."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.integration


def test_readyz_is_unavailable_until_the_schema_is_current(server) -> None:
    assert httpx.get(f"{server.url}/readyz").json()["status"] == "ok"
    with server.hub.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))  # as if the newer migrations were pending
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    stale = httpx.get(f"{server.url}/readyz")
    assert stale.status_code == 503
    assert "lienthong init" in stale.json()["detail"] and "revisions not applied" in stale.json()["detail"]
