"""The scope matrix: every kind of key against every endpoint, and what each one sees of the records."""

from __future__ import annotations

import pytest

from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import GOOD_ROWS, members_csv

pytestmark = pytest.mark.integration

HLHPN_FEED = members_csv(GOOD_ROWS).encode()
HND_FEED = members_csv([r.replace("HV00", "ND00") for r in GOOD_ROWS]).encode()

# key -> endpoint -> expected status. "hlhpn"/"hnd": organisation clerks with push to their own source and
# read:members; "portal": read:members without PII; "portal_pii": with read:pii; "feedback_reader": another dataset.
KEYS = [None, "admin", "portal", "portal_pii", "hlhpn", "hnd", "feedback_reader"]
MATRIX = {
    "GET /api/v1/sources":                         [401, 200, 200, 200, 200, 200, 200],
    "GET /api/v1/sources/hlhpn_push/example.csv":  [401, 200, 403, 403, 200, 403, 403],
    "POST /api/v1/feeds/hlhpn_push/batches":       [401, 200, 403, 403, 200, 403, 403],
    "GET /api/v1/feeds/hlhpn_push/batches/{b}":    [401, 200, 403, 403, 200, 403, 403],
    "GET /api/v1/feeds/hlhpn_push/batches/{b}/rejects.csv": [401, 200, 403, 403, 200, 403, 403],
    "GET /api/v1/datasets":                        [401, 200, 200, 200, 200, 200, 200],
    "GET /api/v1/datasets/members/records":        [401, 200, 200, 200, 200, 200, 403],
    "GET /api/v1/datasets/feedback/records":       [401, 200, 200, 403, 403, 403, 200],
    "GET /api/v1/datasets/nope/records":           [401, 404, 404, 404, 404, 404, 404],
    "GET /api/v1/catalog":                         [401, 200, 200, 200, 200, 200, 200],
    "GET /api/v1/catalog/sexes":                   [401, 200, 200, 200, 200, 200, 200],
    "GET /healthz":                                [200, 200, 200, 200, 200, 200, 200],
    "GET /readyz":                                 [200, 200, 200, 200, 200, 200, 200],
    "GET /metrics":                                [200, 200, 200, 200, 200, 200, 200],
}


@pytest.fixture
def loaded(server: Server) -> tuple[Server, str]:
    with server.client("hlhpn") as c:
        batch = c.post("/api/v1/feeds/hlhpn_push/batches", content=HLHPN_FEED, params={"wait": "true"},
                       headers={"Content-Type": "text/csv"}).json()["batch_id"]
    with server.client("hnd") as c:
        c.post("/api/v1/feeds/hnd_push/batches", content=HND_FEED, params={"wait": "true"},
               headers={"Content-Type": "text/csv"}).raise_for_status()
    return server, batch


def test_scope_matrix(loaded: tuple[Server, str]) -> None:
    server, batch = loaded
    seen = {}
    for endpoint in MATRIX:
        method, path = endpoint.split(" ", 1)
        for key in KEYS:
            with server.client(key) as c:
                kwargs = {"content": HLHPN_FEED, "headers": {"Content-Type": "text/csv"}} if method == "POST" else {}
                r = c.request(method, path.format(b=batch), **kwargs)
            seen.setdefault(endpoint, []).append(r.status_code)
            if r.status_code >= 400:
                assert r.json()["message_vi"], (endpoint, key)
    assert seen == MATRIX


def _records(server: Server, key: str) -> list[dict]:
    with server.client(key) as c:
        r = c.get("/api/v1/datasets/members/records")
    assert r.status_code == 200, r.text
    return r.json()["records"]


def test_what_each_key_sees(loaded: tuple[Server, str]) -> None:
    server, _ = loaded
    admin = _records(server, "admin")
    assert len(admin) == 6 and admin[0]["full_name"] and admin[0]["id_number"] == "001185012345"

    # an organisation sees its own members, in full, and nobody else's
    hlhpn = _records(server, "hlhpn")
    assert {r["organisation"] for r in hlhpn} == {"HLHPN"} and len(hlhpn) == 3
    assert hlhpn[0]["full_name"].startswith("Nguyễn Thị") and hlhpn[0]["phone"] == "0912345678"
    assert {r["organisation"] for r in _records(server, "hnd")} == {"HND"}

    # the portal sees everyone without direct identifiers; ID number and phone as keyed pseudonyms
    with server.client("portal") as c:
        page = c.get("/api/v1/datasets/members/records").json()
    assert len(page["records"]) == 6
    names = ["full_name", "family_name", "middle_name", "given_name"]  # the parts give the name back (issue 12)
    assert page["withheld"] == [*names, "address"] and page["pseudonymised"] == ["id_number", "phone"]
    first = page["records"][0]
    assert not {*names, "address"} & set(first)
    assert first["id_number"] != "001185012345" and first["id_number"].count(":") == 1
    assert first["date_of_birth"] == "1985-02-01"  # quasi-identifiers stay: the contract says so
    # the same person's pseudonym is the same on every page and for every consumer without PII
    assert _records(server, "portal")[0]["id_number"] == first["id_number"]

    pii = _records(server, "portal_pii")
    assert pii[0]["full_name"] and pii[0]["id_number"] == "001185012345"


def test_filters(loaded: tuple[Server, str]) -> None:
    server, _ = loaded
    with server.client("admin") as c:
        hnd = c.get("/api/v1/datasets/members/records", params={"organisation": "HND"}).json()["records"]
        assert {r["organisation"] for r in hnd} == {"HND"} and len(hnd) == 3
        ward = c.get("/api/v1/datasets/members/records", params={"ward_code": "00004"}).json()["records"]
        assert {r["member_id"] for r in ward} == {"HV003", "ND003"}
        bad = c.get("/api/v1/datasets/feedback/records", params={"organisation": "HND"})
        assert (bad.status_code, bad.json()["error"]) == (422, "invalid_filter")
    with server.client("hnd") as c:  # a filter never widens what a key sees
        assert c.get("/api/v1/datasets/members/records", params={"organisation": "HLHPN"}).json()["records"] == []


def test_sources_lists_only_pushable(loaded: tuple[Server, str]) -> None:
    server, _ = loaded
    with server.client("hnd") as c:
        sources = c.get("/api/v1/sources").json()
    assert [s["id"] for s in sources] == ["hnd_push"]
    assert "Họ và tên" in sources[0]["expected_columns"]
    with server.client("admin") as c:
        assert {s["id"] for s in c.get("/api/v1/sources").json()} == {"hlhpn_push", "hnd_push"}
        example = c.get(sources[0]["example_url"])
    assert example.text.lstrip("\ufeff").startswith("Mã hội viên;") or "Mã hội viên" in example.text


def test_rate_limit(server: Server) -> None:
    server.key("slow", "read:members", rate=3)
    with server.client("slow") as c:
        codes = [c.get("/api/v1/datasets").status_code for _ in range(5)]
        last = c.get("/api/v1/datasets")
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert last.json()["error"] == "rate_limited" and int(last.headers["retry-after"]) >= 1
