"""X-Road REST provider: the hub's datasets as X-Road services, behind a provider Security Server.

Protocol: X-Road Message Protocol for REST (PR-REST) and the Service Metadata Protocol for REST (PR-MREST),
nordic-institute/X-Road doc/Protocols. A consumer calls ``GET /r1/{our subsystem}/{service code}/records?…`` on its
own Security Server; our provider Security Server maps the service code to its service URL and forwards
``GET {service URL}/records?…`` here with the consumer in ``X-Road-Client``. One service per dataset, code = the
dataset id; its service URL is ``{public base}/xroad/{dataset}`` and its OpenAPI 3 description, for the
registration, ``/xroad/{dataset}/openapi.json`` (the Security Server's ``listMethods``/``allowedMethods``/
``getOpenAPI`` are built from it).

Trust: ``X-Road-Client`` means something only on a request from a configured Security Server
(``LIENTHONG_XROAD_SECURITY_SERVERS``, addresses or networks; mutual TLS in production, docs/national-platforms.md).
Anything else at ``/xroad/`` is refused: other consumers use ``/api/v1`` with an API key. A consumer subsystem
gets the scopes of its grant (``lienthong keys create --xroad-client …``), none without one. The records are
served by ``lienthong.api.datasets.records`` itself — same scopes, organisation limits, pseudonyms and audit,
the X-Road headers added to the audit entry. Refusals are the hub's own errors, passed through unchanged by the
Security Server: the hub never sets ``X-Road-Error`` (that header says X-Road itself failed).
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from catalog.agency_ids import is_agency_id
from connectors.xroad import XRoadIdentifierError, parse_id
from lienthong.api import datasets
from lienthong.api.auth import Context, admit
from lienthong.api.context import ApiContext, get_context
from lienthong.api.errors import R404, R422, R429, ApiError, _example
from lienthong.api.models import RecordPage
from lienthong.warehouse.api_keys import ApiKey, find_xroad_grant
from schemas import CONTRACTS

router = APIRouter(prefix="/xroad", tags=["x-road"])
RECORDS_PATH = "/xroad/{service_code}/records"
_HEADERS = {"id": "X-Road-Id", "user_id": "X-Road-UserId", "represented_party": "X-Road-Represented-Party",
            "issue": "X-Road-Issue", "service": "X-Road-Service", "request_id": "X-Road-Request-Id"}
R400 = {400: {"description": "No or an invalid `X-Road-Client` header."} | _example(
    "invalid_xroad_client", "X-Road-Client 'VN/GOV' has 2 parts", "Tiêu đề X-Road-Client không hợp lệ")}
R403 = {403: {"description": "Not from a configured Security Server, or the consumer subsystem has no grant (or "
                             "not this scope)."} | _example(
    "xroad_not_granted", "X-Road client VN/GOV/000.00.00.H55/PORTAL has no grant on this hub",
    "Hệ thống VN/GOV/000.00.00.H55/PORTAL chưa được cấp quyền")}


def _trusted(address: str | None, networks: list[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(n) for n in networks)


async def xroad_caller(request: Request, ctx: Annotated[ApiContext, Depends(get_context)]) -> ApiKey:
    """The grant of the consumer subsystem a trusted Security Server names in ``X-Road-Client``."""
    peer = request.client.host if request.client else None
    if not _trusted(peer, ctx.settings.xroad_security_servers):
        raise ApiError(403, "not_security_server",
                       f"{peer} is not a configured X-Road Security Server (LIENTHONG_XROAD_SECURITY_SERVERS): "
                       "this service URL answers only requests a Security Server forwards; call /api/v1 with an "
                       "API key instead", f"{peer} không phải Máy chủ an ninh X-Road đã cấu hình; hãy gọi /api/v1 "
                       "bằng khóa API")
    header = request.headers.get("X-Road-Client")
    if not header:
        raise ApiError(400, "missing_xroad_client", "the Security Server forwarded no X-Road-Client header",
                       "Thiếu tiêu đề X-Road-Client")
    try:
        client_id = parse_id(header, encoded=True)
        client = str(client_id)
    except XRoadIdentifierError as exc:
        raise ApiError(400, "invalid_xroad_client", str(exc), "Tiêu đề X-Road-Client không hợp lệ") from None
    key = await run_in_threadpool(find_xroad_grant, ctx.hub.engine, client)
    if key is None or key.revoked or key.expired():
        state = "no grant" if key is None else "a revoked grant" if key.revoked else "an expired grant"
        raise ApiError(403, "xroad_not_granted",
                       f"X-Road client {client} has {state} on this hub: ask the hub's operator for one "
                       f"(`lienthong keys create --xroad-client {client} --scope read:<dataset>`)",
                       f"Hệ thống {client} chưa được cấp quyền (hoặc quyền đã bị thu hồi/hết hạn) trên nền tảng")
    await admit(ctx, key, who=client, who_vi=f"Hệ thống {client}")
    request.state.xroad = {"client": client, "security_server": peer} | {
        name: request.headers[h][:200] for name, h in _HEADERS.items() if request.headers.get(h)}
    if is_agency_id(client_id.parts[2]):  # a Vietnamese body's member code is its agency identifier (QĐ 20/2020)
        request.state.xroad["client_agency_id"] = client_id.parts[2]
    return key


XRoadCaller = Annotated[ApiKey, Depends(xroad_caller)]


@router.get(RECORDS_PATH.removeprefix("/xroad"), operation_id="xroad_records", response_model=RecordPage,
            responses=R400 | R403 | R404 | R422 | R429,
            summary="Records of a dataset for an X-Road consumer, keyset-paginated (the service's only endpoint)")
def xroad_records(
    service_code: str, key: XRoadCaller, ctx: Context, request: Request,
    since: Annotated[str | None, Query(max_length=600, description="The `next` cursor of an earlier page.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=datasets.PAGE_MAX, description="Page size; JSON default 1000.")] = None,
    format: Annotated[Literal["json", "csv", "ndjson"] | None, Query(  # noqa: A002 - the parameter's public name
        description="Default json, or from the Accept header.")] = None,
    province_code: Annotated[str | None, Query(max_length=64)] = None,
    ward_code: Annotated[str | None, Query(max_length=64)] = None,
    organisation: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if service_code in CONTRACTS and not key.can_read(service_code):
        raise ApiError(403, "forbidden", f"X-Road client {key.xroad_client} has no scope read:{service_code}",
                       f"Hệ thống {key.xroad_client} không có quyền đọc bộ dữ liệu {service_code}")
    return datasets.records(service_code, key, ctx, request, since=since, limit=limit, format=format,
                            province_code=province_code, ward_code=ward_code, organisation=organisation)


@router.get("/services", summary="The hub's X-Road services: code, service URL and OpenAPI description to register")
def services(ctx: Context) -> list[dict[str, str]]:
    base = ctx.settings.public_base_url.rstrip("/")
    return [{"service_code": code, "title_vi": c.title_vi, "title_en": c.title_en,
             "service_url": f"{base}/xroad/{code}", "openapi_url": f"{base}/xroad/{code}/openapi.json"}
            for code, c in CONTRACTS.items()]


@router.get("/{service_code}/openapi.json", responses=R404,
            summary="OpenAPI 3 description of one X-Road service, relative to its service URL")
def service_openapi(service_code: str, ctx: Context, request: Request) -> dict[str, Any]:
    if service_code not in CONTRACTS:
        raise ApiError(404, "not_found", f"no X-Road service {service_code!r}; known: {', '.join(sorted(CONTRACTS))}",
                       f"Không có dịch vụ X-Road {service_code!r}")
    return service_description(request.app.openapi(), service_code, ctx.settings.public_base_url)


def service_description(app_doc: dict[str, Any], service_code: str, public_base_url: str) -> dict[str, Any]:
    """The app's own OpenAPI operation for X-Road records, as one service's document: path ``/records`` under the
    server ``{public base}/xroad/{service_code}``, the path parameter gone (the service code is the service)."""
    operation = copy.deepcopy(app_doc["paths"][RECORDS_PATH]["get"])
    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") != "service_code"]
    operation["tags"] = [service_code]
    contract = CONTRACTS[service_code]
    return {
        "openapi": app_doc.get("openapi", "3.1.0"),
        "info": {"title": f"Liên Thông — {contract.title_en} ({service_code})", "version": "1",
                 "description": f"{contract.title_vi}. Published records, keyset-paginated: pass `next` as `since` "
                                "to continue; changes and deletions come back after the cursor. Fields follow the "
                                "consumer's grant (scopes, organisation, pseudonymised identifiers)."},
        "servers": [{"url": f"{public_base_url.rstrip('/')}/xroad/{service_code}"}],
        "paths": {"/records": {"get": operation}},
        "components": copy.deepcopy(app_doc.get("components", {})),
    }
