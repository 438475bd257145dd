"""Columns as clerks name them, through every door (issue 14): one list with a "Ngày, tháng, năm sinh" over
"Nam | Nữ" header, an address split over four columns, ID numbers that lost their leading zero and a branch column
gives the same fields and the same flags through `check`, `normalize`, a sync of a files source and an API push.

`check` and `normalize` read the file with no mapping; the files source and the push source are registered with
the mapping the headers gave (what a clerk copies into the source YAML), since a registered source names its
columns.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select

from lienthong.file_check import check_file
from lienthong.normalize import normalize_table
from lienthong.vietnamese.header_labels import match_headers
from lienthong.warehouse.tables import PUBLISHED, quarantine
from tests.lienthong.api.conftest import Server, start_server  # noqa: F401 - the fixture
from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import file_source

HEADER = ["Mã hội viên", "Họ, tên", "Ngày, tháng, năm sinh / Nam", "Ngày, tháng, năm sinh / Nữ", "Số CCCD/CMND",
          "Điện thoại", "Địa chỉ / Thôn/Xóm", "Địa chỉ / Xã/Phường", "Địa chỉ / Huyện/Quận",
          "Địa chỉ / Tỉnh/Thành phố", "Chi hội"]
ROWS = [
    ["HV01", "Nguyễn Văn An", "12/03/1985", "", "1085012345", "0912345678", "Tân Lập", "Trúc Bạch", "Ba Đình",
     "Hà Nội", "Chi hội thôn 1"],
    ["HV02", "Lê Thị Hoa", "", "1992", "36192012345", "0987654321", "Thôn 3", "Xã Hải Anh", "Hải Hậu", "Nam Định",
     "Chi hội thôn 2"],
    # a hamlet named like a ward of the same district (Xã Tân Lập, Đan Phượng): the ward column decides
    ["HV03", "Trần Văn Bình", "33000", "", "12345678", "0903111222", "Thôn Tân Lập", "Tân Hội", "Đan Phượng",
     "Hà Nội", "Chi hội thôn 1"],
    ["HV04", "Phạm Thị Lan", "01/01/1970", "02/02/1971", "", "", "", "", "", "", "Chi hội thôn 2"],  # both: refused
    ["HV05", "Đỗ Văn Cường", "", "", "", "", "", "", "", "", "Chi hội thôn 1"],  # neither: kept, flagged
]
# member -> (sex, date of birth or year, ID number, 2025 ward, branch), and the codes that must be among its issues
EXPECTED = {
    "HV01": ("1", "1985-03-12", "001085012345", "00004", "Chi hội thôn 1"),
    "HV02": ("2", "1992", "036192012345", "14236", "Chi hội thôn 2"),
    "HV03": ("1", "1990-05-07", "012345678", "09817", "Chi hội thôn 1"),
    "HV05": (None, None, None, None, "Chi hội thôn 1"),
}
FLAGS = {"HV01": {"id_leading_zero_restored", "address_legacy_converted"},
         "HV02": {"id_leading_zero_restored", "date_year_only"},
         "HV03": {"id_leading_zero_restored", "date_excel_serial"},
         "HV05": {"dob_in_no_sex_column"}}
REFUSED = {"HV04": {"dob_in_both_sex_columns"}}
FIELDS = ("member_id", "sex", "date_of_birth", "birth_year", "id_number", "ward_code", "branch", "issues")


def _csv(path: Path) -> Path:
    path.write_text("\n".join(";".join(row) for row in [HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def _source(folder: Path, source_id: str, connector: dict) -> dict:
    """The source YAML a clerk writes from what `check` found: the mapping of the headers."""
    mapping = match_headers(HEADER).fields
    return file_source(folder, source_id, organisation="HND", constants={"organisation": "HND"},
                       connector=connector, mapping=mapping)


def _row(member: str, sex, dob, year, id_number, ward, branch, issues) -> tuple:  # noqa: ANN001
    shown = str(dob) if dob is not None else (str(year) if year is not None else None)
    return member, (sex, shown, id_number, ward, branch), set((issues or "").split(";")) - {""}


def _assert_expected(kept: list[tuple], refused: dict[str, set[str]]) -> None:
    assert {member: fields for member, fields, _ in kept} == EXPECTED
    for member, _, issues in kept:
        assert FLAGS[member] <= issues, (member, issues)
    assert {m: rules & REFUSED[m] for m, rules in refused.items()} == REFUSED


def _warehouse(engine: Engine) -> tuple[list[tuple], dict[str, set[str]]]:
    table = PUBLISHED["members"]
    with engine.connect() as conn:
        kept = [_row(*r) for r in conn.execute(select(*[table.c[f] for f in FIELDS]))]
        refused = {r.record["member_id"]: {x["rule"] for x in r.reasons}
                   for r in conn.execute(select(quarantine.c.record, quarantine.c.reasons))}
    return kept, refused


def test_check_and_normalize_read_the_list_with_no_mapping(tmp_path: Path) -> None:
    path = _csv(tmp_path / "danh_sach.csv")
    checked = check_file(path)
    assert checked.guessed == {"full_name": "Họ, tên"}, "every other column is an exact label or part"
    cleaned = checked.checked.cleaned.table.to_pylist()
    refused = {cleaned[q.row_no]["member_id"]: {r["rule"] for r in q.reasons} for q in checked.checked.rejected}
    valid = checked.checked.valid.to_pylist()
    _assert_expected([_row(*[r[f] for f in FIELDS]) for r in valid], refused)
    assert [f.row for f in checked.failing] == [5] and checked.failing[0].column == " | ".join(HEADER[2:4])

    normalized = normalize_table(checked.batch.records)
    out = normalized.table.to_pylist()
    assert normalized.guessed == checked.guessed
    rows = {r["Mã hội viên"]: r for r in out}
    kept = [_row(m, r["sex"], r["date_of_birth"], None, r["id_number"], r["ward_code"], r["Chi hội"],
                 ";".join(code.split(":")[0] for code in (r["issues"] or "").split("; ")))
            for m, r in rows.items() if m not in REFUSED]
    refused = {out[row]["Mã hội viên"]: {r.rule for r in reasons} for row, reasons in normalized.reasons.items()}
    _assert_expected(kept, refused)


def test_check_says_which_columns_it_guessed_and_a_mapping_overrides(tmp_path: Path) -> None:
    path = _csv(tmp_path / "danh_sach.csv")

    def check(*args: str) -> subprocess.CompletedProcess:
        return run_cli("check", str(path), *args, env={**os.environ, "COLUMNS": "200"})  # in this process

    shown = check()
    assert shown.returncode == 1, shown.stderr  # the row with a date in both sex columns
    assert "Đoán cột: 'Họ, tên' → full_name" in shown.stdout and "--mapping" in shown.stdout
    assert "Ngày sinh được ghi ở cả cột Nam và cột Nữ" in shown.stdout
    assert json.loads(check("--json").stdout)["guessed"] == {"full_name": "Họ, tên"}
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(yaml.safe_dump({"full_name": "Họ, tên"}, allow_unicode=True), encoding="utf-8")
    assert "Đoán cột" not in check("--mapping", str(mapping)).stdout


def test_a_sync_of_a_files_source_reads_them_alike(make_hub: Callable, tmp_path: Path) -> None:
    from lienthong.cli.runs import run_sources
    from lienthong.stages.retry import retry_quarantine

    drop = tmp_path / "drop"
    drop.mkdir()
    _csv(drop / "danh_sach.csv")
    hub = make_hub([_source(drop, "hnd_files", {"type": "files", "path": str(drop), "pattern": "*.csv"})])
    outcome = run_sources(hub, list(hub.sources.values()))
    assert outcome.exit_code == 0, outcome.problems
    _assert_expected(*_warehouse(hub.engine))
    # Checked again, the date in both sex columns stays refused: the quarantined record keeps what mapping found.
    assert [(r.released, r.still_failing) for r in retry_quarantine(hub)] == [(0, 1)]


@pytest.mark.integration
def test_an_api_push_reads_them_alike(start_server: Callable[..., Server], tmp_path: Path) -> None:  # noqa: F811
    sources = tmp_path / "sources"
    sources.mkdir()
    source = _source(tmp_path, "hnd_columns", {"type": "push"})
    (sources / "hnd_columns.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    server = start_server()
    server.key("hnd", "push:hnd_columns", organisation="HND")
    with server.client("hnd") as c:
        r = c.post("/api/v1/feeds/hnd_columns/batches", content=_csv(tmp_path / "danh_sach.csv").read_bytes(),
                   headers={"Content-Type": "text/csv"}, params={"wait": "true"})
        assert r.status_code == 201, r.text
        report = r.json()
        assert [q["row"] for q in report["quarantined"]] == [5]
        # The refused row as the clerk sent it: both dates in their columns, in the report and the rejects file.
        record = report["quarantined"][0]["record"]
        assert (record[HEADER[2]], record[HEADER[3]]) == ("01/01/1970", "02/02/1971")
        rejects = c.get(f"/api/v1/feeds/hnd_columns/batches/{report['batch_id']}/rejects.csv").text
        assert "01/01/1970" in rejects and "02/02/1971" in rejects
    _assert_expected(*_warehouse(server.hub.engine))
