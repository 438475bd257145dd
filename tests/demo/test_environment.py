"""prepare_demo: every source written, byte for byte reproducible, readable as its registry entry says."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lienthong.demo.environment import (
    DTN_COLUMNS,
    FEEDBACK_HEADERS,
    HLHPN_KEYS,
    HND_HEADERS,
    RELIEF_KEYS,
    DemoEnvironment,
    prepare_demo,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoEnvironment:
    return prepare_demo(tmp_path_factory.mktemp("home") / "demo", seed=7)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _csv(path: Path, *, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def test_same_seed_writes_the_same_bytes(demo: DemoEnvironment, tmp_path: Path) -> None:
    again = prepare_demo(tmp_path / "demo", seed=7)
    assert _files(again.folder) == _files(demo.folder)
    assert again.api_records == demo.api_records
    prepare_demo(tmp_path / "demo", seed=7)  # writing over an existing demo gives the same bytes again
    assert _files(tmp_path / "demo") == _files(demo.folder)
    other = prepare_demo(tmp_path / "other", seed=8)
    assert _files(other.folder)["dtn.sqlite"] != _files(demo.folder)["dtn.sqlite"]


def test_every_file_is_written(demo: DemoEnvironment) -> None:
    written = set(_files(demo.folder))
    assert {
        "drop/hnd/danh_sach_hoi_vien_202610_chi_hoi_1.xlsx",
        "drop/hnd/danh_sach_hoi_vien_202610_chi_hoi_2.csv",
        "dtn.sqlite", "drop/feedback/phan_anh_20261031.csv", "drop/relief/cuu_tro.json",
        "truth/hlhpn_api.csv", "truth/hnd_files.csv", "truth/dtn_db.csv", "truth/feedback_247.csv",
        "truth/relief_campaigns.csv", "truth/people.csv",
    } == written
    assert demo.counts == {"hlhpn_api": 2000, "hnd_files": 1500, "dtn_db": 1500, "feedback_247": 800,
                           "relief_campaigns": 600}


def test_hnd_drop_has_an_xlsx_and_a_semicolon_csv_with_vietnamese_headers(demo: DemoEnvironment) -> None:
    xlsx, csv_path = demo.hnd_files
    sheet = load_workbook(xlsx, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = [*HND_HEADERS.values(), "Ghi chú"]
    assert list(rows[0]) == headers
    assert all(isinstance(v, str) or v is None for row in rows[1:] for v in row)  # text cells: zeros kept
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.splitlines()[0].decode("utf-8-sig").split(";") == headers
    body = _csv(csv_path, delimiter=";")
    assert len(rows) - 1 + len(body) == demo.counts["hnd_files"]
    assert {r["Dân tộc"] for r in body} >= {"Kinh"}  # ethnic group by name in this source
    truth = _csv(demo.truth_files["hnd_files"])
    assert [t["member_id"] for t in truth] == [r[0] for r in rows[1:]] + [r["Mã hội viên"] for r in body]


def test_dtn_database_table(demo: DemoEnvironment) -> None:
    with sqlite3.connect(demo.dtn_database) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(doan_vien)")]
        count = db.execute("SELECT count(*) FROM doan_vien").fetchone()[0]
        born, changed = db.execute("SELECT ngay_sinh, cap_nhat_luc FROM doan_vien LIMIT 1").fetchone()
    assert columns == [*DTN_COLUMNS.values(), "cap_nhat_luc"]
    assert count == demo.counts["dtn_db"]
    assert len(born) == 10 and born[4] == "-"  # ISO dates in this source
    assert len(changed) == 19 and changed[10] == " "


def test_api_records_feedback_and_relief(demo: DemoEnvironment) -> None:
    assert len(demo.api_records) == demo.counts["hlhpn_api"]
    assert list(demo.api_records[0]) == [*HLHPN_KEYS.values(), "updated_at"]
    assert all(r["gioi_tinh"] == "Nữ" for r in demo.api_records)
    feedback = _csv(demo.feedback_file)
    assert len(feedback) == demo.counts["feedback_247"]
    assert list(feedback[0]) == [*FEEDBACK_HEADERS.values(), "Nội dung tóm tắt"]
    relief = json.loads(demo.relief_file.read_text(encoding="utf-8"))
    assert list(relief) == ["data"] and len(relief["data"]) == demo.counts["relief_campaigns"]
    assert list(relief["data"][0]) == [*RELIEF_KEYS.values(), "ghi_chu"]


def test_truth_links_people_across_organisations(demo: DemoEnvironment) -> None:
    people = {
        name: {t["person_id"] for t in _csv(demo.truth_files[name])}
        for name in ("hlhpn_api", "hnd_files", "dtn_db")
    }
    for name, ids in people.items():
        others = set().union(*(v for k, v in people.items() if k != name))
        assert 0.01 < len(ids & others) / len(ids) < 0.10, name  # a few per cent belong to two organisations
    known = {p["person_id"] for p in _csv(demo.truth_files["people"])}
    assert set().union(*people.values()) <= known
    for name in ("hlhpn_api", "hnd_files", "dtn_db"):
        truth = _csv(demo.truth_files[name])
        assert len(truth) == demo.counts[name]
        assert 0.02 < sum(1 for t in truth if t["error"]) / len(truth) < 0.04
