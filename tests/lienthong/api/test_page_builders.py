"""Record pages are read and built ``api_page_builders`` at a time per server process, on at most ``api_threads``
threads; the others wait their turn.

The warehouse is held by a lock the test takes, so every page that reached the database waits there, visibly, in
pg_stat_activity: with one builder one page query waits while the other requests wait in the server; with three,
three; with five builders but two threads, two. Released, every request is answered.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration
PAGES = {"json": "/api/v1/datasets/members/records?limit=10", "odata": "/odata/v4/members?$top=10"}


def _waiting_on_locks(engine) -> int:  # noqa: ANN001 - a SQLAlchemy engine on the test's database
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar_one()


@pytest.mark.parametrize(("threads", "builders", "kind", "at_once"),
                         [(6, 1, "json", 1), (6, 3, "json", 3), (6, 1, "odata", 1), (2, 5, "json", 2)])
def test_pages_are_built_so_many_at_a_time(start_server, pg_url, threads, builders, kind, at_once):
    server = start_server(api_threads=threads, api_page_builders=builders)
    server.key("portal", "read:members", "read:pii")
    watcher, holder = create_engine(pg_url), create_engine(pg_url)
    try:
        with holder.connect() as lock, ThreadPoolExecutor(4) as pool, server.client("portal") as c:
            lock.execute(text("LOCK TABLE pub_members IN ACCESS EXCLUSIVE MODE"))  # until this transaction ends
            answers = [pool.submit(c.get, PAGES[kind]) for _ in range(4)]
            try:
                deadline = time.monotonic() + 20
                while _waiting_on_locks(watcher) < at_once and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(0.5)  # time for a page past the limit to reach the database, were it let through
                waiting = _waiting_on_locks(watcher)
            finally:
                lock.rollback()
            assert waiting == at_once
            assert [a.result(timeout=30).status_code for a in answers] == [200] * 4
    finally:
        watcher.dispose()
        holder.dispose()
