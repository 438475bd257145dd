"""The web pages in process (TestClient over a SQLite warehouse): sign-in, language, upload and check, the result
with a reason per cell, the rejects workbook round trip, organisation boundaries, dashboard and catalogue."""

from __future__ import annotations

import csv
import io
import re
import time

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from lienthong.warehouse.queries import batches
from lienthong.web.i18n import TEXTS
from lienthong.web.session import HERE
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, MEMBER_COLUMNS, members_csv
from tests.lienthong.web.conftest import Site, sign_in_form_token

FEED = members_csv(GOOD_ROWS + BAD_ROWS).encode("utf-8")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csrf(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/upload").text).group(1)


def send(client: TestClient, source: str, body: bytes, *, name: str = "danh_sach.csv", mode: str = "load",
         media: str = "text/csv"):
    return client.post("/upload", data={"source_id": source, "mode": mode, "csrf": csrf(client)},
                       files={"file": (name, body, media)})


def wait_published(client: TestClient, url: str) -> dict:
    """Poll the status the page's script polls, until the batch is published (processing runs after the upload)."""
    for _ in range(600):
        status = client.get(url + "/status").json()
        if status["done"]:
            return status
        time.sleep(0.1)
    pytest.fail(f"{url} was not published: {status}")


def test_pages_need_a_key_and_sign_in_keeps_it_in_a_session_cookie(site: Site) -> None:
    c = site.client()
    r = c.get("/dashboard?x=1")
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=/dashboard%3Fx%3D1"
    assert c.get("/").headers["location"] == "/sign-in"
    page = c.get("/sign-in")
    assert page.status_code == 200 and '<html lang="vi">' in page.text and 'for="token"' in page.text

    not_a_key = c.post("/sign-in", data={"token": "hello", "form_token": sign_in_form_token(c)})
    assert "lt_" in not_a_key.text
    unknown = c.post("/sign-in", data={"token": "lt_nope_nope", "form_token": sign_in_form_token(c)})
    assert unknown.status_code == 401 and "Khóa API không hợp lệ" in unknown.text

    ok = c.post("/sign-in", data={"token": site.tokens["hlhpn"], "next": "/dashboard",
                                 "form_token": sign_in_form_token(c)})
    assert ok.status_code == 303 and ok.headers["location"] == "/dashboard"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "expires" not in cookie.lower()  # session only
    assert c.get("/").headers["location"] == "/upload"  # a clerk lands on the upload page

    # never sent to another site after sign-in
    evil = c.post("/sign-in", data={"token": site.tokens["hlhpn"], "next": "//evil.example/x",
                                   "form_token": sign_in_form_token(c)})
    assert evil.headers["location"] == "/"

    out = c.post("/sign-out", data={"csrf": csrf(c)})
    assert out.status_code == 303 and c.get("/upload").status_code == 303


def test_admin_lands_on_the_dashboard_and_a_revoked_key_is_signed_out(site: Site) -> None:
    from lienthong.warehouse.api_keys import revoke_key, verify_token

    c = site.client("admin")
    assert c.get("/").headers["location"] == "/dashboard"
    revoke_key(site.hub.engine, verify_token(site.hub.engine, site.tokens["admin"]).key_id)
    assert c.get("/dashboard").status_code == 303


def test_language_switch_and_every_text_exists_in_both_languages(site: Site) -> None:
    c = site.client("hlhpn")
    assert "Gửi dữ liệu" in c.get("/upload").text
    r = c.get("/lang/en?next=/upload")
    assert r.status_code == 303 and r.headers["location"] == "/upload"
    page = c.get("/upload").text
    assert '<html lang="en">' in page and "Upload a feed" in page and "Tiếng Việt" in page
    assert c.get("/lang/en?next=https://evil.example").headers["location"] == "/"

    used = set()
    for template in (HERE / "templates").glob("*.html"):
        used |= set(re.findall(r"""t\(["']([a-z_.]+)["']""", template.read_text(encoding="utf-8")))
    for module in HERE.glob("*.py"):
        used |= set(re.findall(r"""\.t\(["']([a-z_.]+)["']""", module.read_text(encoding="utf-8")))
    dynamic = {k for k in used if k.endswith(".")}  # t("status." ~ b.status): every value must have a text
    assert used - dynamic - set(TEXTS) == set()
    assert {f"status.{s}" for s in ("landed", "staged", "published", "checked")} <= set(TEXTS)
    assert {f"fresh.{s}" for s in ("ok", "late", "never", "on_demand")} <= set(TEXTS)
    assert all(vi and en for vi, en in TEXTS.values())


def test_upload_shows_counts_reasons_per_cell_and_the_rejects_workbook_round_trips(site: Site) -> None:
    c = site.client("hlhpn")
    r = send(c, "hlhpn_push", FEED)
    assert r.status_code == 303
    url = r.headers["location"]
    assert url.startswith("/batches/hlhpn_push/")
    assert wait_published(c, url)["rows_published"] == 3
    page = c.get(url).text
    assert re.search(r'id="n-received">6<', page) and re.search(r'id="n-published">3<', page)
    assert re.search(r'id="n-quarantined">3<', page)
    # each reason sits on the cell it is about, in plain Vietnamese
    assert page.count('<td class="bad">') == 5  # no name; 31/02; short CCCD, unknown ethnicity, unknown ward
    assert "Thiếu Họ và tên" in page and "Ngày không có thật" in page and "CCCD có 12 chữ số" in page

    book = c.get(url + "/rejects.xlsx")
    assert book.status_code == 200 and book.headers["content-type"] == XLSX
    ws = load_workbook(io.BytesIO(book.content)).active
    head = [cell.value for cell in ws[1]]
    columns = list(site.hub.sources["hlhpn_push"].mapping.values())
    assert head == [*columns, "Dòng gốc", "Lý do (tiếng Việt)", "Reason (English)"]
    assert set(columns) == set(MEMBER_COLUMNS.values())
    rows = [[cell.value for cell in row] for row in ws.iter_rows(min_row=2)]
    assert [r[head.index("Mã hội viên")] for r in rows] == ["HV004", "HV005", "HV006"]
    name_cell = ws.cell(2, head.index("Họ và tên") + 1)
    assert name_cell.fill.fgColor.rgb.endswith("FFC7CE") and "Họ và tên" in name_cell.comment.text
    assert ws.cell(4, head.index("Số CCCD") + 1).value == "0011850123"  # text: the leading zeros stay

    # the clerk fixes two rows in the workbook and sends it back as it is
    ws.cell(2, head.index("Họ và tên") + 1, "Đỗ Thị Thu")
    ws.cell(3, head.index("Ngày sinh") + 1, "28/02/1990")
    ws.delete_rows(4)
    fixed = io.BytesIO()
    ws.parent.save(fixed)
    again = send(c, "hlhpn_push", fixed.getvalue(), name="dong-loi.xlsx", media=XLSX)
    assert again.status_code == 303
    assert wait_published(c, again.headers["location"])["rows_quarantined"] == 0
    assert "Không có dòng nào bị lỗi" in c.get(again.headers["location"]).text

    # the same file again is the same batch, and the page says so
    dup = send(c, "hlhpn_push", FEED)
    assert dup.headers["location"] == url + "?again=true"
    assert "đã được gửi trước đây" in c.get(dup.headers["location"]).text


def test_check_only_writes_nothing_and_agrees_with_the_load(site: Site) -> None:
    c = site.client("hlhpn")
    r = send(c, "hlhpn_push", FEED, mode="check")
    assert r.status_code == 303 and r.headers["location"].startswith("/checks/")
    page = c.get(r.headers["location"]).text
    assert re.search(r'id="n-valid">3<', page) and re.search(r'id="n-quarantined">3<', page)
    assert page.count('<td class="bad">') == 5 and "Chế độ chỉ kiểm tra" in page
    assert batches(site.hub.engine) == []  # nothing landed
    book = load_workbook(io.BytesIO(c.get(r.headers["location"] + "/rejects.xlsx").content)).active
    assert book.max_row == 4

    # another key cannot read this check
    assert site.client("hnd").get(r.headers["location"]).status_code == 404


def test_the_template_has_the_columns_an_example_that_passes_and_a_guide(site: Site) -> None:
    c = site.client("hlhpn")
    r = c.get("/sources/hlhpn_push/template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(r.content))
    assert [cell.value for cell in wb["Dữ liệu"][1]] == list(site.hub.sources["hlhpn_push"].mapping.values())
    assert wb["Dữ liệu"].max_row == 2 and wb["Hướng dẫn"].max_row == len(MEMBER_COLUMNS) + 1
    checked = send(c, "hlhpn_push", r.content, name="mau.xlsx", mode="check", media=XLSX)
    assert re.search(r'id="n-quarantined">0<', c.get(checked.headers["location"]).text)


def test_a_wrong_file_is_refused_with_a_vietnamese_message_and_nothing_lands(site: Site) -> None:
    c = site.client("hlhpn")
    wrong = "Tên;Tuổi\nAn;30\n".encode()
    r = send(c, "hlhpn_push", wrong)
    assert r.status_code == 422 and 'role="alert"' in r.text
    shown = re.search(r'id="upload-error">(.*?)</div>', r.text, re.S).group(1)
    assert "thiếu cột" in shown and "Họ và tên" in shown and "có cột lạ Tuổi, Tên" in shown
    js = c.post("/upload", data={"source_id": "hlhpn_push", "mode": "load", "csrf": csrf(c)},
                files={"file": ("x.csv", wrong, "text/csv")}, headers={"Accept": "application/json"})
    assert js.status_code == 422 and js.json()["message_vi"] and js.json()["message"]
    no_form_token = c.post("/upload", data={"source_id": "hlhpn_push"}, files={"file": ("a.csv", FEED, "text/csv")})
    assert no_form_token.status_code == 403
    assert batches(site.hub.engine) == []


def test_an_organisation_key_sees_only_its_own_sources(site: Site) -> None:
    hlhpn = site.client("hlhpn")
    batch_url = send(hlhpn, "hlhpn_push", FEED).headers["location"]
    wait_published(hlhpn, batch_url)

    hnd = site.client("hnd")
    page = hnd.get("/upload").text
    assert 'value="hnd_push"' in page and "hlhpn_push" not in page
    for url in (batch_url, batch_url + "/rejects.xlsx", batch_url + "/status", "/sources/hlhpn_push/template.xlsx"):
        r = hnd.get(url)
        assert r.status_code == 403, url
    assert "text/html" in hnd.get(batch_url).headers["content-type"]  # a page, not the API's JSON
    r = hnd.post("/upload", data={"source_id": "hlhpn_push", "mode": "check", "csrf": csrf(hnd)},
                 files={"file": ("a.csv", FEED, "text/csv")})
    assert r.status_code == 403 and "hlhpn_push" in r.text
    dash = hnd.get("/dashboard").text
    assert "hnd_push" in dash and "hlhpn_push" not in dash and "province-chart" not in dash


def test_dashboard_charts_rules_and_freshness(site: Site) -> None:
    clerk = site.client("hlhpn")
    wait_published(clerk, send(clerk, "hlhpn_push", FEED).headers["location"])
    c = site.client("admin")
    page = c.get("/dashboard").text
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2  # quality over time, records by province
    assert 'role="img"' in page and "Thành phố Hà Nội" in page
    assert "50.0%" in page and "Đúng hạn" in page and "Chưa có dữ liệu" in page
    assert "Ngày sinh" in page and "<code class=\"muted\">date_of_birth</code>" in page  # a top failing rule
    assert "Cặp hồ sơ cần xem xét" in page
    assert site.client("reader").get("/dashboard").status_code == 403  # reads only: no feed to watch


def test_catalogue_lists_datasets_and_downloads_what_the_key_may_read(site: Site) -> None:
    clerk = site.client("hlhpn")
    wait_published(clerk, send(clerk, "hlhpn_push", FEED).headers["location"])
    page = clerk.get("/catalogue").text
    assert "members" in page and "feedback" in page and "Tải CSV" in page and "Cấu trúc" in page
    csv_text = clerk.get("/catalogue/members/records.csv")
    assert csv_text.status_code == 200 and csv_text.headers["content-disposition"].endswith('members.csv"')
    assert sorted(r["member_id"] for r in csv.DictReader(io.StringIO(csv_text.text.lstrip("\ufeff")))) == [
        "HV001", "HV002", "HV003"]
    assert clerk.get("/catalogue/feedback/records.csv").status_code == 403


def test_web_pages_stay_out_of_the_api_document_and_static_files_are_listed(site: Site) -> None:
    c = site.client()
    paths = c.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p in ("/", "/upload", "/dashboard") or p.startswith(("/batches", "/checks"))]
    assert c.get("/static/app.css").headers["content-type"].startswith("text/css")
    assert c.get("/static/..%2Fsession.py").status_code == 404
    assert "Content-Security-Policy" in c.get("/sign-in").headers


def test_an_unknown_template_source_is_a_page_not_found(site: Site) -> None:
    r = site.client("admin").get("/sources/nope/template.xlsx")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_rejects_workbook_keeps_reasons_on_no_column() -> None:
    from lienthong.registry import SourceConfig
    from lienthong.web.rejects import rejects_workbook, shape

    source = SourceConfig.model_validate({"id": "src_a", "title": "t", "organisation": "HND", "dataset": "members",
                                          "connector": {"type": "push"}, "mapping": MEMBER_COLUMNS,
                                          "constants": {"organisation": "HND"}})
    rows = shape(source, [(1, {"member_id": "A"}, [{"rule": "duplicate_key", "column": "member_id,organisation",
                                                    "message_vi": "Trùng mã", "message_en": "dup"}])], by="field")
    assert rows[0].other and not any(cell.reasons for cell in rows[0].cells)
    ws = load_workbook(io.BytesIO(rejects_workbook(source, rows))).active
    assert ws.cell(2, len(MEMBER_COLUMNS) + 2).value == "Trùng mã"


def test_review_queue_shows_pairs_masked_and_records_a_decision(site: Site) -> None:
    from lienthong.warehouse import tables_match as T

    clerk = site.client("hlhpn")
    wait_published(clerk, send(clerk, "hlhpn_push", FEED).headers["location"])
    engine = site.hub.engine
    run = T.start_run(engine, "members", 0, "full", 3)
    T.write_outcome(engine, "members", run, stats={}, review=pa.Table.from_pylist([
        {"record_key_l": "hlhpn_push:HV001", "record_key_r": "hlhpn_push:HV002", "match_probability": 0.86}]))
    admin = site.client("admin")
    page = admin.get("/dashboard").text
    assert "86%" in page and "Nguyễn Thị Hòa" in page and "Trần Thị Lan" in page and "01/02/1985" in page
    assert "001185012345" not in page and "*********345" in page  # ID numbers masked for the reviewer
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    item = T.review_items(engine)[0]["id"]
    assert clerk.post(f"/review/{item}", data={"decision": "rejected", "csrf": csrf(clerk)}).status_code == 403
    r = admin.post(f"/review/{item}", data={"decision": "rejected", "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard?decided=true#review"
    assert T.review_items(engine) == [] and T.review_items(engine, status="rejected")[0]["decided_by"].startswith(
        "key:")
    assert "Không có cặp nào chờ xem xét" in admin.get("/dashboard").text


def test_freshness_tolerates_one_missed_run() -> None:
    from datetime import UTC, datetime, timedelta

    from lienthong.web.dashboard import freshness

    now = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
    assert freshness("@daily", now - timedelta(hours=30), now) == "ok"  # missed today's 00:00 run only
    assert freshness("@daily", now - timedelta(days=3), now) == "late"
    assert freshness("0 6 * * 1-5", now - timedelta(days=1), now) == "ok"
    assert (freshness(None, None, now), freshness("@hourly", None, now)) == ("on_demand", "never")
