"""Malformed cursors and filters are 422 with a reason, in JSON, CSV and NDJSON alike — never a 500, never a 200
whose stream breaks (issue 12, row 10). On PostgreSQL through the real server, and on SQLite in process."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lienthong.warehouse.api_keys import create_key
from lienthong.web.app import create_app
from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import GOOD_ROWS, HubFactory, file_source, members_csv

FORMATS = ["json", "csv", "ndjson"]
RECORDS = "/api/v1/datasets/members/records"


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# (query parameters, error code)
BAD = {
    "seq beyond bigint": ({"since": cursor("99999999999999999999:hlhpn_push:HV001")}, "invalid_cursor"),
    "seq just beyond bigint": ({"since": cursor(f"{2**63}:x")}, "invalid_cursor"),
    "negative seq": ({"since": cursor("-1:x")}, "invalid_cursor"),
    "seq with spaces": ({"since": cursor(" 1_0:x")}, "invalid_cursor"),
    "NUL in the key": ({"since": cursor("1:hlhpn_push:HV\x00001")}, "invalid_cursor"),
    "not base64": ({"since": "@@@"}, "invalid_cursor"),
    "NUL in a filter": ({"province_code": "\x00"}, "invalid_filter"),
    "control character in a filter": ({"ward_code": "000\x0170"}, "invalid_filter"),
    "over-long filter": ({"organisation": "H" * 65}, "invalid_request"),
    "over-long cursor": ({"since": "A" * 601}, "invalid_request"),
}


def assert_refused(r, code: str, where: tuple[str, str]) -> None:  # noqa: ANN001 - an httpx response
    assert r.status_code == 422, (where, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), where
    body = r.json()
    assert body["error"] == code and body["message"] and body["message_vi"], (where, body)


@pytest.fixture
def loaded(server: Server) -> Server:
    with server.client("hlhpn") as c:
        c.post("/api/v1/feeds/hlhpn_push/batches", content=members_csv(GOOD_ROWS).encode(), params={"wait": "true"},
               headers={"Content-Type": "text/csv"}).raise_for_status()
    return server


@pytest.mark.integration
def test_bad_cursors_and_filters_are_422_in_every_format_on_postgresql(loaded: Server) -> None:
    with loaded.client("admin") as c:
        for name, (params, code) in BAD.items():
            for fmt in FORMATS:
                r = c.get(RECORDS, params={**params, "format": fmt})
                assert_refused(r, code, (name, fmt))
        # and the largest valid position is still a cursor (nothing after it)
        last = c.get(RECORDS, params={"since": cursor(f"{2**63 - 1}:x"), "format": "csv"})
        assert last.status_code == 200 and last.text.count("\n") == 1
        ok = c.get(RECORDS, params={"since": cursor("0:"), "format": "ndjson"})
        assert ok.status_code == 200 and ok.text.count("\n") == len(GOOD_ROWS)


def test_bad_cursors_and_filters_are_422_in_every_format_on_sqlite(make_hub: HubFactory, tmp_path: Path) -> None:
    hub = make_hub([file_source(tmp_path, "hlhpn_files")])
    token = create_key(hub.engine, name="admin", scopes=["admin"]).token
    with TestClient(create_app(hub.settings), headers={"Authorization": f"Bearer {token}"}) as c:
        for name, (params, code) in BAD.items():
            for fmt in FORMATS:
                r = c.get(RECORDS, params={**params, "format": fmt})
                assert_refused(r, code, (name, fmt))
    hub.engine.dispose()


def test_the_422s_are_in_the_openapi_document(make_hub: HubFactory, tmp_path: Path) -> None:
    hub = make_hub([file_source(tmp_path, "hlhpn_files")])
    with TestClient(create_app(hub.settings)) as c:
        doc = c.get("/openapi.json").json()
    described = doc["paths"]["/api/v1/datasets/{dataset}/records"]["get"]["responses"]["422"]["description"]
    assert "invalid_cursor" in described and "invalid_filter" in described
    hub.engine.dispose()
