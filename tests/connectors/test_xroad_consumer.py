"""The X-Road consumer connector, and the stand-in Security Server's protocol checks (real servers on 127.0.0.1).

The provider behind the stand-in Security Server is the simulated member API; the connector calls
``/r1/{service id}/members`` on the Security Server with ``X-Road-Client`` and a fresh ``X-Road-Id`` per request.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors import build_connector
from connectors.xroad import XRoadConfig, XRoadIdentifierError, parse_id
from lienthong.demo.member_api import MemberApi, serve_member_api
from lienthong.demo.security_server import StandInSecurityServer, serve_security_server
from lienthong.errors import ExtractError
from tests.connectors.connector_harness import members

pytestmark = pytest.mark.integration
CLIENT = "VN/GOV/000.00.00.G22/LIENTHONG"
SERVICE = "VN/GOV/000.00.00.H55/HOIVIEN/members"


@pytest.fixture
def provider() -> Iterator[MemberApi]:
    with serve_member_api(members(0, 25)) as api:
        yield api


@pytest.fixture
def ss(provider: MemberApi) -> Iterator[StandInSecurityServer]:
    with serve_security_server() as server:
        server.register(SERVICE, f"{provider.url}/api")
        yield server


def _config(ss: StandInSecurityServer, **overrides: Any) -> XRoadConfig:
    return XRoadConfig.model_validate({
        "security_server": ss.url, "client": CLIENT, "service": SERVICE, "path": "/members",
        "pagination": {"type": "page", "page_size": 10}, "incremental": {}, "max_retries": 2, "backoff_s": 0.001,
        "timeout_s": 5, **overrides,
    })


def _pull(config: XRoadConfig) -> list:
    return list(build_connector(config, source_id="xroad_hoivien").extract(None))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pages_come_through_the_security_server_with_a_fresh_message_id_each(ss: StandInSecurityServer,
                                                                              provider: MemberApi) -> None:
    batches = _pull(_config(ss, user_id="VN001185012345"))
    assert [b.row_count for b in batches] == [10, 10, 5]
    assert batches[0].origin.startswith(f"{ss.url}/r1/VN/GOV/000.00.00.H55/HOIVIEN/members/members?")
    seen = ss.forwarded
    assert len(seen) == 3 and {f["path"] for f in seen} == {"/api/members"}
    assert {f["headers"]["X-Road-Client"] for f in seen} == {CLIENT}
    assert {f["headers"]["X-Road-Service"] for f in seen} == {SERVICE}
    ids = [f["headers"]["X-Road-Id"] for f in seen]
    assert len(set(ids)) == 3 and all(uuid.UUID(i) for i in ids), "one new UUID per request"
    assert {f["headers"]["x-road-userid"] for f in seen} == {"VN001185012345"}


def test_identifier_parts_are_percent_encoded_one_by_one(provider: MemberApi) -> None:
    client, service = "VN/GOV/000.00.00.G22/LIEN(THONG)", "VN/GOV/000.00.00.H55/HOIVIEN/members=v1"
    with serve_security_server() as ss:
        ss.register(service, f"{provider.url}/api")
        batches = _pull(_config(ss, client=client, service=service))
        assert sum(b.row_count for b in batches) == 25
        assert "/r1/VN/GOV/000.00.00.H55/HOIVIEN/members%3Dv1/members?" in batches[0].origin
        assert ss.forwarded[0]["headers"]["X-Road-Client"] == "VN/GOV/000.00.00.G22/LIEN%28THONG%29"
        assert str(parse_id(ss.forwarded[0]["headers"]["X-Road-Client"], encoded=True)) == client


@pytest.mark.parametrize("bad", ["VN/GOV", "VN/GOV/000.00.00.G22/LIÊN", "VN/GOV//SUB", "VN/GOV/M/S/X/Y",
                                 "VN/GOV/000:1/SUB"])
def test_invalid_identifiers_are_refused_in_the_config(bad: str) -> None:
    with pytest.raises(XRoadIdentifierError):
        parse_id(bad)
    with pytest.raises(ValueError, match="X-Road client"):
        XRoadConfig.model_validate({"security_server": "http://127.0.0.1:1", "client": bad, "service": SERVICE})


def test_access_denied_by_the_provider_is_a_clear_error_naming_the_type(ss: StandInSecurityServer) -> None:
    ss.access[SERVICE] = {"VN/GOV/000.00.00.G01/OTHER"}
    with pytest.raises(ExtractError) as err:
        _pull(_config(ss))
    message = str(err.value)
    assert "X-Road error Server.ServerProxy.AccessDenied (HTTP 500)" in message
    assert "has not granted our subsystem VN/GOV/000.00.00.G22/LIENTHONG" in message
    assert "lỗi X-Road Server.ServerProxy.AccessDenied" in err.value.message_vi
    assert ss.forwarded == [], "refused by the Security Server, and not retried"


def test_an_unknown_service_is_not_retried(ss: StandInSecurityServer) -> None:
    with pytest.raises(ExtractError, match="X-Road error Server.ServerProxy.UnknownService"):
        _pull(_config(ss, service="VN/GOV/000.00.00.H55/HOIVIEN/nothing"))


def test_network_errors_are_retried_then_name_the_x_road_error(ss: StandInSecurityServer) -> None:
    ss.register("VN/GOV/000.00.00.H55/HOIVIEN/down", f"http://127.0.0.1:{_free_port()}/api")
    with pytest.raises(ExtractError) as err:
        _pull(_config(ss, service="VN/GOV/000.00.00.H55/HOIVIEN/down"))
    assert len(ss.forwarded) == 3, "one attempt and two retries"
    assert "failed after 3 attempts, last: HTTP 500, X-Road error Server.ServerProxy.NetworkError" in str(err.value)


def test_a_passing_network_error_is_retried_and_the_run_completes(ss: StandInSecurityServer) -> None:
    ss.inject("Server.ServerProxy.NetworkError")
    assert sum(b.row_count for b in _pull(_config(ss))) == 25


def test_a_client_error_of_x_road_is_not_retried(ss: StandInSecurityServer) -> None:
    ss.inject("Client.BadRequest")
    with pytest.raises(ExtractError) as err:
        _pull(_config(ss))
    assert "X-Road error Client.BadRequest (HTTP 400)" in str(err.value) and "check `client`" in str(err.value)
    assert ss.forwarded == []


def test_the_providers_own_error_passes_through_as_it_is(provider: MemberApi, ss: StandInSecurityServer) -> None:
    provider.token = "provider-wants-a-token"
    with pytest.raises(ExtractError) as err:
        _pull(_config(ss))
    assert "returned HTTP 401" in str(err.value) and "X-Road error" not in str(err.value)


# --- the stand-in Security Server itself: what it checks and what it answers ---------------------------------

def _call(ss: StandInSecurityServer, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{ss.url}{path}", headers=headers or {}, timeout=10)


def _is_xroad_error(response: httpx.Response, kind: str, status: int) -> None:
    assert response.status_code == status and response.headers["X-Road-Error"] == kind
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["type"] == kind and body["message"] and uuid.UUID(body["detail"])


def test_the_security_server_refuses_requests_outside_the_protocol(ss: StandInSecurityServer) -> None:
    path = "/r1/VN/GOV/000.00.00.H55/HOIVIEN/members/members"
    _is_xroad_error(_call(ss, path), "Client.BadRequest", 400)  # no X-Road-Client
    _is_xroad_error(_call(ss, path, {"X-Road-Client": "VN/GOV"}), "Client.BadRequest", 400)
    _is_xroad_error(_call(ss, path, {"X-Road-Client": "VN/GOV/000.00.00.G22/A%3AB"}), "Client.BadRequest", 400)
    _is_xroad_error(_call(ss, "/r2/VN/GOV/000.00.00.H55/HOIVIEN/members", {"X-Road-Client": CLIENT}),
                    "Client.BadRequest", 400)
    _is_xroad_error(_call(ss, "/r1/VN/GOV/0%0A0/HOIVIEN/members", {"X-Road-Client": CLIENT}),
                    "Client.BadRequest", 400)
    _is_xroad_error(_call(ss, "/r1/VN/GOV/000.00.00.H55/HOIVIEN/members/" + "x" * 2000, {"X-Road-Client": CLIENT}),
                    "Client.BadRequest", 400)
    assert ss.forwarded == []


def test_the_security_server_echoes_the_message_id_and_adds_its_headers(ss: StandInSecurityServer) -> None:
    message_id = str(uuid.uuid4())
    response = _call(ss, "/r1/VN/GOV/000.00.00.H55/HOIVIEN/members/members?page=1&page_size=2",
                     {"X-Road-Client": CLIENT, "X-Road-Id": message_id,
                      "X-Road-Represented-Party": "GOV/000.00.00.H01"})
    assert response.status_code == 200 and len(response.json()["data"]) == 2
    assert response.headers["X-Road-Id"] == message_id == ss.forwarded[0]["headers"]["X-Road-Id"]
    assert response.headers["X-Road-Client"] == CLIENT and response.headers["X-Road-Service"] == SERVICE
    assert uuid.UUID(response.headers["X-Road-Request-Id"])
    assert len(response.headers["X-Road-Request-Hash"]) == 88, "base64 of a SHA-512"
    assert "X-Road-Error" not in response.headers
    assert ss.forwarded[0]["headers"]["x-road-represented-party"] == "GOV/000.00.00.H01"
    assert "user-agent" not in ss.forwarded[0]["headers"], "headers that reveal the origin host are filtered"


def test_list_clients_names_the_registered_subsystems(ss: StandInSecurityServer) -> None:
    ss.clients.append(CLIENT)
    doc = json.loads(_call(ss, "/listClients", {"Accept": "application/json"}).content)
    ids = {(m["id"]["member_code"], m["id"].get("subsystem_code"), m["id"]["object_type"]) for m in doc["member"]}
    assert ids == {("000.00.00.H55", "HOIVIEN", "SUBSYSTEM"), ("000.00.00.G22", "LIENTHONG", "SUBSYSTEM")}
