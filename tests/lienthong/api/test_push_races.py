"""Ten uploads at once, against `lienthong serve` on PostgreSQL and on SQLite (issue 12, rows 5 and 6).

Identical bodies, with or without one Idempotency-Key, give one batch and no 5xx; ten different bodies under one
key land only the first and refuse the others with 422 (the IETF Idempotency-Key draft).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.tables import batch as batch_t
from tests.lienthong.api.served import Served, member_rows, serve
from tests.lienthong.conftest import members_csv

pytestmark = [pytest.mark.integration, pytest.mark.slow]
UPLOAD = "/api/v1/feeds/hlhpn_push/batches"
N = 10


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'wh.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    with serve(url, tmp_path) as s:
        yield s


def _at_once(served: Served, bodies: list[bytes], headers: dict[str, str]) -> list[httpx.Response]:
    """POST every body at the same moment (a barrier releases the threads together), each on its own connection."""
    barrier = threading.Barrier(len(bodies))

    def push(body: bytes) -> httpx.Response:
        with served.client("hlhpn", **headers) as c:
            barrier.wait()
            return c.post(UPLOAD, content=body, headers={"Content-Type": "text/csv"})

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(push, bodies))


def _counts(served: Served) -> tuple[int, int]:
    with served.hub.engine.connect() as conn:
        batches = conn.execute(select(func.count()).select_from(batch_t)).scalar_one()
        published = conn.execute(select(func.count()).select_from(PUBLISHED["members"])).scalar_one()
    return batches, published


@pytest.mark.parametrize("idempotency_key", [None, "upload-2025-07-01"])
def test_identical_uploads_at_once_give_one_batch_and_no_error(served: Served, idempotency_key: str | None) -> None:
    body = members_csv(member_rows("HV", 20)).encode()
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    responses = _at_once(served, [body] * N, headers)

    assert [r.status_code for r in responses if r.status_code >= 500] == [], [r.text for r in responses]
    assert sorted(r.status_code for r in responses) == [200] * (N - 1) + [201]  # one landed it, the rest: same
    assert len({r.json()["batch_id"] for r in responses}) == 1
    [batch_id] = {r.json()["batch_id"] for r in responses}
    [report] = served.wait_final("hlhpn_push", {batch_id}).values()
    assert (report["status"], report["rows_published"]) == ("published", 20)
    assert _counts(served) == (1, 20)


def test_one_key_with_ten_different_bodies_lands_only_the_first(served: Served) -> None:
    bodies = [members_csv(member_rows(f"K{k}-", 20)).encode() for k in range(N)]
    responses = _at_once(served, bodies, {"Idempotency-Key": "one-key"})

    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [422] * (N - 1), [r.text for r in responses]
    refused = [r.json() for r in responses if r.status_code == 422]
    assert {p["error"] for p in refused} == {"idempotency_key_reused"}
    assert all(p["message_vi"] for p in refused)
    [first] = [r.json() for r in responses if r.status_code == 201]
    served.wait_final("hlhpn_push", {first["batch_id"]})
    assert _counts(served) == (1, 20), "20 rows published, not 200"

    # a retry of the first body under the key still gets its batch
    winner = bodies[[r.status_code for r in responses].index(201)]
    with served.client("hlhpn", **{"Idempotency-Key": "one-key"}) as c:
        again = c.post(UPLOAD, content=winner, headers={"Content-Type": "text/csv"})
    assert (again.status_code, again.json()["batch_id"], again.json()["duplicate"]) == (200, first["batch_id"], True)
