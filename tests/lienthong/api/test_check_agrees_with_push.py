"""The issue's scenario: a feed with one person registered twice, an empty-name row and a garbage row, pushed to a
real server; `lienthong check FILE --source … --json` reports exactly the rows the push refused, same numbers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import HEADER

pytestmark = pytest.mark.integration
WORKTREE = Path(__file__).parents[3]
ROWS = [
    "HV101;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 1;;active",
    # the same person registered again under another member id: both published, one entity (not refused)
    "HV102;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 2;;active",
    "HV103;;Nữ;15/07/1990;079190123456;0983123456;Kinh;Không;00070;;Chi hội 1;;active",  # empty name: row 4
    "",  # a blank line: row 5 as the clerk's spreadsheet shows it
    "@@@;#####;???;99/99/9999;abc;xyz;???;???;zzz;;;;",  # garbage: row 6
    ";;;;;;;;;;;;",  # an empty row: row 7
]


def test_check_reports_exactly_the_rows_the_push_refused(server: Server, tmp_path: Path) -> None:
    feed = tmp_path / "hoi_vien.csv"
    feed.write_text("\ufeff" + "\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    upload = "/api/v1/feeds/hnd_push/batches"
    with server.client("hnd") as c:
        r = c.post(upload, content=feed.read_bytes(), headers={"Content-Type": "text/csv"}, params={"wait": "true"})
        assert r.status_code == 201, r.text
        report = r.json()
        rejects = c.get(f"{upload}/{report['batch_id']}/rejects.csv")
    pushed = {q["row"]: sorted(x["rule"] for x in q["reasons"]) for q in report["quarantined"]}
    assert sorted(pushed) == [4, 6, 7] and report["rows_valid"] == 2

    done = subprocess.run(
        [sys.executable, "-m", "lienthong.cli", "check", str(feed), "--source", "hnd_push", "--json"],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "PYTHONPATH": str(WORKTREE), "LIENTHONG_SOURCES_DIR": str(tmp_path / "sources"),
             "LIENTHONG_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 1, done.stderr
    checked = json.loads(done.stdout)
    assert checked["rows"] == report["rows_received"]
    assert {f["row"]: sorted(x["rule"] for x in f["reasons"]) for f in checked["failing"]} == pushed

    lines = list(csv.DictReader(io.StringIO(rejects.content.decode("utf-8-sig")), delimiter=";"))
    assert [int(line["Dòng gốc"]) for line in lines] == [4, 6, 7]  # the rejects file numbers them the same
