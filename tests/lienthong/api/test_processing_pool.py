"""Pushed batches are processed by worker processes, and every one reaches a final state (issue 12, rows 7, 16).

Against `lienthong serve` in its own process over PostgreSQL: a burst of pushes drains; a worker killed with
SIGKILL gets its batch retried once, then failed, and the server lives on; processing that raises marks the batch
failed with its reason (no 500 on ``wait=true``); files that cannot be a feed are refused before landing.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from lienthong.api.processing import CRASH_EN, INTERNAL_EN
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.tables import batch as batch_t
from tests.lienthong.api.served import Served, member_rows, serve
from tests.lienthong.conftest import HEADER, members_csv

pytestmark = [pytest.mark.integration, pytest.mark.slow]
UPLOAD = "/api/v1/feeds/hlhpn_push/batches"
CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def served(pg_url: str, tmp_path: Path):  # noqa: ANN201
    with serve(pg_url, tmp_path, LIENTHONG_API_PROCESSING_WORKERS="2") as s:
        yield s


def _count(served: Served, table) -> int:  # noqa: ANN001
    with served.hub.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_burst_of_pushes_all_reach_a_final_state(pg_url: str, tmp_path: Path) -> None:
    """With the rest of the job after each publication on (match, report, open data: coalesced runs queued on the
    same workers while the burst drains), as a server runs by default."""
    with serve(pg_url, tmp_path, LIENTHONG_API_PROCESSING_WORKERS="2", LIENTHONG_API_AFTER_PUBLISH="true") as served:
        _burst(served)


def _burst(served: Served) -> None:
    bodies = [members_csv(member_rows(f"B{k}-", 50)).encode() for k in range(20)]

    def push(body: bytes) -> str:
        with served.client("hlhpn") as c:
            r = c.post(UPLOAD, content=body, headers=CSV)
            assert r.status_code == 201, r.text
            return r.json()["batch_id"]

    with ThreadPoolExecutor(5) as pool:
        ids = set(pool.map(push, bodies))
    reports = served.wait_final("hlhpn_push", ids)
    assert {r["status"] for r in reports.values()} == {"published"}
    assert _count(served, PUBLISHED["members"]) == 20 * 50
    # the 2 processing workers, and the 1 worker that parses uploads (connectors/isolated.py)
    assert len(served.worker_pids()) == 2 + 1, "processed by the pool's worker processes"


def _taken(served: Served, batch_id: str, before: object = None, deadline_s: float = 120) -> object:
    """Wait until a worker has taken the batch (processing_since set, and not the claim ``before``)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with served.hub.engine.connect() as conn:
            row = conn.execute(select(batch_t.c.processing_since, batch_t.c.status)
                               .where(batch_t.c.batch_id == batch_id)).one()
        if row.processing_since not in (None, before) and row.status == "landed":
            return row.processing_since
        time.sleep(0.05)
    msg = f"no worker took batch {batch_id}"
    raise AssertionError(msg)


def test_a_worker_killed_twice_fails_its_batch_and_the_server_lives_on(served: Served) -> None:
    big = members_csv(member_rows("K", 30_000)).encode()
    with served.client("hlhpn") as c:
        r = c.post(UPLOAD, content=big, headers=CSV)
        assert r.status_code == 201, r.text
        batch_id = r.json()["batch_id"]
        claim = None
        for _ in range(2):  # killed while processing it; the pool retries it once in a fresh worker
            claim = _taken(served, batch_id, claim)
            for pid in served.worker_pids():
                os.kill(pid, signal.SIGKILL)
        [report] = served.wait_final("hlhpn_push", {batch_id}).values()
        assert report["status"] == "failed" and report["failure"]["message"] == CRASH_EN
        assert report["failure"]["message_vi"]

        assert c.get("/healthz").status_code == 200 and served.proc.poll() is None, "the server lives on"
        small = c.post(UPLOAD, content=members_csv(member_rows("OK", 3)).encode(), headers=CSV,
                       params={"wait": "true"})
        assert (small.status_code, small.json()["status"]) == (201, "published"), "a new pool processes"


def test_a_worker_killed_once_gets_its_batch_retried(served: Served) -> None:
    body = members_csv(member_rows("R", 30_000)).encode()
    with served.client("hlhpn") as c:
        batch_id = c.post(UPLOAD, content=body, headers=CSV).json()["batch_id"]
        _taken(served, batch_id)
        for pid in served.worker_pids():
            os.kill(pid, signal.SIGKILL)
        [report] = served.wait_final("hlhpn_push", {batch_id}).values()
    assert (report["status"], report["rows_published"]) == ("published", 30_000)


FAIL_STAGING = """
CREATE FUNCTION fail_staging() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'injected failure while staging %', NEW.record_key; END $$ LANGUAGE plpgsql;
CREATE TRIGGER fail_staging BEFORE INSERT ON stg_members FOR EACH ROW EXECUTE FUNCTION fail_staging();
"""


def test_processing_that_raises_marks_the_batch_failed_and_a_resend_retries_it(served: Served) -> None:
    with served.hub.engine.begin() as conn:
        conn.execute(text(FAIL_STAGING))
    body = members_csv(member_rows("F", 5)).encode()
    with served.client("hlhpn") as c:
        r = c.post(UPLOAD, content=body, headers=CSV, params={"wait": "true"})
        assert r.status_code == 201, r.text  # the upload was fine; its processing was not: a report, not a 500
        report = r.json()
        assert report["status"] == "failed" and report["failure"]["message"] == INTERNAL_EN
        assert "injected" not in r.text, "no internals reach the clerk"
        status = c.get(f"{UPLOAD}/{report['batch_id']}").json()
        assert status["status"] == "failed" and status["failure"]["message_vi"]

        with served.hub.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER fail_staging ON stg_members"))
        again = c.post(UPLOAD, content=body, headers=CSV, params={"wait": "true"})
        assert (again.status_code, again.json()["batch_id"]) == (200, report["batch_id"])
        assert (again.json()["status"], again.json()["rows_published"], again.json()["failure"]) == (
            "published", 5, None)


@pytest.mark.parametrize(("body", "content_type"), [
    pytest.param(("\ufeff" + HEADER + "\n").encode(), "text/csv", id="header-only-csv"),
    pytest.param(b"[" * 100_000, "application/json", id="deep-json"),
])
def test_files_that_cannot_be_a_feed_are_refused_before_landing(served: Served, body: bytes,
                                                                content_type: str) -> None:
    with served.client("hlhpn") as c:
        r = c.post(UPLOAD, content=body, headers={"Content-Type": content_type}, params={"wait": "true"})
    assert r.status_code == 422, r.text
    assert r.json()["message_vi"]
    assert _count(served, batch_t) == 0, "nothing landed"


def test_the_server_sweeps_batches_left_landed(pg_url: str, tmp_path: Path) -> None:
    """A batch landed but never processed (its server died) is failed by the running server's sweeper."""
    from connectors.base import Batch
    from connectors.formats import read_payload, resolve_read_options
    from lienthong.pipeline import receive_batch

    with serve(pg_url, tmp_path, LIENTHONG_BATCH_STUCK_MINUTES="0.05") as s:  # 3 s
        payload = members_csv(member_rows("O", 2)).encode()
        options = resolve_read_options(payload, "text/csv", {}, origin="orphan.csv")
        item = Batch(payload, "text/csv", "api:orphan.csv", read_payload(payload, "text/csv", options,
                                                                         origin="orphan.csv"), read_options=options)
        batch_id = receive_batch(s.hub, s.hub.source("hlhpn_push"), item).batch_id  # landed behind the server
        [report] = s.wait_final("hlhpn_push", {batch_id}).values()
    assert report["status"] == "failed" and "not processed within" in report["failure"]["message"]
    assert "gửi lại tệp" in report["failure"]["message_vi"]


def test_a_killed_server_leaves_no_worker_behind(pg_url: str, tmp_path: Path) -> None:
    """The parsing and processing workers (and every other process it started) end with the server, even when it
    is killed with SIGKILL (no orphans holding memory and database connections). After publishing, the rest of
    the job is queued on the pool too: both processing workers are running."""
    with serve(pg_url, tmp_path, LIENTHONG_API_PROCESSING_WORKERS="2", LIENTHONG_API_AFTER_PUBLISH="true") as served:
        with served.client("hlhpn") as c:
            r = c.post(UPLOAD, content=members_csv(member_rows("W", 5)).encode(), headers=CSV,
                       params={"wait": "true"})
            assert r.status_code == 201, r.text
        assert len(served.worker_pids()) == 2 + 1, "the processing workers and the upload-parsing worker were started"
        started = served.descendant_pids()  # and the processing workers' fork server, multiprocessing's tracker
        served.proc.kill()
        served.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.2)
        assert not [pid for pid in started if _alive(pid)], "workers outlived their server"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended; only its exit status is left
    except FileNotFoundError:
        return False
