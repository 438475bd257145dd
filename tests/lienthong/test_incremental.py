"""Incremental sources resume from their stored cursor; a failed run does not advance it."""

from __future__ import annotations

import sqlite3

import pytest

from lienthong.demo.member_api import Faults, serve_member_api
from lienthong.errors import HubError
from lienthong.pipeline import publish_all, sync_source
from lienthong.warehouse.landing import get_cursor
from lienthong.warehouse.queries import published_count

API_MAPPING = {"member_id": "id", "full_name": "name", "date_of_birth": "dob", "ward_code": "ward"}


def _api_record(i: int, updated: str) -> dict:
    return {"id": f"M{i:04d}", "name": f"Nguyễn Thị Lan {i}", "dob": "01/02/1990", "ward": "00070",
            "updated_at": updated}


def _rest_source(url: str) -> dict:
    return {
        "id": "hlhpn_api", "title": "API", "organisation": "HLHPN", "dataset": "members",
        "connector": {"type": "rest", "url": url, "records_path": "data",
                      "pagination": {"type": "page", "page_size": 10},
                      "auth": {"type": "bearer", "token_env": "TEST_MEMBER_API_TOKEN"},
                      "incremental": {"param": "updated_since", "field": "updated_at"},
                      "backoff_s": 0.01, "max_retries": 2},
        "mapping": API_MAPPING, "constants": {"organisation": "HLHPN"}, "ignore_columns": ["updated_at"],
    }


@pytest.mark.integration
def test_rest_source_resumes_from_its_cursor_and_a_failed_run_keeps_it(make_hub, warehouse_url, monkeypatch):
    monkeypatch.setenv("TEST_MEMBER_API_TOKEN", "s3cret-token-for-this-test")
    records = [_api_record(i, f"2026-10-01T08:00:{i:02d}") for i in range(25)]
    with serve_member_api(records, token="s3cret-token-for-this-test") as api:
        hub = make_hub([_rest_source(api.members_url)], warehouse_url)
        first = sync_source(hub, hub.source("hlhpn_api"))
        publish_all(hub, ["members"])
        assert (first.rows_read, first.batches_new) == (25, 3)
        assert get_cursor(hub.engine, "hlhpn_api") == {"updated_since": "2026-10-01T08:00:24"}

        nothing = sync_source(hub, hub.source("hlhpn_api"))
        assert nothing.rows_read == 0 and "updated_since=2026-10-01T08%3A00%3A24" in api.requests[-1]

        api.records.extend(_api_record(i, f"2026-10-02T09:00:{i - 25:02d}") for i in range(25, 40))
        api.faults = Faults(html_on_page=len(api.requests) + 2)  # the 2nd page of the next run is a maintenance page
        with pytest.raises(HubError, match="page"):
            sync_source(hub, hub.source("hlhpn_api"))
        assert get_cursor(hub.engine, "hlhpn_api") == {"updated_since": "2026-10-01T08:00:24"}, "not advanced"

        api.faults = Faults()
        again = sync_source(hub, hub.source("hlhpn_api"))
        publish_all(hub, ["members"])
    # The connector reads one page ahead (the cursor rides on the last page), so the failed run landed nothing.
    assert (again.batches_seen, again.batches_new, again.rows_read) == (0, 2, 15)
    assert get_cursor(hub.engine, "hlhpn_api") == {"updated_since": "2026-10-02T09:00:14"}
    assert published_count(hub.engine, "members") == 40


def test_rest_source_with_a_wrong_token_fails_clearly_and_lands_nothing(make_hub, monkeypatch):
    monkeypatch.setenv("TEST_MEMBER_API_TOKEN", "wrong")
    with serve_member_api([_api_record(1, "2026-10-01T08:00:00")], token="right") as api:
        hub = make_hub([_rest_source(api.members_url)])
        with pytest.raises(HubError) as info:
            sync_source(hub, hub.source("hlhpn_api"))
    assert "401" in str(info.value) and "wrong" not in str(info.value)
    assert get_cursor(hub.engine, "hlhpn_api") is None


def _sql_source(path: str) -> dict:
    return {
        "id": "dtn_db", "title": "DB", "organisation": "DTN", "dataset": "members",
        "connector": {"type": "sql", "url": f"sqlite:///{path}", "table": "doan_vien",
                      "watermark": "cap_nhat_luc", "key": "ma", "chunk_size": 7},
        "mapping": {"member_id": "ma", "full_name": "ho_ten", "ward_code": "ma_xa"},
        "constants": {"organisation": "DTN"}, "ignore_columns": ["cap_nhat_luc"],
    }


def test_sql_source_resumes_after_the_last_landed_chunk(make_hub, warehouse_url, tmp_path):
    db = tmp_path / "dtn.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE doan_vien (ma TEXT PRIMARY KEY, ho_ten TEXT, ma_xa TEXT, cap_nhat_luc TEXT)")
        # many rows share a watermark value: the keyset cursor must not skip any of them
        conn.executemany("INSERT INTO doan_vien VALUES (?, ?, ?, ?)",
                         [(f"D{i:03d}", f"Trần Văn Nam {i}", "00070", f"2026-10-0{1 + i // 10}") for i in range(30)])
    hub = make_hub([_sql_source(str(db))], warehouse_url)
    first = sync_source(hub, hub.source("dtn_db"))
    assert (first.rows_read, first.batches_new) == (30, 5)
    assert get_cursor(hub.engine, "dtn_db") == {"watermark": "2026-10-03", "key": "D029"}

    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO doan_vien VALUES (?, ?, ?, ?)",
                         [(f"D{i:03d}", f"Trần Văn Nam {i}", "00070", "2026-10-03") for i in range(30, 33)])
        conn.execute("UPDATE doan_vien SET ho_ten = 'Trần Văn Nam Mới', cap_nhat_luc = '2026-10-05' WHERE ma = 'D001'")
    second = sync_source(hub, hub.source("dtn_db"))
    publish_all(hub, ["members"])
    assert second.rows_read == 4, "the three new rows sharing the last watermark, and the one updated row"
    assert published_count(hub.engine, "members") == 33


def test_a_database_that_is_down_is_a_clear_error(make_hub):
    source = _sql_source("/nonexistent/folder/dtn.sqlite")
    hub = make_hub([source])
    with pytest.raises(HubError) as info:
        sync_source(hub, hub.source("dtn_db"))
    assert "dtn_db" in str(info.value)
    assert get_cursor(hub.engine, "dtn_db") is None
