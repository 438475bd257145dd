"""Quarantined rows can be retried after a fix to a shared code list, and the counts still reconcile."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from catalog.model import CodeList, CodeValue
from lienthong.pipeline import publish_all, sync_source
from lienthong.stages.retry import retry_quarantine
from lienthong.warehouse.catalog_store import store_code_lists
from lienthong.warehouse.queries import batches, published_count, quarantined
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, file_source, members_csv


def test_retry_releases_rows_that_pass_after_a_code_list_update(make_hub, warehouse_url, tmp_path: Path):
    folder = tmp_path / "drop"
    folder.mkdir()
    unknown_branch_code = GOOD_ROWS[0].replace("HV001", "HV010").replace(";active", ";paused")
    (folder / "a.csv").write_text(members_csv([*GOOD_ROWS, BAD_ROWS[0], unknown_branch_code]), encoding="utf-8")
    hub = make_hub([file_source(folder)], warehouse_url)
    sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])
    assert published_count(hub.engine, "members") == 3

    statuses = hub.code_lists["member_statuses"]
    extended = CodeList(
        name=statuses.name, version=statuses.version + "+paused", title_vi=statuses.title_vi,
        title_en=statuses.title_en, valid_from=date(2026, 1, 1), basis="test",
        values=(*statuses.values, CodeValue("paused", "Tạm dừng sinh hoạt")),
    )
    store_code_lists(hub.engine, [extended])
    hub.refresh_code_lists()
    [result] = retry_quarantine(hub)
    publish_all(hub, ["members"])

    assert (result.released, result.still_failing) == (1, 1)
    assert published_count(hub.engine, "members") == 4
    [b] = batches(hub.engine)
    assert (b["rows_read"], b["rows_valid"], b["rows_quarantined"]) == (5, 4, 1) and b["reconciled"]
    assert [q["row_no"] for q in quarantined(hub.engine)] == [3]
    assert [q["row_no"] for q in quarantined(hub.engine, status="released")] == [4]
