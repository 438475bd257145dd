"""RestConnector against the simulated member API: retries, auth, incremental cursor, malformed answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.formats import read_payload
from connectors.rest import RestConfig, RestConnector
from lienthong.demo.member_api import MemberApi, serve_member_api
from lienthong.errors import ConfigError, ExtractError, MalformedInput
from tests.connectors.connector_harness import members

pytestmark = pytest.mark.integration


def _connector(url: str, **config: Any) -> RestConnector:
    settings = {
        "url": url, "pagination": {"type": "page", "page_size": 10},
        "max_retries": 3, "backoff_s": 0.001, "timeout_s": 5, **config,
    }
    return RestConnector(RestConfig.model_validate(settings), source_id="hoi_nong_dan_api")


def test_batches_are_canonical_ndjson_pages(member_api: MemberApi) -> None:
    member_api.records.extend(members(0, 15))

    batches = list(_connector(member_api.members_url).extract(None))

    assert [b.origin for b in batches] == [
        f"{member_api.members_url}?page=1&page_size=10", f"{member_api.members_url}?page=2&page_size=10",
    ]
    first = batches[0].payload.decode().splitlines()[0]
    assert first == json.dumps(members(0, 1)[0], sort_keys=True, ensure_ascii=False)
    assert batches[0].records.column_names == ["id", "ho_ten", "dien_thoai", "updated_at"]  # source order
    for batch in batches:
        assert read_payload(batch.payload, batch.media_type, batch.read_options).equals(batch.records)
    assert len(member_api.requests) == 2  # the short second page ended the run


def test_retries_429_then_succeeds(member_api: MemberApi) -> None:
    member_api.records.extend(members(0, 5))
    member_api.faults.fail_first_n_with_429 = 2

    batches = list(_connector(member_api.members_url).extract(None))

    assert sum(b.row_count for b in batches) == 5
    assert len(member_api.requests) == 3


def test_retries_then_gives_up_naming_url_and_page(member_api: MemberApi) -> None:
    member_api.records.extend(members(0, 25))
    member_api.faults.fail_every_nth_with_500 = 2  # request 2, for page 2, fails; no retries allowed
    connector = _connector(member_api.members_url, max_retries=0)

    with pytest.raises(ExtractError) as err:
        list(connector.extract(None))

    page_2 = f"{member_api.members_url}?page=2&page_size=10 (page 2)"
    assert f"{page_2} failed after 1 attempt, last: HTTP 500" in str(err.value)
    assert err.value.source_id == "hoi_nong_dan_api"

    member_api.faults.fail_every_nth_with_500 = 3  # with retries the same flaky server is fine
    member_api.requests.clear()
    assert sum(b.row_count for b in _connector(member_api.members_url).extract(None)) == 25


def test_unreachable_server() -> None:
    with serve_member_api([]) as api:
        url = api.members_url  # the port is free again once the server is gone

    with pytest.raises(ExtractError, match=r"\(page 1\) failed after 2 attempts, last: cannot connect"):
        list(_connector(url, max_retries=1).extract(None))


def test_html_with_status_200_is_malformed(member_api: MemberApi) -> None:
    member_api.records.extend(members(0, 25))
    member_api.faults.html_on_page = 2

    with pytest.raises(MalformedInput) as err:
        list(_connector(member_api.members_url).extract(None))

    message = str(err.value)
    assert "?page=2&page_size=10 (page 2) is not JSON but text/html" in message
    assert "<!DOCTYPE html>" in message
    assert "bảo trì" in err.value.message_vi


def test_wrong_records_path(member_api: MemberApi) -> None:
    member_api.records.extend(members(0, 2))

    with pytest.raises(MalformedInput, match=r"no list of objects at records_path 'items' \(top level: data"):
        list(_connector(member_api.members_url, records_path="items").extract(None))


def test_bearer_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    auth = {"type": "bearer", "token_env": "HOI_ND_TOKEN"}
    with serve_member_api(members(0, 3), token="s3cret-token") as api:
        monkeypatch.delenv("HOI_ND_TOKEN", raising=False)
        with pytest.raises(ConfigError, match="HOI_ND_TOKEN") as missing:
            list(_connector(api.members_url, auth=auth).extract(None))

        monkeypatch.setenv("HOI_ND_TOKEN", "wrong")
        with pytest.raises(ExtractError, match="HTTP 401; the token was refused") as refused:
            list(_connector(api.members_url, auth=auth).extract(None))

        monkeypatch.setenv("HOI_ND_TOKEN", "s3cret-token")
        batches = list(_connector(api.members_url, auth=auth).extract(None))

    assert len(api.requests) == 2  # the missing variable stopped the first run before any request
    assert "wrong" not in str(refused.value) and "s3cret" not in str(missing.value)
    assert sum(b.row_count for b in batches) == 3


def test_incremental_cursor_only_on_the_last_batch(member_api: MemberApi) -> None:
    records = members(0, 25)
    records[3]["updated_at"] = "2025-06-30T23:59:59"  # the newest record is on page 1: pages are unordered
    member_api.records.extend(records)
    connector = _connector(member_api.members_url, incremental={})

    batches = list(connector.extract(None))

    assert [b.cursor for b in batches] == [None, None, {"updated_since": "2025-06-30T23:59:59"}]


def test_incremental_sends_the_last_value_and_keeps_it_when_nothing_is_new(member_api: MemberApi) -> None:
    member_api.records.extend(members(0, 5))
    incremental = {"param": "updated_since", "field": "updated_at"}
    connector = _connector(member_api.members_url, incremental=incremental)
    cursor = list(connector.extract(None))[-1].cursor
    member_api.records.append({**members(5, 6)[0], "updated_at": "2025-02-01T00:00:00"})
    member_api.requests.clear()

    new = list(connector.extract(cursor))
    nothing = list(connector.extract(new[-1].cursor))

    assert cursor == {"updated_since": "2025-01-01T08:00:04"}
    assert [b.records.column("id").to_pylist() for b in new] == [["5"]]
    assert new[-1].cursor == {"updated_since": "2025-02-01T00:00:00"}
    assert "updated_since=2025-01-01T08%3A00%3A04" in member_api.requests[0]
    assert nothing == []


@pytest.mark.parametrize(
    ("pagination", "params"),
    [
        ({"type": "offset", "limit": 4}, {}),
        ({"type": "cursor"}, {"limit": "4"}),
        ({"type": "next_link"}, {"page_size": "4"}),
        ({"type": "none"}, {}),
    ],
    ids=["offset", "cursor", "next_link", "none"],
)
def test_other_paginations_read_everything(member_api: MemberApi, pagination: dict, params: dict) -> None:
    member_api.records.extend(members(0, 10))

    batches = list(_connector(member_api.members_url, pagination=pagination, params=params).extract(None))

    assert [i for b in batches for i in b.records.column("id").to_pylist()] == [str(i) for i in range(10)]
    assert len(batches) == (1 if pagination["type"] == "none" else 3)
