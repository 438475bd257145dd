"""HTTP strategies on their own: paginators, authentication from the environment, retry delays."""

from __future__ import annotations

import email.utils
import time

import pytest

from connectors.http import (
    ApiKeyAuth,
    BearerAuth,
    CursorPagination,
    NextLinkPagination,
    OffsetPagination,
    PagePagination,
    RetryPolicy,
    lookup,
)
from lienthong.errors import ConfigError

URL = "https://api.hoinongdan.example/v1/members"


def test_page_pagination_stops_on_short_or_empty_page() -> None:
    paginator = PagePagination(page_size=2)
    first = paginator.first(URL, {"tinh": "01"})

    second = paginator.next(first, {}, [{}, {}])

    assert first.params == {"tinh": "01", "page": "1", "page_size": "2"}
    assert second is not None and second.params["page"] == "2" and second.number == 2
    assert paginator.next(second, {}, [{}]) is None
    assert paginator.next(second, {}, []) is None
    assert PagePagination(page_size=2, stop_on_short_page=False).next(second, {}, [{}]) is not None


def test_offset_pagination_advances_by_what_came_back() -> None:
    paginator = OffsetPagination(limit=3, stop_on_short_page=False)
    first = paginator.first(URL, {})

    second = paginator.next(first, {}, [{}, {}])  # a server capping pages at 2

    assert first.params == {"offset": "0", "limit": "3"}
    assert second is not None and second.params["offset"] == "2"
    assert paginator.next(second, {}, []) is None


def test_cursor_pagination_follows_the_token_until_null() -> None:
    paginator = CursorPagination(next_cursor_path="meta.next")
    first = paginator.first(URL, {"limit": "50"})

    second = paginator.next(first, {"meta": {"next": "abc"}}, [{}])

    assert first.params == {"limit": "50"}
    assert second is not None and second.params == {"limit": "50", "cursor": "abc"}
    assert paginator.next(second, {"meta": {"next": None}}, [{}]) is None
    assert paginator.next(second, {"meta": {"next": "abc"}}, [{}]) is None  # a repeated cursor would loop


def test_next_link_pagination_resolves_relative_links() -> None:
    paginator = NextLinkPagination()
    first = paginator.first(URL, {"page_size": "10"})

    relative = paginator.next(first, {"links": {"next": "/v1/members?page=2&page_size=10"}}, [{}])
    absolute = paginator.next(first, {"links": {"next": "https://cdn.example/p3"}}, [{}])

    assert relative is not None and relative.url == "https://api.hoinongdan.example/v1/members?page=2&page_size=10"
    assert relative.params == {}
    assert absolute is not None and absolute.url == "https://cdn.example/p3"
    assert paginator.next(first, {"links": {"next": None}}, [{}]) is None


def test_lookup() -> None:
    assert lookup({"a": {"b": [1]}}, "a.b") == [1]
    assert lookup({"a": 1}, "a.b") is None
    assert lookup([1], "") == [1]


def test_auth_reads_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOI_ND_TOKEN", "s3cret")
    monkeypatch.setenv("HOI_ND_KEY", "k3y")

    assert BearerAuth(token_env="HOI_ND_TOKEN").headers() == {"Authorization": "Bearer s3cret"}
    assert ApiKeyAuth(key_env="HOI_ND_KEY").headers() == {"X-API-Key": "k3y"}
    assert ApiKeyAuth(key_env="HOI_ND_KEY", header="apikey").headers() == {"apikey": "k3y"}


def test_missing_secret_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOI_ND_TOKEN", raising=False)

    with pytest.raises(ConfigError, match="environment variable HOI_ND_TOKEN .* is not set") as err:
        BearerAuth(token_env="HOI_ND_TOKEN").headers()

    assert "HOI_ND_TOKEN" in err.value.message_vi


def test_retry_backs_off_exponentially_or_as_told() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_retries=3, backoff_s=0.5, sleep=slept.append)
    in_ten_seconds = email.utils.formatdate(time.time() + 10, usegmt=True)

    for attempt in range(3):
        policy.wait(attempt)
    policy.wait(0, "2")
    policy.wait(0, in_ten_seconds)
    policy.wait(0, "86400")
    policy.wait(1, "soon")

    assert slept[:4] == [0.5, 1.0, 2.0, 2.0]
    assert 8 < slept[4] <= 10
    assert slept[5] == 120.0  # capped: a day-long Retry-After means "come back next run"
    assert slept[6] == 1.0  # unreadable header: plain backoff
    assert policy.should_retry(429) and policy.should_retry(503) and policy.should_retry(None)
    assert not policy.should_retry(404)
