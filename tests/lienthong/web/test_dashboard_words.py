"""The dashboard says schedules and rules in words: "hằng giờ", "Thiếu giá trị bắt buộc" — the codes stay beside."""

from __future__ import annotations

import pytest

from lienthong.web.words import rule_name, schedule_words
from tests.lienthong.web.conftest import Site
from tests.lienthong.web.test_pages import FEED, send, wait_published


@pytest.mark.parametrize(("cron", "vi"), [
    ("@hourly", "hằng giờ"), ("@daily", "hằng ngày"), ("@weekly", "hằng tuần"), (None, "khi có yêu cầu"),
    ("*/15 * * * *", "mỗi 15 phút"), ("30 * * * *", "hằng giờ, phút 30"), ("0 2 * * *", "hằng ngày lúc 2:00"),
    ("15 6 * * 1", "thứ Hai hằng tuần lúc 6:15"), ("0 1 5 * *", "ngày 5 hằng tháng lúc 1:00"),
    ("0 1-5 * * *", "0 1-5 * * *"),  # not a usual shape: shown as it is
])
def test_schedules_in_words(cron: str | None, vi: str) -> None:
    assert schedule_words(cron)[0] == vi


def test_rules_and_issue_codes_have_short_vietnamese_names() -> None:
    assert rule_name("required") == ("Thiếu giá trị bắt buộc", "Required value missing")
    assert rule_name("phone_invalid")[0] == "Số điện thoại không hợp lệ"
    assert rule_name("something_new") == ("something_new", "something_new")


def test_the_dashboard_shows_them(site: Site) -> None:
    clerk = site.client("hlhpn")
    wait_published(clerk, send(clerk, "hlhpn_push", FEED).headers["location"])
    page = site.client("admin").get("/dashboard").text
    assert '<span class="schedule">hằng ngày</span>' in page  # the push sources' default @daily
    assert "Thiếu giá trị bắt buộc<br><code class=\"muted\">required</code>" in page
    english = site.client("admin", lang="en").get("/dashboard").text
    assert '<span class="schedule">daily</span>' in english and "Required value missing" in english
