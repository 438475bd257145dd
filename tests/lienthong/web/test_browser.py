"""End to end in a real headless Chromium (Debian's package, driven by Playwright with the system browser) against
the real server on 127.0.0.1 over a fresh PostgreSQL warehouse: sign in, upload by drag-and-drop, read the counts
and the Vietnamese reasons, download the rejects, fix and re-send them; check only, in English; an organisation
key cannot see another organisation's source; the dashboard draws its charts (screenshots to var/screenshots/)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lienthong.settings import PROJECT_ROOT
from tests.lienthong.api.conftest import Server, start_server  # noqa: F401 - the API tests' real server fixture
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, members_csv

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
FEED = members_csv(GOOD_ROWS + BAD_ROWS)
UPLOAD = "/api/v1/feeds/{}/batches"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from the system (scripts/ensure-chromium.sh installs Debian's package when it can)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need `pip install playwright`")
    found = subprocess.run(["scripts/ensure-chromium.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           check=False)
    if found.returncode != 0 or not found.stdout.strip():
        pytest.skip(f"no Chromium could be installed for the browser tests: {found.stderr.strip()}")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=found.stdout.strip().splitlines()[-1], headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def site(start_server: Callable[..., Server]) -> Server:  # noqa: F811 - the imported fixture
    s = start_server()
    s.key("admin", "admin")
    s.key("hlhpn", "push:hlhpn_push", "read:members", organisation="HLHPN")
    s.key("hnd", "push:hnd_push", "read:members", organisation="HND")
    return s


def sign_in(browser, site: Server, key: str, **context):  # noqa: ANN001, ANN201 - playwright objects
    page = browser.new_context(accept_downloads=True, **context).new_page()
    page.set_default_timeout(30_000)
    page.goto(site.url + "/")
    assert "/sign-in" in page.url
    page.get_by_label("Khóa API").fill(site.tokens[key])
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    return page


def drop_file(page, name: str, text: str) -> None:  # noqa: ANN001
    """Drag a file onto the drop zone as a person would (a real DataTransfer in a real drop event)."""
    page.evaluate("""([name, text]) => {
        const data = new DataTransfer();
        data.items.add(new File([text], name, {type: "text/csv"}));
        const zone = document.getElementById("drop");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
        }
    }""", [name, text])


def test_clerk_uploads_sees_reasons_downloads_rejects_and_resends(browser, site: Server, tmp_path: Path) -> None:
    page = sign_in(browser, site, "hlhpn")
    assert page.url.endswith("/upload")
    assert page.locator("input[name=source_id]").count() == 1  # only HLHPN's own source
    drop_file(page, "danh_sach.csv", FEED)
    assert "danh_sach.csv" in page.locator("#chosen").inner_text()
    page.get_by_role("button", name="Gửi tệp").click()
    page.wait_for_url("**/batches/hlhpn_push/**")

    assert page.locator("#batch-status").inner_text() == "Đã công bố"
    counts = [page.locator(f"#n-{n}").inner_text() for n in ("received", "published", "quarantined")]
    assert counts == ["6", "3", "3"]
    assert page.locator("td.bad").count() == 5
    for reason in ("Thiếu Họ và tên", "Ngày không có thật", "CCCD có 12 chữ số", "không có trong danh mục"):
        assert page.get_by_text(reason).first.is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "upload-result.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải các dòng lỗi (Excel)").click()
    book = tmp_path / download.value.suggested_filename
    download.value.save_as(book)
    wb = load_workbook(book)
    ws = wb.active
    head = [c.value for c in ws[1]]
    ws.cell(2, head.index("Họ và tên") + 1, "Đỗ Thị Thu")  # HV004 had no name
    ws.cell(3, head.index("Ngày sinh") + 1, "28/02/1990")  # HV005 was born on 31/02
    ws.delete_rows(4)  # HV006 needs a call to the branch first
    wb.save(book)

    page.get_by_role("link", name="Gửi lại tệp đã sửa").click()
    page.locator("#file").set_input_files(book)
    page.get_by_role("button", name="Gửi tệp").click()
    page.wait_for_url(lambda url: "/batches/" in url and download.value.url.split("/")[-2] not in url)
    assert [page.locator(f"#n-{n}").inner_text() for n in ("received", "published", "quarantined")] == \
        ["2", "2", "0"]
    assert page.get_by_text("Không có dòng nào bị lỗi").is_visible()
    with site.client("hlhpn") as api:
        records = api.get("/api/v1/datasets/members/records").json()["records"]
    assert sorted(r["member_id"] for r in records) == ["HV001", "HV002", "HV003", "HV004", "HV005"]


def test_check_only_in_english_loads_nothing(browser, site: Server, tmp_path: Path) -> None:
    page = sign_in(browser, site, "hlhpn")
    page.get_by_role("link", name="Switch to English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    feed = tmp_path / "members.csv"
    feed.write_text(FEED, encoding="utf-8")
    page.locator("#file").set_input_files(feed)
    page.get_by_label("Check only, do not load").check()
    page.get_by_role("button", name="Send the file").click()
    page.wait_for_url("**/checks/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Check result"
    assert [page.locator(f"#n-{n}").inner_text() for n in ("received", "valid", "quarantined")] == ["6", "3", "3"]
    assert page.locator("td.bad").count() == 5
    with site.client("admin") as api:
        assert api.get("/api/v1/datasets/members/records").json()["records"] == []
    assert site.hub.engine.connect().exec_driver_sql("SELECT count(*) FROM batch").scalar_one() == 0


def test_an_organisation_key_cannot_see_another_organisations_source(browser, site: Server) -> None:
    with site.client("hlhpn") as api:
        pushed = api.post(UPLOAD.format("hlhpn_push"), content=FEED.encode(), params={"wait": "true"},
                          headers={"Content-Type": "text/csv"}).json()
    page = sign_in(browser, site, "hnd")
    assert [page.locator("input[name=source_id]").nth(i).get_attribute("value")
            for i in range(page.locator("input[name=source_id]").count())] == ["hnd_push"]
    response = page.goto(f"{site.url}/batches/hlhpn_push/{pushed['batch_id']}")
    assert response.status == 403
    assert "không có quyền" in page.locator("[role=alert]").inner_text()
    assert "HV004" not in page.content()
    page.goto(site.url + "/dashboard")
    assert "hnd_push" in page.content() and "hlhpn_push" not in page.content()


def test_dashboard_renders_its_charts_on_a_desktop_and_a_phone(browser, site: Server) -> None:
    for source, rows in (("hlhpn_push", GOOD_ROWS + BAD_ROWS), ("hlhpn_push", GOOD_ROWS), ("hnd_push", BAD_ROWS)):
        with site.client("admin") as api:
            r = api.post(UPLOAD.format(source), content=members_csv(rows).encode(), params={"wait": "true"},
                         headers={"Content-Type": "text/csv"})
            assert r.status_code == 201, r.text
    page = sign_in(browser, site, "admin", viewport={"width": 1280, "height": 900})
    assert page.url.endswith("/dashboard")
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    for i in range(2):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 30
    assert page.locator("#score-chart path").count() == 2  # one line per source
    assert page.locator("#rules-table tbody tr").count() >= 4
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # the first stop skips the navigation

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways on a phone by {overflow}px"
    assert json.loads(page.evaluate("JSON.stringify(document.querySelector('svg.chart').getBoundingClientRect())"))[
        "width"] <= 390
