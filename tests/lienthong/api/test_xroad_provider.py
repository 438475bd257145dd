"""The hub as an X-Road REST provider, behind the stand-in Security Server (real servers on 127.0.0.1).

The Security Server forwards from 127.0.0.2, the only address configured as one (``LIENTHONG_XROAD_SECURITY_SERVERS``);
the tests' own requests come from 127.0.0.1 and so get no X-Road trust. Records are published by an upload first.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import yaml

from connectors import build_connector
from connectors.xroad import XRoadConfig
from lienthong.demo.security_server import StandInSecurityServer, serve_security_server
from lienthong.warehouse.api_keys import ScopeError, create_key, revoke_key
from lienthong.warehouse.audit import AuditQuery, query_audit
from tests.lienthong.api.conftest import Server
from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import GOOD_ROWS, file_source, members_csv

pytestmark = pytest.mark.integration
HUB = "VN/GOV/000.00.00.G22/LIENTHONG"  # the hub's provider subsystem, as registered on its Security Server
PORTAL = "VN/GOV/000.00.00.H55/PORTAL"  # a consumer subsystem
SS_ADDRESS = "127.0.0.2"
RECORDS = f"/r1/{HUB}/members/records"
ROWS = GOOD_ROWS + [
    "HV007;Đặng Thị Yến;Nữ;03/03/1993;;0988000111;Kinh;Không;00070;;Chi hội 3;;active",
    "HV008;Bùi Thị Hương;Nữ;04/04/1994;;0988000222;Kinh;Không;00070;;Chi hội 3;;active",
]


@pytest.fixture
def hub_server(start_server: Callable[..., Server]) -> Server:
    server = start_server(xroad_security_servers=[SS_ADDRESS])
    server.key("admin", "admin")
    with server.client("admin") as c:
        for source, rows in (("hlhpn_push", ROWS), ("hnd_push", [GOOD_ROWS[0].replace("HV001", "HV101")])):
            c.post(f"/api/v1/feeds/{source}/batches", content=members_csv(rows).encode(), params={"wait": "true"},
                   headers={"Content-Type": "text/csv"}).raise_for_status()
    return server


@pytest.fixture
def ss(hub_server: Server) -> Iterator[StandInSecurityServer]:
    with serve_security_server(source_address=SS_ADDRESS) as server:
        for code in ("members", "feedback"):
            server.register(f"{HUB}/{code}", f"{hub_server.url}/xroad/{code}",
                            openapi_url=f"{hub_server.url}/xroad/{code}/openapi.json")
        yield server


def _grant(server: Server, client: str = PORTAL, *scopes: str, **kw) -> str:
    return create_key(server.hub.engine, name=f"X-Road {client}", scopes=list(scopes or ["read:members"]),
                      xroad_client=client, **kw).key.key_id


def _via(ss: StandInSecurityServer, path: str = RECORDS, client: str = PORTAL, **headers: str) -> httpx.Response:
    return httpx.get(f"{ss.url}{path}", headers={"X-Road-Client": client, **headers}, timeout=30)


def test_a_granted_subsystem_gets_records_and_the_audit_names_it(hub_server: Server, ss: StandInSecurityServer) -> None:
    key_id = _grant(hub_server)
    message_id = str(uuid.uuid4())
    response = _via(ss, f"{RECORDS}?limit=3", **{"X-Road-Id": message_id, "X-Road-UserId": "VN001185012345",
                                                  "X-Road-Represented-Party": "GOV/000.00.00.H01"})
    assert response.status_code == 200, response.text
    page = response.json()
    assert [r["member_id"] for r in page["records"]] == ["HV001", "HV002", "HV003"] and page["has_more"]
    assert "full_name" in page["withheld"], "without read:pii, as for an API key"
    assert response.headers["X-Road-Id"] == message_id and "X-Road-Error" not in response.headers

    [entry] = query_audit(hub_server.hub.engine, AuditQuery(actor="xroad:"))
    assert entry["actor"] == f"xroad:{PORTAL} (key {key_id})" and entry["action"] == "records.read"
    assert entry["records"] == 3 and entry["dataset"] == "members"
    assert entry["detail"]["xroad"] == {
        "client": PORTAL, "security_server": SS_ADDRESS, "id": message_id, "user_id": "VN001185012345",
        "represented_party": "GOV/000.00.00.H01", "service": f"{HUB}/members",
        "request_id": ss.forwarded[0]["headers"]["X-Road-Request-Id"],
        "client_agency_id": "000.00.00.H55"}  # the member code, an agency identifier (QĐ 20/2020)


def test_a_subsystem_without_a_grant_is_refused_in_the_hubs_own_words(hub_server: Server,
                                                                       ss: StandInSecurityServer) -> None:
    _grant(hub_server)
    response = _via(ss, client="VN/GOV/000.00.00.H55/OTHER")
    assert response.status_code == 403 and response.json()["error"] == "xroad_not_granted"
    assert "VN/GOV/000.00.00.H55/OTHER has no grant" in response.json()["message"]
    assert "X-Road-Error" not in response.headers, "a provider's refusal is not an error of X-Road"
    assert response.headers["X-Road-Client"] == "VN/GOV/000.00.00.H55/OTHER"  # set by the Security Server
    assert _via(ss, client="VN/GOV/000.00.00.H55").status_code == 403, "a member is not its subsystems"
    assert query_audit(hub_server.hub.engine, AuditQuery(actor="xroad:")) == []


def test_the_grant_s_scopes_organisation_and_pii_apply(hub_server: Server, ss: StandInSecurityServer) -> None:
    _grant(hub_server, PORTAL, "read:members", organisation="HND")
    _grant(hub_server, "VN/GOV/000.00.00.H55/PII", "read:members", "read:pii")
    assert {r["member_id"] for r in _via(ss).json()["records"]} == {"HV101"}, "HND's records only"
    refused = _via(ss, f"/r1/{HUB}/feedback/records")
    assert refused.status_code == 403 and "has no scope read:feedback" in refused.json()["message"]
    pii = _via(ss, client="VN/GOV/000.00.00.H55/PII").json()
    assert pii["withheld"] == [] and pii["records"][0]["full_name"] == "Nguyễn Thị Hòa"


def test_revoked_and_duplicate_grants(hub_server: Server, ss: StandInSecurityServer) -> None:
    key_id = _grant(hub_server)
    with pytest.raises(ScopeError, match="already has key"):
        _grant(hub_server)
    assert revoke_key(hub_server.hub.engine, key_id)
    revoked = _via(ss)
    assert revoked.status_code == 403 and "a revoked grant" in revoked.json()["message"]
    _grant(hub_server)  # granted again after the revocation
    assert _via(ss).status_code == 200


def test_a_grant_is_no_bearer_key(hub_server: Server, ss: StandInSecurityServer) -> None:
    _grant(hub_server)
    with httpx.Client(base_url=hub_server.url) as c:
        assert c.get("/api/v1/datasets/members/records", headers={"X-Road-Client": PORTAL}).status_code == 401


def _direct(server: Server, path: str, source: str, headers: dict[str, str]) -> tuple[int, dict]:
    """GET from a chosen local address (127.0.0.x all reach the server on Linux loopback)."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_a_request_not_from_a_configured_security_server_gets_no_trust(hub_server: Server) -> None:
    _grant(hub_server)
    status, body = _direct(hub_server, "/xroad/members/records", "127.0.0.1", {"X-Road-Client": PORTAL})
    assert status == 403 and body["error"] == "not_security_server" and "127.0.0.1" in body["message"]
    assert query_audit(hub_server.hub.engine, AuditQuery(actor="xroad:")) == []


def test_a_security_server_must_name_a_valid_client(hub_server: Server) -> None:
    status, body = _direct(hub_server, "/xroad/members/records", SS_ADDRESS, {})
    assert (status, body["error"]) == (400, "missing_xroad_client")
    status, body = _direct(hub_server, "/xroad/members/records", SS_ADDRESS, {"X-Road-Client": "VN/GOV/A%3AB/S"})
    assert (status, body["error"]) == (400, "invalid_xroad_client")


def test_a_grant_s_rate_limit_answers_429_with_retry_after(hub_server: Server, ss: StandInSecurityServer) -> None:
    _grant(hub_server, rate_per_minute=1)
    assert _via(ss).status_code == 200
    limited = _via(ss)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "X-Road-Error" not in limited.headers


def test_the_x_road_consumer_connector_pages_through_the_hub(hub_server: Server, ss: StandInSecurityServer) -> None:
    _grant(hub_server)
    config = XRoadConfig.model_validate({
        "security_server": ss.url, "client": PORTAL, "service": f"{HUB}/members", "path": "/records",
        "params": {"limit": "2"}, "records_path": "records",
        "pagination": {"type": "cursor", "cursor_param": "since", "next_cursor_path": "next"},
        "max_retries": 0, "timeout_s": 30,
    })
    batches = list(build_connector(config, source_id="hub_via_xroad").extract(None))
    ids = [m for b in batches for m in b.records.column("member_id").to_pylist()]
    assert sorted(ids) == ["HV001", "HV002", "HV003", "HV007", "HV008", "HV101"]
    entries = query_audit(hub_server.hub.engine, AuditQuery(actor=f"xroad:{PORTAL}"))
    assert len(entries) == len(ss.forwarded) == 4  # three pages of two and the empty one that ends the run
    assert len({e["detail"]["xroad"]["id"] for e in entries}) == 4, "a fresh X-Road-Id per request"


def test_each_service_has_an_openapi_description_and_the_metaservices_use_it(hub_server: Server,
                                                                            ss: StandInSecurityServer) -> None:
    _grant(hub_server)
    ss.access[f"{HUB}/feedback"] = {"VN/GOV/000.00.00.H55/OTHER"}
    with httpx.Client(base_url=hub_server.url) as c:
        doc = c.get("/xroad/members/openapi.json").json()
        listed = c.get("/xroad/services").json()
    assert doc["openapi"].startswith("3.") and list(doc["paths"]) == ["/records"]
    assert doc["servers"] == [{"url": "http://127.0.0.1:8080/xroad/members"}]
    params = {p["name"] for p in doc["paths"]["/records"]["get"]["parameters"]}
    assert params == {"since", "limit", "format", "province_code", "ward_code", "organisation"}
    operations = [op.ok().label for op in schemathesis.openapi.from_dict(doc).get_all_operations()]
    assert operations == ["GET /records"]
    assert {s["service_code"] for s in listed} >= {"members", "feedback"}

    methods = _via(ss, f"/r1/{HUB}/listMethods").json()["service"]
    assert {(s["service_code"], s["service_type"]) for s in methods} == {
        ("members", "OPENAPI"), ("feedback", "OPENAPI")}
    assert all(s["endpoint_list"] == [{"method": "GET", "path": "/records"}] for s in methods)
    allowed = _via(ss, f"/r1/{HUB}/allowedMethods").json()["service"]
    assert [s["service_code"] for s in allowed] == ["members"], "the Security Server's own access rights"
    assert _via(ss, f"/r1/{HUB}/getOpenAPI?serviceCode=members").json() == doc
    missing = _via(ss, f"/r1/{HUB}/getOpenAPI")
    assert missing.status_code == 400 and missing.headers["X-Road-Error"] == "Client.BadRequest"


# --- "Done when": `lienthong serve` running, 127.0.0.1 configured as a Security Server --------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_done_when_lienthong_serve_answers_a_granted_subsystem_through_the_security_server(
    pg_url: str, tmp_path: Path,
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    source = file_source(tmp_path, "hlhpn_push", connector={"type": "push"})
    (sources / "hlhpn_push.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "LIENTHONG_DATABASE_URL": pg_url, "LIENTHONG_HOME": str(tmp_path / "home"),
           "LIENTHONG_SOURCES_DIR": str(sources), "LIENTHONG_XROAD_SECURITY_SERVERS": "127.0.0.1",
           "COLUMNS": "400"}  # the audit table unwrapped
    cli = [sys.executable, "-m", "lienthong.cli"]

    def run(*args: str) -> str:  # in this process (tests/lienthong/cli/in_process.py); `serve` below is real
        done = run_cli(*args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("init")
    admin = run("keys", "create", "--name", "admin", "--scope", "admin").strip().splitlines()[-1]
    run("keys", "create", "--xroad-client", PORTAL, "--scope", "read:members")
    port = _free_port()
    hub = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline, ready = time.monotonic() + 60, None
        while time.monotonic() < deadline and ready is None:
            try:
                ready = httpx.get(f"{hub}/readyz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
        assert ready is not None and ready.status_code == 200
        httpx.post(f"{hub}/api/v1/feeds/hlhpn_push/batches", content=members_csv(ROWS).encode(),
                   params={"wait": "true"}, timeout=120,
                   headers={"Authorization": f"Bearer {admin}", "Content-Type": "text/csv"}).raise_for_status()
        with serve_security_server() as ss:  # forwards from 127.0.0.1
            ss.register(f"{HUB}/members", f"{hub}/xroad/members")
            granted = _via(ss, f"{RECORDS}?limit=5")
            refused = _via(ss, client="VN/GOV/000.00.00.H55/OTHER")
        assert granted.status_code == 200 and len(granted.json()["records"]) == 5
        assert refused.status_code == 403 and refused.json()["error"] == "xroad_not_granted"
        host, _, hub_port = hub.removeprefix("http://").partition(":")
        conn = http.client.HTTPConnection(host, int(hub_port), timeout=30, source_address=("127.0.0.2", 0))
        conn.request("GET", "/xroad/members/records", headers={"X-Road-Client": PORTAL})
        untrusted = conn.getresponse()
        assert untrusted.status == 403 and json.loads(untrusted.read())["error"] == "not_security_server"
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    audit = run("audit", "--actor", "xroad:")
    assert PORTAL in audit and "records.read" in audit
