"""The runner in separate steps, as Airflow tasks run it: land, process, commit the cursor; a crash between repeats."""

from __future__ import annotations

import sqlite3

from lienthong.pipeline import commit_cursor, land_source, process_landed, publish_all
from lienthong.warehouse.landing import get_cursor
from lienthong.warehouse.queries import batches, published_count
from tests.lienthong.test_incremental import _sql_source


def test_land_then_process_then_commit_and_a_retry_repeats_nothing(make_hub, warehouse_url, tmp_path):
    db = tmp_path / "dtn.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE doan_vien (ma TEXT PRIMARY KEY, ho_ten TEXT, ma_xa TEXT, cap_nhat_luc TEXT)")
        conn.executemany("INSERT INTO doan_vien VALUES (?, ?, ?, ?)",
                         [(f"D{i:03d}", f"Trần Văn Nam {i}", "00070", f"2026-10-{1 + i:02d}") for i in range(20)])
    hub = make_hub([_sql_source(str(db))], warehouse_url)
    source = hub.source("dtn_db")

    landing = land_source(hub, source)
    assert len(landing.batch_ids) == 3 and get_cursor(hub.engine, "dtn_db") is None, "not saved before processing"
    assert {b["status"] for b in batches(hub.engine)} == {"landed"}
    retried = land_source(hub, source)  # the task retried after a crash: lands nothing new, same batches wait
    assert (retried.batches_new, retried.batch_ids) == (0, landing.batch_ids)
    assert len(batches(hub.engine)) == 3

    run = process_landed(hub, source)
    again = process_landed(hub, source)  # a retried task after success: nothing left to do
    commit_cursor(hub, source, landing.cursor)
    publish_all(hub, ["members"])

    assert (run.rows_read, run.rows_valid, again.rows_read) == (20, 20, 0)
    assert get_cursor(hub.engine, "dtn_db") == {"watermark": "2026-10-20", "key": "D019"}
    assert published_count(hub.engine, "members") == 20
