"""The result table fits a phone (390 px): the columns with a bad cell are shown, the others on request."""

from __future__ import annotations

import pytest

from tests.lienthong.api.conftest import Server, start_server  # noqa: F401 - the API tests' real server fixture
from tests.lienthong.web.test_browser import FEED, UPLOAD, browser, sign_in, site  # noqa: F401 - fixtures

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_result_table_fits_a_phone_and_shows_every_column_on_request(browser, site: Server) -> None:  # noqa: ANN001, F811
    with site.client("hlhpn") as api:
        r = api.post(UPLOAD.format("hlhpn_push"), content=FEED.encode(), params={"wait": "true"},
                     headers={"Content-Type": "text/csv"})
        assert r.status_code == 201, r.text
    page = sign_in(browser, site, "hlhpn", viewport={"width": 390, "height": 844})
    page.goto(f"{site.url}/batches/hlhpn_push/{r.json()['batch_id']}")
    table = page.locator("table.rejects")
    assert page.locator("td.bad").count() == 5
    box = table.bounding_box()
    region = page.locator(".scroll").first.bounding_box()
    assert box and region and box["width"] <= region["width"] + 1, "the result table scrolls sideways on a phone"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    first = table.locator("tbody tr").first
    hidden = first.locator("td").count() - first.locator("td:visible").count()
    assert hidden > 0  # columns with no bad cell wait for the switch
    page.get_by_text("Hiện mọi cột của tệp").click()
    assert first.locator("td").count() == first.locator("td:visible").count()
    page.set_viewport_size({"width": 1280, "height": 900})
    assert table.locator("thead th:visible").count() == 15  # row, 13 columns, other reasons
