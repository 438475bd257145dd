"""Entities visible to consumers (issue 13, part 2): ``entity_id`` on pulled records, ``GET /api/v1/entities/{id}``
with the records' scopes, organisation limits and pseudonyms, and merges and splits in the ``since`` change feed."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
from sqlalchemy import func, insert, select

from lienthong.match.golden import SURVIVORSHIP
from lienthong.match.review import apply_decision
from lienthong.warehouse.tables_match import match_entity, match_link, match_review
from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import HEADER

pytestmark = pytest.mark.integration


@pytest.fixture
def server(start_server) -> Server:  # noqa: ANN001 - the conftest's factory
    """The API with after-publish on: a push is matched by the server's workers after the response."""
    return start_server(api_after_publish=True)
RECORDS = "/api/v1/datasets/members/records"
UPLOAD = "/api/v1/feeds/hnd_push/batches"
PERSON = ("HV001", "HV101")  # one person registered twice, under two member ids
FEED_ROWS = [
    "HV001;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 1;"
    "01/01/2010;active",
    "HV101;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 2;"
    "01/01/2012;active",
    "HV002;Trần Văn Bình;Nam;15/07/1990;001090054321;0987654321;Kinh;Không;00070;Số 5 Hàng Đào;Chi hội 1;"
    "01/03/2015;active",
    "HV003;Lê Thị Mai;Nữ;20/11/1978;;0903111222;Kinh;Không;00070;Số 9 Hàng Ngang;Chi hội 3;01/05/2001;active",
    "HV004;;Nam;03/03/2000;;0911000111;Kinh;Không;00070;Số 2 Hàng Gai;Chi hội 2;01/09/2020;active",  # no name
    "@@@;###;???;xx/yy/zzzz;abc;---;;;;;;;",  # garbage
]


def _feed() -> bytes:
    return ("\n".join([HEADER, *FEED_ROWS]) + "\n").encode("utf-8")


def _pushed_and_matched(server: Server) -> dict:
    """Push the feed as HND's clerk, wait for it to be published and then matched (after the response)."""
    server.key("hnd_clerk", "push:hnd_push", organisation="HND")
    with server.client("hnd_clerk") as c:
        r = c.post(UPLOAD, content=_feed(), params={"wait": "true"}, headers={"Content-Type": "text/csv"})
        assert r.status_code == 201, r.text
    report = r.json()
    deadline = time.monotonic() + 300  # only stops a hang: the match runs in the server's workers
    while time.monotonic() < deadline:
        with server.hub.engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(match_link)).scalar_one() >= 4:
                return report
        time.sleep(0.3)
    pytest.fail("the pushed batch was never matched")


def _all(c, since: str | None = None) -> tuple[list[dict], str]:  # noqa: ANN001 - an httpx client
    page = c.get(RECORDS, params={"since": since} if since else {}).json()
    return page["records"], page["next"]


def test_the_person_registered_twice_has_one_entity_id_in_every_pull_format(server: Server) -> None:
    """The issue's "Done when", API half: both records of the person carry the same entity_id."""
    report = _pushed_and_matched(server)
    assert report["rows_received"] == 6 and report["rows_quarantined"] == 2
    server.key("portal", "read:members", "read:pii")
    with server.client("portal") as c:
        records, _ = _all(c)
        by_member = {r["member_id"]: r for r in records}
        assert set(by_member) == {"HV001", "HV101", "HV002", "HV003"}
        assert by_member["HV001"]["entity_id"] == by_member["HV101"]["entity_id"] is not None
        assert len({r["entity_id"] for r in records}) == 3
        rows = list(csv.DictReader(io.StringIO(c.get(RECORDS, params={"format": "csv"}).text.lstrip("\ufeff"))))
        assert {r["member_id"]: r["entity_id"] for r in rows} == {m: r["entity_id"] for m, r in by_member.items()}
        lines = [json.loads(x) for x in c.get(RECORDS, params={"format": "ndjson"}).text.splitlines() if x]
        assert {r["member_id"]: r["entity_id"] for r in lines} == {m: r["entity_id"] for m, r in by_member.items()}


def test_a_merge_and_a_split_move_entity_id_and_show_in_the_change_feed(server: Server) -> None:
    _pushed_and_matched(server)
    server.key("portal", "read:members", "read:pii")
    with server.client("portal") as c:
        before, cursor = _all(c)
        entity = {r["member_id"]: r["entity_id"] for r in before}
        assert _all(c, cursor)[0] == []  # nothing changed since
        keys = {r["member_id"]: r["record_key"] for r in before}
        with server.hub.engine.begin() as conn:  # a reviewer says HV002 and HV003 are one person
            item = conn.execute(insert(match_review).values(
                dataset="members", record_key_l=keys["HV002"], record_key_r=keys["HV003"], match_probability=0.9,
                status="open", created_at=func.now()).returning(match_review.c.id)).scalar_one()
        apply_decision(server.hub.engine, item, "accepted", "test")
        changed, cursor = _all(c, cursor)
        survivor = min(entity["HV002"], entity["HV003"])
        absorbed = "HV003" if survivor == entity["HV002"] else "HV002"
        assert [r["member_id"] for r in changed] == [absorbed]  # only the record whose entity changed
        prior = next(r for r in before if r["member_id"] == absorbed)
        assert changed[0]["entity_id"] == survivor and changed[0]["version"] == prior["version"] + 1
        assert changed[0]["updated_at"] == prior["updated_at"]  # the values did not change
        now = {r["member_id"]: r["entity_id"] for r in _all(c)[0]}
        assert now["HV002"] == now["HV003"] == survivor

        with server.hub.engine.begin() as conn:  # then rejects the pair: the second record moves out (a split)
            conn.execute(match_review.update().where(match_review.c.id == item).values(status="open"))
        apply_decision(server.hub.engine, item, "rejected", "test")
        changed, _ = _all(c, cursor)
        assert [r["member_id"] for r in changed] == ["HV003"]
        assert changed[0]["entity_id"] not in (survivor, None)
        assert c.get(f"/api/v1/entities/{changed[0]['entity_id']}").json()["records"][0]["member_id"] == "HV003"
        merged = c.get(f"/api/v1/entities/{max(entity['HV002'], entity['HV003'])}").json()
        assert merged["status"] == "merged" and merged["merged_into"] == survivor and merged["golden"] is None


def test_the_entity_endpoint_follows_the_records_scopes_organisations_and_pseudonyms(server: Server) -> None:
    _pushed_and_matched(server)
    server.key("admin", "admin")
    server.key("reader", "read:members")  # no read:pii
    server.key("hnd", "read:members", organisation="HND")
    server.key("hlhpn", "read:members", organisation="HLHPN")
    server.key("relief_only", "read:relief")
    with server.client("admin") as c:
        records, _ = _all(c)
        person = next(r["entity_id"] for r in records if r["member_id"] == "HV001")
        full = c.get(f"/api/v1/entities/{person}")
        assert full.status_code == 200, full.text
        body = full.json()
        assert body["golden"]["full_name"] == "Nguyễn Thị Hòa" and body["golden"]["id_number"] == "001185012345"
        assert sorted(r["member_id"] for r in body["records"]) == ["HV001", "HV101"]
        assert body["memberships"] == [{"organisation": "HND", "records": 2,
                                        "record_keys": sorted(r["record_key"] for r in body["records"])}]
        alone = next(r for r in records if r["member_id"] == "HV002")  # an entity of one record: none stored,
        with server.hub.engine.connect() as conn:  # the same rules build it from the record when read
            assert conn.execute(select(match_entity.c.golden).where(
                match_entity.c.entity_id == alone["entity_id"])).scalar_one() is None
        golden = c.get(f"/api/v1/entities/{alone['entity_id']}").json()["golden"]
        assert golden == {f: alone[f] for f in SURVIVORSHIP} and golden["full_name"] == "Trần Văn Bình"
    with server.client("reader") as c:
        body = c.get(f"/api/v1/entities/{person}").json()
        pulled = {r["member_id"]: r for r in _all(c)[0]}
        for name in ("full_name", "family_name", "middle_name", "given_name", "address"):
            assert name not in body["golden"] and all(name not in r for r in body["records"])
            assert name in body["withheld"]
        assert body["golden"]["id_number"] == pulled["HV001"]["id_number"] != "001185012345"  # the same pseudonym
        assert body["golden"]["phone"] == pulled["HV001"]["phone"] != "0912345678"
        assert "Hòa" not in json.dumps(body, ensure_ascii=False) and "001185012345" not in json.dumps(body)
    with server.client("hnd") as c:  # the organisation's own members, in full; no golden record
        body = c.get(f"/api/v1/entities/{person}").json()
        assert body["golden"] is None and "golden" in body["withheld"]
        assert {r["full_name"] for r in body["records"]} == {"Nguyễn Thị Hòa"}
    with server.client("hlhpn") as c:  # none of its records: not its to know, as in its pulls
        assert c.get(f"/api/v1/entities/{person}").status_code == 404
    with server.client("relief_only") as c:
        assert c.get(f"/api/v1/entities/{person}").status_code == 404
    with server.client() as c:
        assert c.get(f"/api/v1/entities/{person}").status_code == 401
    with server.client("admin") as c:
        assert c.get("/api/v1/entities/ENOSUCHENTITY000").status_code == 404
        assert c.get("/api/v1/entities/bad%20id").status_code == 422
