"""A stand-in X-Road Security Server on 127.0.0.1, both roles in one: consumer and provider side.

It follows the X-Road Message Protocol for REST (PR-REST) and the Service Metadata Protocol for REST (PR-MREST),
nordic-institute/X-Road doc/Protocols, as far as an information system can see them:

- ``{METHOD} /r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICE}[/path][?query]`` with the mandatory
  ``X-Road-Client``; every identifier part percent-decoded and checked (characters ``A-Z a-z 0-9 '()+,-.=?``);
  the request is forwarded to the service URL registered for that service id, ``/path?query`` appended, with
  ``X-Road-Client``, ``X-Road-Service``, ``X-Road-Id`` (the consumer's, or a new UUID) and ``X-Road-Request-Id``,
  the consumer's other headers passed on except hop-by-hop, ``Host`` and ``User-Agent``; from ``source_address``
  (what the provider sees as the Security Server's address); redirects are not followed;
- the answer goes back as the provider gave it, plus ``X-Road-Client``, ``X-Road-Service``, ``X-Road-Id`` (echoed),
  ``X-Road-Request-Id`` and ``X-Road-Request-Hash``; a provider's own error passes through unchanged;
- its own errors: ``X-Road-Error: <type>`` and a JSON body ``{"type", "message", "detail"}`` — 400
  ``Client.BadRequest`` for a request outside the protocol, 500 ``Server.ServerProxy.*`` for the provider side
  (``UnknownService``, ``AccessDenied`` — the access rights in ``access`` —, ``NetworkError``, ``ServiceFailed``);
  ``inject(type)`` makes the next request fail that way;
- metaservices ``GET /r1/{provider subsystem}/listMethods``, ``/allowedMethods`` (what ``X-Road-Client`` may call)
  and ``/getOpenAPI?serviceCode=X``, built from each service's OpenAPI description; ``GET /listClients``.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.xroad import PROTOCOL, XRoadId, XRoadIdentifierError, parse_id
from lienthong.demo.stand_in import serve_in_thread

Answer = tuple[int, dict[str, str], bytes]
METASERVICES = ("listMethods", "allowedMethods", "getOpenAPI")
_FILTERED = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
             "transfer-encoding", "upgrade", "host", "user-agent", "server", "content-length"}
_SET_HERE = {"x-road-client", "x-road-service", "x-road-id", "x-road-request-id", "x-road-request-hash",
             "x-road-error"}
MAX_URI = 2000


@dataclass(frozen=True)
class Service:
    """A provider's REST service as registered on its Security Server."""

    url: str  # the service URL the provider's information system answers at
    openapi_url: str | None = None  # its OpenAPI 3 description (the "OPENAPI" service type)


@dataclass
class StandInSecurityServer:
    url: str = ""
    services: dict[str, Service] = field(default_factory=dict)  # "INST/CLASS/MEMBER/SUBSYSTEM/CODE" -> service
    access: dict[str, set[str]] = field(default_factory=dict)  # service id -> clients allowed; absent: everyone
    clients: list[str] = field(default_factory=list)  # the subsystems listClients names besides the providers
    source_address: str = "127.0.0.1"
    timeout_s: float = 30
    forwarded: list[dict[str, Any]] = field(default_factory=list)  # what providers received: method, path, headers
    _injected: deque[str] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def register(self, service_id: str, url: str, openapi_url: str | None = None) -> None:
        self.services[str(parse_id(service_id, kinds=(5,), what="X-Road service"))] = Service(url, openapi_url)

    def inject(self, error_type: str) -> None:
        """Fail the next request with this X-Road error type (e.g. ``Server.ServerProxy.NetworkError``)."""
        self._injected.append(error_type)

    # --- the behaviour, without the socket ----------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        if parts.path == "/listClients" and method == "GET":
            return _json(200, self._list_clients())
        if len(target) > MAX_URI:
            return _error("Client.BadRequest", f"request URI longer than {MAX_URI} characters")
        prefix = f"/{PROTOCOL}/"
        if not parts.path.startswith(prefix):
            return _error("Client.BadRequest", f"request path must start with {prefix} (X-Road Message Protocol "
                                               f"for REST {PROTOCOL}): {parts.path[:60]!r}")
        raw_client = headers.get("x-road-client")
        if not raw_client:
            return _error("Client.BadRequest", "the mandatory X-Road-Client header is missing")
        try:
            client = parse_id(raw_client, encoded=True)
        except XRoadIdentifierError as exc:
            return _error("Client.BadRequest", f"invalid X-Road-Client: {exc}")
        segments = parts.path[len(prefix):].split("/")
        if len(segments) == 5 and segments[4] in METASERVICES:
            return self._metaservice(segments, client, parts.query, headers)
        try:
            service = parse_id("/".join(segments[:5]), kinds=(5,), what="service id", encoded=True)
        except XRoadIdentifierError as exc:
            return _error("Client.BadRequest", f"invalid service id: {exc}")
        if self._injected:
            return _error(self._injected.popleft(), "injected by the test")
        registered = self.services.get(str(service))
        if registered is None:
            return _error("Server.ServerProxy.UnknownService", f"no service {service} registered", 500)
        allowed = self.access.get(str(service))
        if allowed is not None and str(client) not in allowed:
            return _error("Server.ServerProxy.AccessDenied",
                          f"client {client} has no access right to service {service}", 500)
        tail = "/" + "/".join(segments[5:]) if len(segments) > 5 else ""
        return self._forward(method, registered, service, client, tail, parts.query, headers, body)

    def _forward(self, method: str, service: Service, service_id: XRoadId, client: XRoadId, tail: str, query: str,
                 headers: dict[str, str], body: bytes) -> Answer:
        message_id = headers.get("x-road-id") or str(uuid.uuid4())
        request_id = str(uuid.uuid4())
        target = urlsplit(service.url)
        path = (target.path.rstrip("/") + tail) or "/"
        out = {k: v for k, v in headers.items() if k not in _FILTERED and k not in _SET_HERE}
        out.setdefault("accept", "application/json")
        out |= {"X-Road-Client": client.encoded(), "X-Road-Service": service_id.encoded(), "X-Road-Id": message_id,
                "X-Road-Request-Id": request_id}
        with self._lock:
            self.forwarded.append({"method": method, "path": path, "query": query, "headers": dict(out)})
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=self.timeout_s,
                                          source_address=(self.source_address, 0))
        try:
            conn.request(method, path + (f"?{query}" if query else ""), body=body or None, headers=out)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError:
            return _error("Server.ServerProxy.ServiceFailed", f"{service.url} did not answer in time", 500)
        except OSError as exc:
            return _error("Server.ServerProxy.NetworkError", f"cannot connect to {service.url}: {exc}", 500)
        finally:
            conn.close()
        answer = {k: v for k, v in response.getheaders() if k.lower() not in _FILTERED | _SET_HERE}
        answer |= {"X-Road-Client": client.encoded(), "X-Road-Service": service_id.encoded(),
                   "X-Road-Id": message_id, "X-Road-Request-Id": request_id,
                   "X-Road-Request-Hash": _request_hash(headers, body)}
        return response.status, answer, data

    def _metaservice(self, segments: list[str], client: XRoadId, query: str, headers: dict[str, str]) -> Answer:
        try:
            provider = parse_id("/".join(segments[:4]), kinds=(4,), what="provider subsystem", encoded=True)
        except XRoadIdentifierError as exc:
            return _error("Client.BadRequest", f"invalid provider: {exc}")
        ours = {sid: s for sid, s in self.services.items() if sid.rsplit("/", 1)[0] == str(provider)}
        name = segments[4]
        if name == "getOpenAPI":
            code = {k: v[-1] for k, v in parse_qs(query).items()}.get("serviceCode")
            if not code:
                return _error("Client.BadRequest", "getOpenAPI needs the query parameter serviceCode")
            service = ours.get(f"{provider}/{code}")
            if service is None or service.openapi_url is None:
                return _error("Server.ServerProxy.UnknownService", f"no OpenAPI service {code} at {provider}", 500)
            status, doc = _get_json(service.openapi_url, self.timeout_s)
            if status != 200:
                return _error("Server.ServerProxy.ServiceFailed", f"{service.openapi_url} answered {status}", 500)
            answer = _json(200, doc)
        else:
            listed = []
            for sid, service in ours.items():
                allowed = self.access.get(sid)
                if name == "allowedMethods" and allowed is not None and str(client) not in allowed:
                    continue
                listed.append(self._describe(parse_id(sid, kinds=(5,)), service))
            answer = _json(200, {"service": listed})
        status, head, data = answer
        return status, head | {"X-Road-Client": client.encoded(), "X-Road-Service": f"{provider.encoded()}/{name}",
                               "X-Road-Id": headers.get("x-road-id") or str(uuid.uuid4()),
                               "X-Road-Request-Id": str(uuid.uuid4()),
                               "X-Road-Request-Hash": _request_hash(headers, b"")}, data

    def _describe(self, sid: XRoadId, service: Service) -> dict[str, Any]:
        instance, member_class, member_code, subsystem, code = sid.parts
        endpoints = [{"method": "*", "path": "**"}]
        if service.openapi_url:
            status, doc = _get_json(service.openapi_url, self.timeout_s)
            if status == 200:
                endpoints = [{"method": m.upper(), "path": _wildcard(p)}
                             for p, ops in doc.get("paths", {}).items() for m in ops
                             if m in ("get", "post", "put", "patch", "delete")]
        return {"member_class": member_class, "member_code": member_code, "object_type": "SERVICE",
                "service_code": code, "service_type": "OPENAPI" if service.openapi_url else "REST",
                "subsystem_code": subsystem, "xroad_instance": instance, "endpoint_list": endpoints}

    def _list_clients(self) -> dict[str, Any]:
        subsystems = sorted({s.rsplit("/", 1)[0] for s in self.services} | set(self.clients))
        members = []
        for text in subsystems:
            instance, member_class, member_code, *sub = text.split("/")
            ident = {"member_class": member_class, "member_code": member_code, "xroad_instance": instance,
                     "object_type": "SUBSYSTEM" if sub else "MEMBER"} | ({"subsystem_code": sub[0]} if sub else {})
            members.append({"id": ident, "name": member_code})
        return {"member": members}


@contextmanager
def serve_security_server(*, source_address: str = "127.0.0.1", port: int = 0) -> Iterator[StandInSecurityServer]:
    """Run the stand-in Security Server on 127.0.0.1 in a daemon thread for the ``with`` block.

    Args:
        source_address: the local address it forwards from (what providers see: 127.0.0.2 … on Linux loopback).
        port: TCP port; 0 picks a free one (read it from ``server.url``).
    """
    ss = StandInSecurityServer(source_address=source_address)
    with serve_in_thread(ss, name="stand-in-security-server", port=port,
                         methods=("GET", "POST", "PUT", "PATCH", "DELETE")):
        yield ss



def _error(kind: str, message: str, status: int | None = None) -> Answer:
    """An error of X-Road itself: 400 for the client's (``Client.*``), 500 for the servers' side."""
    status = status or (400 if kind.startswith("Client.") else 500)
    body = json.dumps({"type": kind, "message": message, "detail": str(uuid.uuid4())}).encode()
    return status, {"Content-Type": "application/json;charset=utf-8", "X-Road-Error": kind}, body


def _json(status: int, doc: Any) -> Answer:
    return status, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(doc, ensure_ascii=False).encode()


def _request_hash(headers: dict[str, str], body: bytes) -> str:
    """base64(SHA-512(SHA-512(headers) + SHA-512(body))), or of the headers alone without a body (PR-REST 4.3)."""
    head = hashlib.sha512("".join(f"{k}:{v}\n" for k, v in sorted(headers.items())).encode()).digest()
    digest = hashlib.sha512(head + hashlib.sha512(body).digest()).digest() if body else hashlib.sha512(head).digest()
    return base64.b64encode(digest).decode()


def _wildcard(path: str) -> str:
    return "/".join("*" if p.startswith("{") and p.endswith("}") else p for p in path.split("/"))


def _get_json(url: str, timeout_s: float) -> tuple[int, Any]:
    target = urlsplit(url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=timeout_s)
    try:
        conn.request("GET", target.path + (f"?{target.query}" if target.query else ""),
                     headers={"Accept": "application/json"})
        response = conn.getresponse()
        data = response.read()
    except OSError:
        return 0, None
    finally:
        conn.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, None
