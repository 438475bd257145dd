"""A file landed in parts: it reconciles, a crash between parts resumes without duplicates, a re-send changes
nothing, and quarantine reasons name the file's rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.formats import file_row
from lienthong.pipeline import SourceRun, land_source, process_landed, publish_all, sync_source
from lienthong.warehouse.queries import batches, quarantined
from lienthong.warehouse.tables import PUBLISHED, STAGING
from tests.lienthong.conftest import HEADER, file_source

ROWS = 350
PART_ROWS = 100
NAMELESS = {5, 150, 340}  # 1-based records without a name: quarantined, in parts 1, 2 and 4


def _drop(tmp_path: Path, same_key: dict[int, int] | None = None) -> Path:
    """The file; ``same_key``: record -> the earlier record whose member id it repeats."""
    folder = tmp_path / "drop"
    folder.mkdir()
    ids = {i: (same_key or {}).get(i, i) for i in range(1, ROWS + 1)}
    rows = [f"HV{ids[i]:04d};{'' if i in NAMELESS else 'Lê Thị Mai'};nữ;1992-12-31;;0377 123 456;Kinh;Phật giáo;"
            f"00004;;Chi hội 2;;active" for i in range(1, ROWS + 1)]
    (folder / "hoi_vien.csv").write_text("\ufeff" + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return folder


def _source(folder: Path) -> dict:
    source = file_source(folder)
    source["connector"]["part_rows"] = PART_ROWS
    return source


def _count(hub, table) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


class Crash(Exception):
    """The process dying between two parts, as far as the warehouse can tell."""


def _crash_after(parts: int):  # noqa: ANN202
    def hook(run: SourceRun) -> None:
        if run.batches_new == parts:
            raise Crash
    return hook


def test_a_file_in_parts_reconciles_and_names_the_files_rows(make_hub, warehouse_url, tmp_path):
    hub = make_hub([_source(_drop(tmp_path))], warehouse_url)
    run = sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])

    landed = batches(hub.engine)
    assert len(landed) == 4 and run.batches_new == 4
    assert all(b["reconciled"] and b["status"] == "published" for b in landed)
    assert sum(b["rows_read"] for b in landed) == ROWS == run.rows_read
    assert _count(hub, PUBLISHED["members"]) + len(quarantined(hub.engine)) == ROWS
    options = {b["batch_id"]: b for b in landed}
    rows = sorted(file_row(q["row_no"], options[q["batch_id"]]["media_type"], options[q["batch_id"]]["read_options"])
                  for q in quarantined(hub.engine))
    assert rows == [i + 1 for i in sorted(NAMELESS)], "the header is row 1: record i is row i + 1 of the file"


def test_a_crash_between_parts_resumes_without_duplicates(make_hub, warehouse_url, tmp_path):
    hub = make_hub([_source(_drop(tmp_path))], warehouse_url)
    with pytest.raises(Crash):
        sync_source(hub, hub.source("hlhpn_files"), on_batch=_crash_after(2))
    assert [b["status"] for b in batches(hub.engine)] == ["staged", "staged"]

    again = sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])

    assert (again.batches_new, again.batches_seen) == (2, 2), "parts landed before are skipped by identity"
    assert len(batches(hub.engine)) == 4
    assert _count(hub, PUBLISHED["members"]) == ROWS - len(NAMELESS)
    assert len(quarantined(hub.engine)) == len(NAMELESS)
    assert _count(hub, STAGING["members"]) == 0


def test_a_crash_between_landed_parts_in_steps_resumes_too(make_hub, warehouse_url, tmp_path):
    """Airflow's way: land every part, then process them from the raw zone, each part re-read alone."""
    hub = make_hub([_source(_drop(tmp_path))], warehouse_url)
    source = hub.source("hlhpn_files")
    landing = land_source(hub, source)
    assert len(landing.batch_ids) == 4
    run = process_landed(hub, source)
    publish_all(hub, ["members"])
    assert (run.rows_read, run.rows_quarantined) == (ROWS, len(NAMELESS))
    assert land_source(hub, source).batch_ids == [], "landing again finds every part done"


def test_a_file_sent_again_changes_nothing(make_hub, warehouse_url, tmp_path):
    folder = _drop(tmp_path)
    hub = make_hub([_source(folder)], warehouse_url)
    sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])
    (folder / "gui_lai.csv").write_bytes((folder / "hoi_vien.csv").read_bytes())

    again = sync_source(hub, hub.source("hlhpn_files"))
    [publication] = publish_all(hub, ["members"])

    assert (again.batches_new, again.batches_seen) == (0, 8)
    assert publication.seq is None and len(batches(hub.engine)) == 4
    assert len(quarantined(hub.engine)) == len(NAMELESS)


def test_a_full_snapshot_in_parts_is_compared_as_one_delivery(make_hub, warehouse_url, tmp_path):
    """Every part of the newest file together is the source's list: only who left it is deleted."""
    folder = _drop(tmp_path)
    hub = make_hub([{**_source(folder), "full_snapshot": True}], warehouse_url)
    sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])
    lines = (folder / "hoi_vien.csv").read_text(encoding="utf-8").splitlines()
    (folder / "hoi_vien.csv").unlink()
    (folder / "thang_sau.csv").write_text("\n".join(lines[:-10]) + "\n", encoding="utf-8")  # 10 members left

    sync_source(hub, hub.source("hlhpn_files"))
    [publication] = publish_all(hub, ["members"])

    assert publication.rows_deleted == 10, "the last part alone would have deleted all of the others"


def test_a_key_repeated_in_a_later_part_is_refused_as_in_a_whole_file(make_hub, warehouse_url, tmp_path):
    hub = make_hub([_source(_drop(tmp_path, same_key={250: 20}))], warehouse_url)
    sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])

    [repeated] = [q for q in quarantined(hub.engine) if q["reasons"][0]["rule"] == "duplicate_key"]
    b = batches(hub.engine, batch_ids=[repeated["batch_id"]])[0]
    assert file_row(repeated["row_no"], b["media_type"], b["read_options"]) == 251
    assert "dòng 20 " in repeated["reasons"][0]["message_vi"], "the first record with the key, counted in the file"
    assert _count(hub, PUBLISHED["members"]) == ROWS - len(NAMELESS) - 1
