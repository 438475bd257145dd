"""Every landed batch reaches a final state (issue 12, row 7), and concurrent writers of one batch or dataset are
safe — on SQLite and PostgreSQL, over a real warehouse.

landed → staged → published, or failed with a reason in English and Vietnamese; landing the same content again
resets a failed batch; the sweeper fails what stays landed too long; one worker at a time takes a batch; two
landings of one payload give one batch; two publishers of one dataset publish each batch once.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from connectors.base import Batch
from connectors.formats import read_payload, resolve_read_options
from lienthong.pipeline import process_received, publish_all, receive_batch, sync_source
from lienthong.registry import SourceConfig
from lienthong.stages.process import process_batch
from lienthong.warehouse.landing import claim_processing, land, mark_failed, release_processing, sweep_stuck
from lienthong.warehouse.queries import batch_status
from lienthong.warehouse.tables import PUBLISHED, publication
from lienthong.warehouse.tables import batch as batch_t
from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import GOOD_ROWS, file_source, members_csv

HOUR = timedelta(hours=1)


def _item(rows: list[str], name: str = "a.csv") -> Batch:
    payload = members_csv(rows).encode()
    options = resolve_read_options(payload, "text/csv", {}, origin=name)
    return Batch(payload, "text/csv", f"api:{name}", read_payload(payload, "text/csv", options, origin=name),
                 read_options=options)


def _rows(prefix: str, n: int) -> list[str]:
    return [row.replace("HV00", f"{prefix}", 1) for row in GOOD_ROWS][:n]


@pytest.fixture
def hub(make_hub, warehouse_url, tmp_path):  # noqa: ANN001, ANN201
    return make_hub([file_source(tmp_path, "hlhpn_push", connector={"type": "push"})], warehouse_url)


def test_a_failed_batch_keeps_its_reason_and_landing_it_again_retries_it(hub) -> None:  # noqa: ANN001
    source = hub.source("hlhpn_push")
    first = receive_batch(hub, source, _item(GOOD_ROWS))
    assert mark_failed(hub.engine, first.batch_id, "the worker stopped", "Tiến trình xử lý bị dừng")
    failed = batch_status(hub.engine, first.batch_id)
    assert (failed["status"], failed["error_en"], failed["error_vi"]) == (
        "failed", "the worker stopped", "Tiến trình xử lý bị dừng")
    assert failed["failed_at"] is not None

    again = receive_batch(hub, source, _item(GOOD_ROWS, name="b.csv"))  # the same content: a re-send
    assert (again.batch_id, again.is_new, again.status, again.retried) == (first.batch_id, False, "landed", True)
    reset = batch_status(hub.engine, first.batch_id)
    assert (reset["status"], reset["error_en"], reset["error_vi"], reset["failed_at"]) == ("landed", None, None, None)
    assert reset["landed_at"] >= failed["landed_at"]

    process_received(hub, source, first.batch_id)
    assert batch_status(hub.engine, first.batch_id)["status"] == "published"
    assert not mark_failed(hub.engine, first.batch_id, "late", "muộn"), "a published batch stays published"
    assert batch_status(hub.engine, first.batch_id)["status"] == "published"


def test_a_rerun_of_a_sync_retries_its_failed_batch(hub, tmp_path) -> None:  # noqa: ANN001
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(GOOD_ROWS), encoding="utf-8")
    source = SourceConfig.model_validate(file_source(drop, "hlhpn_files"))
    run = sync_source(hub, source)
    [batch_id] = run.batch_ids
    mark_failed(hub.engine, batch_id, "stopped", "dừng")
    rerun = sync_source(hub, source)
    assert rerun.batch_ids == [batch_id] and batch_status(hub.engine, batch_id)["status"] == "staged"


def test_the_sweeper_fails_batches_stuck_in_landed(hub) -> None:  # noqa: ANN001
    source = hub.source("hlhpn_push")
    stuck = receive_batch(hub, source, _item(_rows("S1", 1))).batch_id
    taken = receive_batch(hub, source, _item(_rows("S2", 1))).batch_id  # old, but a worker took it just now
    fresh = receive_batch(hub, source, _item(_rows("S3", 1))).batch_id
    with hub.engine.begin() as conn:
        conn.execute(update(batch_t).where(batch_t.c.batch_id.in_([stuck, taken]))
                     .values(landed_at=datetime.now(UTC) - 2 * HOUR))
    assert claim_processing(hub.engine, taken, stale_after=HOUR)

    assert sweep_stuck(hub.engine, older_than=timedelta(minutes=30)) == [stuck]
    b = batch_status(hub.engine, stuck)
    assert b["status"] == "failed"
    assert "30 minutes" in b["error_en"] and "lienthong sync hlhpn_push" in b["error_en"]
    assert "30 phút" in b["error_vi"]
    assert {batch_status(hub.engine, x)["status"] for x in (taken, fresh)} == {"landed"}
    assert sweep_stuck(hub.engine, older_than=timedelta(minutes=30)) == [], "nothing twice"


def test_one_worker_at_a_time_takes_a_batch(hub) -> None:  # noqa: ANN001
    batch_id = receive_batch(hub, hub.source("hlhpn_push"), _item(GOOD_ROWS)).batch_id
    assert claim_processing(hub.engine, batch_id, stale_after=HOUR)
    assert not claim_processing(hub.engine, batch_id, stale_after=HOUR), "taken"
    assert claim_processing(hub.engine, batch_id, stale_after=timedelta(0)), "a stale claim may be taken over"
    release_processing(hub.engine, batch_id)
    assert claim_processing(hub.engine, batch_id, stale_after=HOUR), "given back"
    mark_failed(hub.engine, batch_id, "x", "x")
    assert not claim_processing(hub.engine, batch_id, stale_after=HOUR), "only landed batches are taken"


def test_concurrent_landings_of_one_payload_give_one_batch(hub) -> None:  # noqa: ANN001
    item, n = _item(GOOD_ROWS), 8
    barrier = threading.Barrier(n)

    def one(_: int):  # noqa: ANN202
        barrier.wait()
        return land(hub.engine, source_id="hlhpn_push", dataset="members", item=item)

    with ThreadPoolExecutor(n) as pool:
        landed = list(pool.map(one, range(n)))
    assert sum(x.is_new for x in landed) == 1 and len({x.batch_id for x in landed}) == 1
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(batch_t)).scalar_one() == 1


def test_two_publishers_of_one_dataset_at_once_publish_each_batch_once(hub) -> None:  # noqa: ANN001
    source = hub.source("hlhpn_push")
    for round_no in range(3):
        ids = []
        for k in range(4):
            landed = receive_batch(hub, source, _item([r.replace("HV00", f"R{round_no}B{k}-") for r in GOOD_ROWS]))
            process_batch(hub.engine, source, landed.batch_id, hub.code_lists)
            ids.append(landed.batch_id)
        barrier = threading.Barrier(2)

        def publisher(_: int, barrier: threading.Barrier = barrier):  # noqa: ANN202
            barrier.wait()
            return publish_all(hub, ["members"])

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(publisher, range(2)))
        assert {batch_status(hub.engine, b)["status"] for b in ids} == {"published"}
    with hub.engine.connect() as conn:
        listed = [b for ids in conn.execute(select(publication.c.batch_ids)).scalars() for b in ids]
        published = conn.execute(select(func.count()).select_from(PUBLISHED["members"])).scalar_one()
    assert len(listed) == len(set(listed)) == 12, "each batch in exactly one publication"
    assert published == 36


def test_status_shows_failed_batches_with_their_reason_and_sweeps_first(make_hub, tmp_path) -> None:  # noqa: ANN001
    hub = make_hub([file_source(tmp_path, "hlhpn_push", connector={"type": "push"})])
    source = hub.source("hlhpn_push")
    failed = receive_batch(hub, source, _item(_rows("F", 1))).batch_id
    mark_failed(hub.engine, failed, "processing stopped on an internal error", "Xử lý lô dữ liệu bị dừng")
    stuck = receive_batch(hub, source, _item(_rows("S", 1))).batch_id
    with hub.engine.begin() as conn:
        conn.execute(update(batch_t).where(batch_t.c.batch_id == stuck).values(landed_at=datetime.now(UTC) - HOUR))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_DATABASE_URL=hub.settings.warehouse_url, LIENTHONG_SOURCES_DIR=str(hub.settings.sources_dir),
               LIENTHONG_HOME=str(hub.settings.home), LIENTHONG_BATCH_STUCK_MINUTES="30", COLUMNS="250")
    out = run_cli("status", env=env)  # the command's main(), in this process
    assert out.returncode == 0, out.stderr
    assert "Failed batches" in out.stdout and failed in out.stdout and stuck in out.stdout
    assert "internal error" in out.stdout and "Xử lý lô dữ liệu bị dừng" in out.stdout
    assert "not processed within 30 minutes" in out.stdout
    assert batch_status(hub.engine, stuck)["status"] == "failed"
