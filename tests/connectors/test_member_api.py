"""The simulated member API itself (lienthong.demo.member_api), as seen by a plain HTTP client."""

from __future__ import annotations

import httpx
import pytest

from lienthong.demo.member_api import Faults, serve_member_api
from tests.connectors.connector_harness import members

pytestmark = pytest.mark.integration


def test_pages_offsets_cursors_and_links() -> None:
    with serve_member_api(members(0, 7), page_size_max=3) as api:
        page = httpx.get(api.members_url, params={"page": 2, "page_size": 50}, timeout=5).json()
        offset = httpx.get(api.members_url, params={"offset": 5, "limit": 3}, timeout=5).json()
        first = httpx.get(api.members_url, params={"limit": 2}, timeout=5).json()
        following = httpx.get(api.members_url, params={"cursor": first["next_cursor"]}, timeout=5).json()
        linked = httpx.get(api.url + first["links"]["next"], timeout=5).json()

    assert [r["id"] for r in page["data"]] == [3, 4, 5]  # page_size capped at 3
    assert page["page"] == 2 and page["total"] == 7
    assert [r["id"] for r in offset["data"]] == [5, 6] and offset["next_cursor"] is None
    assert offset["links"]["next"] is None
    assert [r["id"] for r in following["data"]] == [2, 3]
    assert [r["id"] for r in linked["data"]] == [2, 3]


def test_updated_since_and_live_records() -> None:
    records = members(0, 3)
    with serve_member_api(records) as api:
        records.append({**members(3, 4)[0], "updated_at": "2030-01-01T00:00:00"})
        since = {"updated_since": "2025-01-01T08:00:01"}
        body = httpx.get(api.members_url, params=since, timeout=5).json()

    assert [r["id"] for r in body["data"]] == [2, 3]  # strictly later than the given time


def test_auth_faults_and_errors() -> None:
    faults = Faults(fail_first_n_with_429=1, retry_after="7", fail_every_nth_with_500=3, html_on_page=4)
    with serve_member_api(members(0, 2), token="t0k3n", faults=faults) as api:
        bearer = {"Authorization": "Bearer t0k3n"}
        answers = [httpx.get(api.members_url, headers=bearer, timeout=5) for _ in range(4)]
        unauthorised = httpx.get(api.members_url, timeout=5)
        missing = httpx.get(api.url + "/api/other", headers=bearer, timeout=5)
        bad_cursor = httpx.get(api.members_url, params={"cursor": "%%%"}, headers=bearer, timeout=5)

    assert [a.status_code for a in answers] == [429, 200, 500, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[3].headers["Content-Type"].startswith("text/html")
    assert unauthorised.status_code == 401 and unauthorised.json()["error"] == "unauthorized"
    assert missing.status_code == 404
    assert bad_cursor.status_code == 400
