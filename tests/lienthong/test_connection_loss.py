"""Lost warehouse connections during a sync (issue 12, row 11), on a real PostgreSQL server.

A side thread terminates the sync's backends (``pg_terminate_backend``) again and again while it runs: each batch's
database work is tried again, and every row ends published or quarantined exactly once. When the database stays
away, the run ends with one line naming the source (and the batch) and what to do, and a non-zero exit code.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from lienthong.cli.runs import run_sources
from lienthong.pipeline import publish_all, sync_source
from lienthong.warehouse.queries import batches
from lienthong.warehouse.tables import PUBLISHED, STAGING, quarantine
from tests.conftest import ADMIN_DSN
from tests.lienthong.conftest import HEADER, file_source

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FILES, ROWS_PER_FILE = 12, 250


def _write_files(folder: Path) -> int:
    folder.mkdir()
    for f in range(FILES):
        rows = [f"HV{f:02d}{i:04d};Nguyễn Thị Hoa {i};Nữ;01/02/1985;;0912345678;Kinh;Không;00070;Số {i} Hàng Bạc;"
                f"Chi hội {f};01/01/2010;active" for i in range(ROWS_PER_FILE)]
        rows[0] = rows[0].replace("01/02/1985", "31/02/1985")  # one impossible date per file: quarantined
        (folder / f"hv_{f:02d}.csv").write_text("\ufeff" + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return FILES * ROWS_PER_FILE


@contextmanager
def terminating_backends(database: str, every_s: float, *, refuse_new: bool = False,
                         busy_only: bool = False, rest_after_kill_s: float = 0.0) -> Iterator[list[int]]:
    """Terminate every backend connected to ``database`` each ``every_s`` seconds; yields the kill counts.

    ``busy_only`` spares connections idle in the pool: the pool's ping replaces those silently, so killing them
    alone would prove nothing about retrying the work itself. ``rest_after_kill_s`` lets the retried step finish
    before the next cut, so the test proves recovery rather than exhausting the attempts of one step.
    """
    kills: list[int] = []
    busy = " AND state <> 'idle'" if busy_only else ""
    stop = threading.Event()
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        if refuse_new:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')

        def loop() -> None:
            while not stop.wait(every_s):
                killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       f"WHERE datname = %s AND pid <> pg_backend_pid(){busy}",
                                       (database,)).fetchone()[0]
                kills.append(killed)
                if killed and rest_after_kill_s:
                    stop.wait(rest_after_kill_s)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield kills
        finally:
            stop.set()
            thread.join()
            if refuse_new:
                admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


def _accounted_exactly_once(hub, total: int) -> None:
    landed = batches(hub.engine, source_id="hlhpn_files")
    assert len(landed) == FILES and all(b["reconciled"] for b in landed)
    assert {b["status"] for b in landed} == {"published"}
    assert sum(b["rows_read"] for b in landed) == total
    pub = PUBLISHED["members"]
    with hub.engine.connect() as conn:
        published = conn.execute(select(func.count(), func.count(pub.c.record_key.distinct()))).one()
        quarantined = (
            conn.execute(select(func.count()).select_from(quarantine)).scalar_one(),
            conn.execute(select(func.count()).select_from(
                select(quarantine.c.batch_id, quarantine.c.row_no).distinct().subquery())).scalar_one(),
        )
        staged_left = conn.execute(select(func.count()).select_from(STAGING["members"])).scalar_one()
    assert published[0] == published[1] == total - FILES, "every valid row published once, no duplicate"
    assert quarantined[0] == quarantined[1] == FILES, "every refused row quarantined once"
    assert published[0] + quarantined[0] == total and staged_left == 0


def test_backends_terminated_again_and_again_during_a_sync_lose_and_duplicate_nothing(
    make_hub, pg_url, tmp_path, caplog, monkeypatch
):
    total = _write_files(tmp_path / "drop")
    hub = make_hub([file_source(tmp_path / "drop")], pg_url)
    hub.code_lists  # noqa: B018 - loaded before the first kill, like any warm hub
    # Airflow's logging set-up (imported by other tests of the session) disables loggers that existed before it
    monkeypatch.setattr(logging.getLogger("lienthong.warehouse.engine"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="lienthong.warehouse.engine")

    with terminating_backends(pg_url.rsplit("/", 1)[1], every_s=0.02, busy_only=True,
                              rest_after_kill_s=1.0) as kills:
        run = sync_source(hub, hub.source("hlhpn_files"))
        publish_all(hub, ["members"])

    retried = [r for r in caplog.records if "lost the connection to the warehouse" in r.getMessage()]
    assert sum(kills) > 0 and retried, "the test must actually cut connections in the middle of the work"
    assert not run.problems and run.rows_read == total
    _accounted_exactly_once(hub, total)


def test_a_warehouse_that_stays_away_ends_with_one_line_naming_the_source_and_batch(make_hub, pg_url, tmp_path):
    total = _write_files(tmp_path / "drop")
    hub = make_hub([file_source(tmp_path / "drop")], pg_url)
    hub.settings = hub.settings.model_copy(update={"db_retry_attempts": 3, "db_retry_backoff_s": 0.05})
    hub.code_lists  # noqa: B018
    database = pg_url.rsplit("/", 1)[1]
    outage = terminating_backends(database, every_s=0.05, refuse_new=True)
    started = threading.Event()

    def start_outage_after_the_first_batch() -> None:  # so the outage begins in the middle of the source's run
        with psycopg.connect(f"{ADMIN_DSN} dbname={database}", autocommit=True) as watcher:
            while not watcher.execute("SELECT count(*) FROM batch WHERE status = 'staged'").fetchone()[0]:
                threading.Event().wait(0.01)
        outage.__enter__()
        started.set()

    watcher = threading.Thread(target=start_outage_after_the_first_batch, daemon=True)
    watcher.start()
    try:
        outcome = run_sources(hub, [hub.source("hlhpn_files")])
    finally:
        watcher.join()
        if started.is_set():
            outage.__exit__(None, None, None)

    assert outcome.exit_code == 1
    first = outcome.problems[0]
    assert first.source_id == "hlhpn_files" and "\n" not in first.message
    assert first.message.startswith("hlhpn_files: lost the connection to the warehouse while "), first.message
    assert "batch" in first.message and "of source hlhpn_files" in first.message
    assert "run the sync again" in first.message and "Mất kết nối tới kho dữ liệu" in first.message_vi
    assert "publish" in {p.source_id for p in outcome.problems}, "the steps after say so too, one line each"

    again = run_sources(hub, [hub.source("hlhpn_files")])  # the database is back: the run completes
    assert again.exit_code == 0, [p.message for p in again.problems]
    _accounted_exactly_once(hub, total)
