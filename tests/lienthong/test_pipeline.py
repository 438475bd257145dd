"""The runner end to end over real files and a real warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from lienthong.pipeline import publish_all, sync_source
from lienthong.warehouse.queries import batches, quarantined
from lienthong.warehouse.tables import PUBLISHED, raw_payload
from lienthong.warehouse.tables import batch as batch_t
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, HEADER, file_source, members_csv


def _drop(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _published(hub) -> dict[str, dict]:
    pub = PUBLISHED["members"]
    with hub.engine.connect() as conn:
        return {r["record_key"]: dict(r) for r in conn.execute(select(pub)).mappings()}


def test_every_row_is_published_or_quarantined_with_its_reasons(make_hub, warehouse_url, tmp_path):
    folder = _drop(tmp_path, "hoi_vien.csv", members_csv(GOOD_ROWS + BAD_ROWS))
    hub = make_hub([file_source(folder)], warehouse_url)
    run = sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])

    assert (run.rows_read, run.rows_valid, run.rows_quarantined) == (6, 3, 3)
    [b] = batches(hub.engine)
    assert b["reconciled"] and b["status"] == "published" and b["rows_published"] == 3
    published = _published(hub)
    assert sorted(published) == ["hlhpn_files:HV001", "hlhpn_files:HV002", "hlhpn_files:HV003"]
    hv2 = published["hlhpn_files:HV002"]
    assert (hv2["full_name"], hv2["given_name"], hv2["sex"], hv2["phone"]) == ("Trần Thị Lan", "Lan", "2", "0983123456")
    assert hv2["province_code"] == "01" and hv2["version"] == 1 and hv2["deleted"] is False

    reasons = {q["row_no"]: q["reasons"] for q in quarantined(hub.engine)}
    assert sorted(reasons) == [3, 4, 5]
    assert [r["column"] for r in reasons[3]] == ["full_name"]
    assert reasons[4][0]["rule"] == "date_invalid" and "31/02/1990" in reasons[4][0]["message_vi"]
    assert {r["column"] for r in reasons[5]} == {"id_number", "ethnicity_code", "ward_code"}
    id_reason = next(r for r in reasons[5] if r["column"] == "id_number")
    assert id_reason["value"] == "*******123", "an ID number is never stored or shown in full"
    assert all(r["message_vi"] and r["message_en"] for rs in reasons.values() for r in rs)


def test_landing_the_same_file_again_changes_nothing(make_hub, warehouse_url, tmp_path):
    folder = _drop(tmp_path, "hoi_vien.csv", members_csv(GOOD_ROWS))
    hub = make_hub([file_source(folder)], warehouse_url)
    sync_source(hub, hub.source("hlhpn_files"))
    [first] = publish_all(hub, ["members"])
    before = _published(hub)

    (folder / "copy_of_hoi_vien.csv").write_bytes((folder / "hoi_vien.csv").read_bytes())  # re-sent under a new name
    again = sync_source(hub, hub.source("hlhpn_files"))
    [second] = publish_all(hub, ["members"])

    assert (again.batches_new, again.batches_seen) == (0, 2)
    assert second.seq is None, "nothing new was staged, so nothing is published"
    assert _published(hub) == before
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(batch_t)).scalar_one() == 1
    assert first.rows_inserted == 3


def test_a_changed_record_gets_a_new_version_and_the_rest_keep_theirs(make_hub, warehouse_url, tmp_path):
    folder = _drop(tmp_path, "a.csv", members_csv(GOOD_ROWS))
    hub = make_hub([file_source(folder)], warehouse_url)
    sync_source(hub, hub.source("hlhpn_files"))
    [p1] = publish_all(hub, ["members"])
    changed = GOOD_ROWS[0].replace("0912345678", "0987654321")
    _drop(tmp_path, "b.csv", members_csv([changed, GOOD_ROWS[1]]))
    sync_source(hub, hub.source("hlhpn_files"))
    [p2] = publish_all(hub, ["members"])

    published = _published(hub)
    assert (p2.rows_inserted, p2.rows_updated, p2.rows_unchanged) == (0, 1, 1)
    assert published["hlhpn_files:HV001"]["phone"] == "0987654321"
    assert published["hlhpn_files:HV001"]["version"] == 2
    assert published["hlhpn_files:HV001"]["published_seq"] == p2.seq
    assert published["hlhpn_files:HV002"]["version"] == 1
    assert published["hlhpn_files:HV002"]["published_seq"] == p1.seq


def test_a_key_repeated_within_a_batch_is_quarantined_not_lost(make_hub, tmp_path):
    folder = _drop(tmp_path, "a.csv", members_csv([GOOD_ROWS[0], GOOD_ROWS[0].replace("Hoà", "Hòa")]))
    hub = make_hub([file_source(folder)])
    run = sync_source(hub, hub.source("hlhpn_files"))
    assert (run.rows_valid, run.rows_quarantined) == (1, 1)
    [q] = quarantined(hub.engine)
    assert q["row_no"] == 1 and q["reasons"][0]["rule"] == "duplicate_key"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "\nHV001;only;three\n", "line"),  # ragged row
        (HEADER.replace("Họ và tên", "Ho ten") + "\n" + GOOD_ROWS[0] + "\n", "Họ và tên"),  # missing column
        (HEADER + ";Cột lạ\n" + GOOD_ROWS[0] + ";x\n", "Cột lạ"),  # unknown column
    ],
    ids=["ragged", "missing-column", "unknown-column"],
)
def test_bad_input_is_refused_and_leaves_the_warehouse_unchanged(make_hub, warehouse_url, tmp_path, text, expected):
    folder = _drop(tmp_path, "bad.csv", text)
    hub = make_hub([file_source(folder)], warehouse_url)
    [problem] = sync_source(hub, hub.source("hlhpn_files")).problems  # refused alone: the source's run goes on
    assert "hlhpn_files" in problem.message and "bad.csv" in problem.message
    assert expected in problem.message
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(batch_t)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(raw_payload)).scalar_one() == 0


def test_unknown_column_error_speaks_vietnamese_to_the_clerk(make_hub, tmp_path):
    folder = _drop(tmp_path, "bad.csv", HEADER + ";Cột lạ\n" + GOOD_ROWS[0] + ";x\n")
    hub = make_hub([file_source(folder)])
    [problem] = sync_source(hub, hub.source("hlhpn_files")).problems
    assert "có cột lạ Cột lạ" in problem.message_vi


def test_raw_payload_is_kept_and_can_be_processed_again(make_hub, tmp_path):
    from lienthong.stages.process import process_batch

    folder = _drop(tmp_path, "a.csv", members_csv(GOOD_ROWS + BAD_ROWS))
    hub = make_hub([file_source(folder)])
    sync_source(hub, hub.source("hlhpn_files"))
    [b] = batches(hub.engine)
    again = process_batch(hub.engine, hub.source("hlhpn_files"), b["batch_id"], hub.code_lists)  # from the raw zone
    assert (again.rows_read, again.rows_valid, again.rows_quarantined) == (6, 3, 3)
    assert len(quarantined(hub.engine)) == 3, "re-processing replaces, never duplicates"


def test_a_feed_typed_in_the_tcvn3_font_is_published_in_unicode(make_hub, warehouse_url, tmp_path):
    """Old Excel files from provincial staff: TCVN3 (ABC) bytes, headers included, old addresses, no ward code."""
    from lienthong.vietnamese.legacy_encodings import encode_tcvn3

    header = HEADER.replace("Mã xã", "Mã xã").split(";")
    rows = [
        "HV101;An Nguyễn Văn;Nam;1985;;0168 123 4567;Kinh;Không;;P. Phúc Xá, Q. Ba Đình, TP. Hà Nội;Chi hội 1;;active",
        "HV102;Trần Thị Hoà;Nữ;12/03/1990;;0912345678;Mường;Không;00070;;Chi hội 1;;active",
    ]
    text = "\r\n".join([";".join(header), *rows]) + "\r\n"
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "hoi_vien_cu.csv").write_bytes(encode_tcvn3(text).encode("cp1252"))
    hub = make_hub([file_source(folder)], warehouse_url)
    run = sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])

    assert (run.rows_read, run.rows_valid, run.rows_quarantined) == (2, 2, 0)
    published = _published(hub)
    hv1, hv2 = published["hlhpn_files:HV101"], published["hlhpn_files:HV102"]
    assert (hv1["full_name"], hv1["family_name"], hv1["given_name"]) == ("Nguyễn Văn An", "Nguyễn", "An")
    assert (hv1["date_of_birth"], hv1["birth_year"], hv1["phone"]) == (None, 1985, "0381234567")
    assert (hv1["ward_code"], hv1["province_code"]) == ("00097", "01")  # Phúc Xá, from the pre-2025 address
    assert hv1["issues"].split(";") == ["legacy_encoding_tcvn3", "name_reversed", "date_year_only",
                                        "phone_converted_2018", "address_legacy_converted"]
    assert (hv2["full_name"], hv2["ethnicity_code"]) == ("Trần Thị Hòa", "04")


def test_a_scheduled_sync_of_a_push_source_finds_nothing(make_hub, tmp_path):
    hub = make_hub([file_source(tmp_path, "hnd_push", connector={"type": "push"})])
    run = sync_source(hub, hub.source("hnd_push"))
    assert (run.rows_read, run.rows_valid, run.rows_quarantined) == (0, 0, 0)


def test_a_small_registry_is_matched_with_the_shipped_model(make_hub, warehouse_url, tmp_path):
    """EM cannot train on three members: the shipped default model is used, recorded as such, and the sync
    does not fail; the registry's own model comes once it has grown."""
    from lienthong.match.stage import MIN_TRAINING_RECORDS
    from lienthong.pipeline import match_published
    from lienthong.warehouse.tables_match import latest_model_rows

    folder = _drop(tmp_path, "hoi_vien.csv", members_csv(GOOD_ROWS))
    hub = make_hub([file_source(folder)], warehouse_url)
    sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])
    figures = match_published(hub, ["members", "feedback"])
    assert list(figures) == ["members"]
    assert figures["members"]["records"] == 3 and figures["members"]["entities_created"] == 3
    assert latest_model_rows(hub.engine, "members") == 0 < MIN_TRAINING_RECORDS
    assert match_published(hub, ["members"])["members"]["records"] == 0, "nothing new: nothing matched again"


def test_a_full_snapshot_source_deletes_what_a_delivery_no_longer_holds(make_hub, warehouse_url, tmp_path):
    """Each file is the organisation's whole list: a member missing from the next one is a tombstone; one still
    there but refused is not; one who comes back is published again; a truncated export deletes nothing."""
    folder = tmp_path / "drop"
    folder.mkdir()
    hub = make_hub([file_source(folder, full_snapshot=True)], warehouse_url)
    members = PUBLISHED["members"]

    def deliver(name: str, rows: list[str]) -> None:
        (folder / name).write_text(members_csv(rows), encoding="utf-8")
        sync_source(hub, hub.source("hlhpn_files"))

    def live() -> set[str]:
        with hub.engine.connect() as conn:
            return set(conn.execute(select(members.c.record_key).where(~members.c.deleted)).scalars())

    extra = [row.replace("HV003", f"HV0{n}") for n, row in ((10, GOOD_ROWS[2]), (11, GOOD_ROWS[2]))]
    deliver("1.csv", GOOD_ROWS + extra)  # HV001-3, HV010, HV011
    publish_all(hub, ["members"])
    assert len(live()) == 5
    refused_hv010 = extra[0].replace("Lê Thị Mai", "")  # HV010 is still a member, but sent without a name
    deliver("2.csv", GOOD_ROWS[:2] + [refused_hv010, extra[1]])  # HV003 has left
    [pub] = publish_all(hub, ["members"])
    assert pub.rows_deleted == 1
    assert live() == {"hlhpn_files:HV001", "hlhpn_files:HV002", "hlhpn_files:HV010", "hlhpn_files:HV011"}
    with hub.engine.connect() as conn:
        gone = conn.execute(select(members).where(members.c.record_key == "hlhpn_files:HV003")).one()
    assert gone.deleted and gone.version == 2 and gone.published_seq == pub.seq  # consumers see the deletion

    deliver("3.csv", [GOOD_ROWS[0]])  # a truncated export: would delete 3 of 4
    [pub] = publish_all(hub, ["members"])
    assert pub.rows_deleted == 0 and len(live()) == 4

    deliver("4.csv", extra + GOOD_ROWS)  # HV003 is back (a new export: other order, other bytes)
    publish_all(hub, ["members"])
    assert len(live()) == 5
