"""One reader for every door (issue 14): a clerk's workbook — title block with the national motto, an STT column,
a column-number row, a spacer row, a footer of place, date and signatures, and in the second case one sheet per
branch — goes through `lienthong check`, `lienthong normalize` and an API push: the same table, the same header
row told to the clerk, the same rows refused under the same row numbers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import openpyxl
import pytest

from connectors.base import MEDIA_XLSX
from tests.connectors.clerk_files import FOOTER, TITLE
from tests.lienthong.api.conftest import Server
from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, MEMBER_COLUMNS

pytestmark = pytest.mark.integration
WORKTREE = Path(__file__).parents[3]
UPLOAD = "/api/v1/feeds/hnd_push/batches"


def _sheet_rows(rows: list[str], spacer_after: int) -> list[list[object]]:
    """Title block (rows 1-4), header (5), "(1) (2) …" (6), the rows with a spacer holding only its STT, footer."""
    out: list[list[object]] = [*TITLE, ["STT", *MEMBER_COLUMNS.values()],
                               [f"({i})" for i in range(1, len(MEMBER_COLUMNS) + 2)]]
    for i, row in enumerate(rows, start=1):
        out.append([i, *(cell or None for cell in row.split(";"))])
        if i == spacer_after:
            out.append([None])
            out.append([99])  # a row of nothing but a number in the STT column
    return [*out, *FOOTER]


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(WORKTREE), "LIENTHONG_SOURCES_DIR": str(tmp_path / "sources"),
           "LIENTHONG_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    return run_cli(*args, env=env)  # the command's main(), in this process


def _push(server: Server, payload: bytes, name: str) -> tuple[dict, list[dict]]:
    with server.client("hnd") as c:
        r = c.post(UPLOAD, content=payload, headers={"Content-Type": MEDIA_XLSX},
                   params={"wait": "true", "filename": name})
        assert r.status_code == 201, r.text
        report = r.json()
        rejects = c.get(f"{UPLOAD}/{report['batch_id']}/rejects.csv")
    return report, list(csv.DictReader(io.StringIO(rejects.content.decode("utf-8-sig"))))


def test_a_title_block_workbook_reads_the_same_through_check_normalize_and_push(server: Server,
                                                                                tmp_path: Path) -> None:
    feed = tmp_path / "danh_sach.xlsx"
    feed.write_bytes(_workbook({"Danh sách": _sheet_rows([*GOOD_ROWS, *BAD_ROWS], spacer_after=2)}))
    bad_rows = [12, 13, 14]  # 4 title rows, header, "(1) (2) …", 2 rows, 2 spacers, 1 row, then the bad ones

    report, rejects = _push(server, feed.read_bytes(), feed.name)
    assert report["rows_received"] == len(GOOD_ROWS) + len(BAD_ROWS)
    assert report["rows_valid"] == len(GOOD_ROWS)
    assert [q["row"] for q in report["quarantined"]] == bad_rows
    assert [int(line["Dòng gốc"]) for line in rejects] == bad_rows

    checked = _cli(["check", str(feed), "--source", "hnd_push", "--json"], tmp_path)
    assert checked.returncode == 1, checked.stderr
    result = json.loads(checked.stdout)
    assert result["header"] == "Dòng tiêu đề: dòng 5 (trang 'Danh sách')"
    assert result["rows"] == report["rows_received"]
    assert [f["row"] for f in result["failing"]] == bad_rows

    out = tmp_path / "sach.csv"
    normalized = _cli(["normalize", str(feed), "--out", str(out)], tmp_path)
    assert normalized.returncode == 0, normalized.stderr
    assert "Dòng tiêu đề: dòng 5 (trang 'Danh sách')" in normalized.stdout
    cleaned = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [row["Mã hội viên"] for row in cleaned] == [row.split(";")[0] for row in [*GOOD_ROWS, *BAD_ROWS]]
    assert "STT" not in cleaned[0]  # the numbering column is not data


def test_a_workbook_with_a_sheet_per_branch_names_the_sheet_in_every_row_reference(server: Server,
                                                                                  tmp_path: Path) -> None:
    feed = tmp_path / "chi_hoi.xlsx"
    feed.write_bytes(_workbook({"Bìa": [["DANH SÁCH HỘI VIÊN"]],
                                "Chi hội 1": _sheet_rows(GOOD_ROWS, spacer_after=0),
                                "Chi hội 2": _sheet_rows(BAD_ROWS, spacer_after=0)}))
    expected = ["Chi hội 2, dòng 7", "Chi hội 2, dòng 8", "Chi hội 2, dòng 9"]

    report, rejects = _push(server, feed.read_bytes(), feed.name)
    assert report["rows_received"] == len(GOOD_ROWS) + len(BAD_ROWS)
    assert [f"{q['sheet']}, dòng {q['row']}" for q in report["quarantined"]] == expected
    assert [line["Dòng gốc"] for line in rejects] == expected

    checked = _cli(["check", str(feed), "--source", "hnd_push"], tmp_path)
    assert checked.returncode == 1, checked.stderr
    for label in expected:
        assert label in checked.stdout
    assert "dòng 5 (trang 'Chi hội 1'), dòng 5 (trang 'Chi hội 2')" in checked.stdout
    assert "'Bìa'" in checked.stdout  # the sheet not read is named
