"""OData v4 over a real server on 127.0.0.1 and PostgreSQL: CSDL read by an OData client (python-odata), every
query option and filter operator against the same records computed in Python, paging by nextLink to the end,
and the REST API's scopes, organisation limits, pseudonyms and audit through this door."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from lienthong.warehouse.audit import AuditQuery, query_audit
from tests.conftest import new_database
from tests.lienthong.api.conftest import Server, serving, with_usual_keys
from tests.lienthong.conftest import members_csv

pytestmark = pytest.mark.integration
ODATA = "/odata/v4"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
WARDS = ["00070", "00004", "01273"]  # provinces 01, 01, 04


def _row(n: int, prefix: str) -> str:
    ward = WARDS[n % 3]
    dob = "" if n % 7 == 0 else f"{1 + n % 28:02d}/{1 + n % 12:02d}/19{60 + n % 35}"  # some without a date
    name = ["Nguyễn Thị An", "Trần Thị Bình", "Lê Thị 50%_Chi", "Phạm Thị Dung"][n % 4]
    return (f"{prefix}{n:03d};{name};Nữ;{dob};;09{n:08d};Kinh;Không;{ward};;Chi hội {n % 4};;active")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """31 HLHPN members and 9 HND members over three wards of provinces 01 and 04: one server for the module, as
    every test here only reads (a server per test spent ~19 s on its processing workers and pushes)."""
    with new_database() as url, serving(url, tmp_path_factory.mktemp("odata")) as start:
        server = with_usual_keys(start())
        with server.client("admin") as c:
            for source, prefix, count in (("hlhpn_push", "HV", 31), ("hnd_push", "ND", 9)):
                c.post(f"/api/v1/feeds/{source}/batches", content=members_csv([_row(n, prefix) for n in range(count)]),
                       params={"wait": "true"}, headers={"Content-Type": "text/csv"}).raise_for_status()
        yield server


def _all(server: Server, key: str = "admin") -> list[dict[str, Any]]:
    with server.client(key) as c:
        return c.get("/api/v1/datasets/members/records").json()["records"]


def _get(server: Server, key: str, path: str, **params: str) -> dict[str, Any]:
    with server.client(key) as c:
        r = c.get(f"{ODATA}/{path}", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["odata-version"] == "4.0"
    return r.json()


def _error(server: Server, key: str | None, path: str, status: int, code: str, **params: str) -> dict[str, Any]:
    with server.client(key) as c:
        r = c.get(f"{ODATA}/{path}", params=params)
    assert r.status_code == status, r.text
    error = r.json()["error"]  # the OData JSON error format
    assert error["code"] == code and error["message"] and error["innererror"]["message_vi"]
    return error


def _follow(server: Server, key: str, first: dict[str, Any], page_size: int) -> list[list[dict[str, Any]]]:
    """Every page, by nextLink, as a harvester would."""
    pages, body = [first["value"]], first
    with server.client(key, headers={"Prefer": f"odata.maxpagesize={page_size}"}) as c:
        while "@odata.nextLink" in body:
            r = c.get(body["@odata.nextLink"])
            assert r.status_code == 200, r.text
            body = r.json()
            pages.append(body["value"])
    return pages


def test_done_when_province_filter_top_5(loaded: Server) -> None:
    body = _get(loaded, "admin", "members", **{"$filter": "province_code eq '01'", "$top": "5"})
    assert len(body["value"]) == 5 and {r["province_code"] for r in body["value"]} == {"01"}
    assert "@odata.nextLink" not in body  # $top=5 was asked: five is all


def test_metadata_is_csdl_read_by_an_odata_client(loaded: Server) -> None:
    with loaded.client("portal") as c:
        r = c.get(f"{ODATA}/$metadata")
    root = ET.fromstring(r.content)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    schema = root.find(f"{EDMX}DataServices/{EDM}Schema")
    sets = {s.get("Name"): s.get("EntityType") for s in schema.iter(f"{EDM}EntitySet")}
    assert sets == {"members": "LienThong.Member", "feedback": "LienThong.Feedback"}  # what the portal reads
    member = next(t for t in schema.iter(f"{EDM}EntityType") if t.get("Name") == "Member")
    props = {p.get("Name"): p.get("Type") for p in member.iter(f"{EDM}Property")}
    assert props["date_of_birth"] == "Edm.Date" and props["updated_at"] == "Edm.DateTimeOffset"
    assert "full_name" not in props and "address" not in props and props["id_number"] == "Edm.String"
    assert member.find(f"{EDM}Key/{EDM}PropertyRef").get("Name") == "record_key"

    # an OData client reflects the entity types from $metadata and pages through nextLink by itself
    from odata import ODataService

    headers = {"Authorization": f"Bearer {loaded.tokens['portal']}", "Prefer": "odata.maxpagesize=4"}

    def portal_key(request: Any) -> Any:  # python-odata sends with its own client (requests; ours is httpx)
        request.headers.update(headers)
        return request

    service = ODataService(f"{loaded.url}{ODATA}/", reflect_entities=True, auth=portal_key, quiet_progress=True)
    members = service.entities["members"]
    got = list(service.query(members).filter(members.province_code == "04"))
    expected = sorted(r["member_id"] for r in _all(loaded) if r["province_code"] == "04")
    assert sorted(m.member_id for m in got) == expected and len(expected) > 4  # more than one page
    assert all(m.id_number is None or m.id_number.count(":") == 1 for m in got)  # tokens, not numbers


def test_service_document_lists_readable_sets(loaded: Server) -> None:
    body = _get(loaded, "hnd", "")
    assert body["@odata.context"].endswith("/odata/v4/$metadata")
    assert body["value"] == [{"name": "members", "kind": "EntitySet", "url": "members"}]


OPERATORS: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("ward_code eq '00004'", lambda r: r["ward_code"] == "00004"),
    ("ward_code ne '00004'", lambda r: r["ward_code"] != "00004"),
    ("date_of_birth gt 1980-06-01", lambda r: r["date_of_birth"] is not None and r["date_of_birth"] > "1980-06-01"),
    ("date_of_birth ge 1980-06-01", lambda r: r["date_of_birth"] is not None and r["date_of_birth"] >= "1980-06-01"),
    ("date_of_birth lt 1970-01-01", lambda r: r["date_of_birth"] is not None and r["date_of_birth"] < "1970-01-01"),
    ("date_of_birth le 1970-01-01", lambda r: r["date_of_birth"] is not None and r["date_of_birth"] <= "1970-01-01"),
    ("date_of_birth eq null", lambda r: r["date_of_birth"] is None),
    ("province_code eq '01' and organisation eq 'HND'", lambda r: r["province_code"] == "01"
     and r["organisation"] == "HND"),
    ("ward_code eq '00004' or branch eq 'Chi hội 3'", lambda r: r["ward_code"] == "00004"
     or r["branch"] == "Chi hội 3"),
    ("not (province_code eq '01')", lambda r: r["province_code"] != "01"),
    ("contains(full_name, 'Bình')", lambda r: "Bình" in r["full_name"]),
    ("contains(full_name, '50%_')", lambda r: "50%_" in r["full_name"]),  # % and _ are characters, not wildcards
    ("startswith(member_id, 'ND')", lambda r: r["member_id"].startswith("ND")),
    ("endswith(member_id, '7')", lambda r: r["member_id"].endswith("7")),
    ("version ge 1 and not startswith(member_id, 'HV0')", lambda r: not r["member_id"].startswith("HV0")),
]


@pytest.mark.parametrize("filter_, keep", OPERATORS, ids=[f for f, _ in OPERATORS])
def test_filter_operators(loaded: Server, filter_: str, keep: Callable[[dict[str, Any]], bool]) -> None:
    expected = sorted(r["member_id"] for r in _all(loaded, "portal_pii") if keep(r))
    body = _get(loaded, "portal_pii", "members", **{"$filter": filter_, "$count": "true"})
    assert sorted(r["member_id"] for r in body["value"]) == expected and expected
    assert body["@odata.count"] == len(expected)


def test_select_orderby_top_skip_count(loaded: Server) -> None:
    everyone = _all(loaded)
    body = _get(loaded, "admin", "members", **{"$select": "member_id,date_of_birth", "$orderby": "date_of_birth desc"
                                               ",member_id", "$count": "true", "$top": "12", "$skip": "3"})
    assert body["@odata.context"].endswith("/$metadata#members(member_id,date_of_birth)")
    assert body["@odata.count"] == len(everyone) == 40  # $count ignores $top and $skip
    assert all(set(r) == {"member_id", "date_of_birth", "@odata.id"} for r in body["value"])
    dated = [r for r in everyone if r["date_of_birth"]]
    ordered = sorted(dated, key=lambda r: (-date.fromisoformat(r["date_of_birth"]).toordinal(), r["member_id"]))
    ordered += sorted((r for r in everyone if not r["date_of_birth"]), key=lambda r: r["member_id"])  # nulls last
    assert [r["member_id"] for r in body["value"]] == [r["member_id"] for r in ordered[3:15]]

    with loaded.client("admin") as c:
        count = c.get(f"{ODATA}/members/$count", params={"$filter": "organisation eq 'HND'"})
    assert (count.status_code, count.text) == (200, "9") and count.headers["content-type"].startswith("text/plain")

    key = body["value"][0]["@odata.id"]
    one = _get(loaded, "admin", key)
    assert one["member_id"] == body["value"][0]["member_id"] and one["@odata.context"].endswith("#members/$entity")


@pytest.mark.parametrize("orderby", [None, "ward_code desc", "date_of_birth,branch desc"])
def test_paging_by_next_link_to_the_end(loaded: Server, orderby: str | None) -> None:
    params = {"$orderby": orderby} if orderby else {}
    with loaded.client("admin", headers={"Prefer": "odata.maxpagesize=3"}) as c:
        first = c.get(f"{ODATA}/members", params=params)
    assert first.headers["preference-applied"] == "odata.maxpagesize=3"
    pages = _follow(loaded, "admin", first.json(), 3)
    keys = [r["record_key"] for page in pages for r in page]
    assert len(keys) == len(set(keys)) == 40 and all(len(p) == 3 for p in pages[:-1])  # no duplicate, no gap

    # $top across pages: exactly that many, then no nextLink
    with loaded.client("admin", headers={"Prefer": "odata.maxpagesize=3"}) as c:
        first = c.get(f"{ODATA}/members", params={**params, "$top": "10", "$filter": "province_code eq '01'"})
    pages = _follow(loaded, "admin", first.json(), 3)
    keys = [r["record_key"] for page in pages for r in page]
    assert len(keys) == len(set(keys)) == 10 and [len(p) for p in pages] == [3, 3, 3, 1]


def test_scopes_organisation_limit_and_pseudonyms(loaded: Server) -> None:
    hlhpn = _get(loaded, "hlhpn", "members", **{"$count": "true"})
    assert hlhpn["@odata.count"] == 31 and {r["organisation"] for r in hlhpn["value"]} == {"HLHPN"}
    assert hlhpn["value"][0]["full_name"]  # an organisation sees its own members in full
    hidden = _get(loaded, "hlhpn", "members", **{"$filter": "organisation eq 'HND'", "$count": "true"})
    assert hidden["@odata.count"] == 0  # a filter never widens what a key sees

    portal = _get(loaded, "portal", "members", **{"$top": "3"})["value"]
    assert all("full_name" not in r and "address" not in r for r in portal)
    assert all(r["phone"].count(":") == 1 and not r["phone"].startswith("09") for r in portal)

    _error(loaded, None, "members", 401, "missing_key")
    _error(loaded, "feedback_reader", "members", 403, "forbidden")
    _error(loaded, "portal", "relief", 403, "forbidden")


@pytest.mark.parametrize(("option", "value", "code"), [
    ("$filter", "full_name eq 'Trần Thị Bình'", "withheld_property"),
    ("$filter", "contains(address, 'Hàng')", "withheld_property"),
    ("$filter", "phone eq '0900000001'", "pseudonymised_property"),  # would answer "is this phone here?"
    ("$orderby", "id_number", "pseudonymised_property"),
    ("$select", "member_id,full_name", "withheld_property"),
])
def test_withheld_and_pseudonymised_fields_are_no_oracle(loaded: Server, option: str, value: str,
                                                         code: str) -> None:
    _error(loaded, "portal", "members", 400, code, **{option: value})
    assert _get(loaded, "portal_pii", "members", **{option: value})["value"] is not None  # read:pii may


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("members", {"$filter": "province_code eq"}, 400, "invalid_filter"),
    ("members", {"$filter": "nothere eq 1"}, 400, "unknown_property"),
    ("members", {"$filter": "matchesPattern(member_id, '.*')"}, 501, "not_implemented"),
    ("members", {"$filter": "version add 1 eq 2"}, 501, "not_implemented"),
    ("members", {"$expand": "x"}, 501, "not_implemented"),
    ("members", {"$top": "-1"}, 400, "invalid_request"),
    ("members", {"$orderby": "member_id sideways"}, 400, "invalid_orderby"),
    ("members", {"$skiptoken": "not-a-token"}, 400, "invalid_skiptoken"),
    ("nothing", {}, 404, "not_found"),
    ("members('nobody')", {}, 404, "not_found"),
    ("members/x/y", {}, 404, "not_found"),
])
def test_errors_in_odata_format(loaded: Server, path: str, params: dict[str, str], status: int, code: str) -> None:
    _error(loaded, "admin", path, status, code, **params)


def test_audited_like_the_rest_api(loaded: Server) -> None:
    _get(loaded, "portal", "members", **{"$filter": "province_code eq '04'", "$top": "4"})
    with loaded.client("portal") as c:
        c.get(f"{ODATA}/members/$count").raise_for_status()
    entries = query_audit(loaded.hub.engine, AuditQuery(actor="(portal)", limit=5))
    count, read = entries[0], entries[1]
    assert read["action"] == "records.read" and read["records"] == 4 and read["dataset"] == "members"
    assert read["detail"]["protocol"] == "odata" and read["detail"]["options"]["$filter"] == "province_code eq '04'"
    assert read["detail"]["withheld"] == ["full_name", "family_name", "middle_name", "given_name", "address"]
    assert read["detail"]["pseudonymised"] == ["id_number", "phone"]
    assert count["action"] == "records.count" and count["records"] == 0
