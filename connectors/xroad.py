"""X-Road REST: identifiers, and the connector that consumes a provider's service through our Security Server.

Protocol: X-Road Message Protocol for REST (nordic-institute/X-Road, doc/Protocols, PR-REST). A call goes to the
consumer's own Security Server as ``{METHOD} /r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICE}[/path][?query]``
with the mandatory header ``X-Road-Client: INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``, each identifier part UTF-8 and
percent-encoded on its own. Errors raised by X-Road itself carry the ``X-Road-Error`` header (its type) and a JSON
body ``{"type", "message", "detail"}``; a provider's own errors pass through unchanged. Redirects are not followed.

The identifier functions are used by the hub's provider side too (``lienthong.api.xroad``, API key grants).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, unquote

from pydantic import Field, model_validator

from connectors.http import RetryPolicy
from connectors.rest import RestConfig, RestConnector
from lienthong.errors import ExtractError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

PROTOCOL = "r1"
# Identifier parts: the characters X-Road accepts in instance, class, member, subsystem and service codes (the
# X.500 PrintableString set without space, "/" and ":"), e.g. the agency code 000.00.00.G22 of QĐ 20/2020.
_PART = re.compile(r"^[A-Za-z0-9'()+,\-.=?]{1,64}$")
MAX_CLIENT_LENGTH = 160  # the whole INSTANCE/CLASS/MEMBER/SUBSYSTEM, so an audit actor naming it stays short
# X-Road error types worth another attempt: the network or the provider's service, not a refusal.
_TRANSIENT = ("NetworkError", "ServiceFailed", "Timeout", "ServiceUnavailable")


class XRoadIdentifierError(ValueError):
    """An X-Road client or service identifier that does not follow the protocol."""


@dataclass(frozen=True)
class XRoadId:
    """A member or subsystem (``parts`` of 3 or 4), or a service (5: its subsystem and service code)."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join(self.parts)

    def encoded(self) -> str:
        """Each part percent-encoded on its own (UTF-8), joined by an unencoded "/"."""
        return "/".join(quote(p, safe="") for p in self.parts)


def parse_id(
    text: str, *, kinds: tuple[int, ...] = (3, 4), what: str = "X-Road client", encoded: bool = False,
) -> XRoadId:
    """Read ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]`` (``kinds`` = allowed numbers of parts).

    Args:
        text: the identifier.
        kinds: how many parts it may have: (3, 4) for a client, (5,) for a service with its subsystem.
        what: how to name it in errors.
        encoded: the parts are percent-encoded (a header or a URL path), decode each.

    Raises:
        XRoadIdentifierError: wrong number of parts, an empty part, a character outside the allowed set.
    """
    if len(text) > MAX_CLIENT_LENGTH * 2:
        msg = f"{what} identifier is longer than {MAX_CLIENT_LENGTH * 2} characters"
        raise XRoadIdentifierError(msg)
    raw = text.strip().split("/")
    try:
        parts = tuple(unquote(p, errors="strict") if encoded else p for p in raw)
    except UnicodeDecodeError:
        msg = f"{what} {text[:80]!r} is not percent-encoded UTF-8"
        raise XRoadIdentifierError(msg) from None
    if len(parts) not in kinds:
        shape = " or ".join({3: "INSTANCE/CLASS/MEMBER", 4: "INSTANCE/CLASS/MEMBER/SUBSYSTEM",
                             5: "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE"}[k] for k in kinds)
        msg = f"{what} {text[:80]!r} has {len(parts)} parts; expected {shape}"
        raise XRoadIdentifierError(msg)
    for part in parts:
        if not _PART.match(part):
            msg = (f"{what} {text[:80]!r}: part {part[:40]!r} is empty, longer than 64 characters or holds a "
                   "character outside A-Z a-z 0-9 ' ( ) + , - . = ?")
            raise XRoadIdentifierError(msg)
    xid = XRoadId(parts)
    if len(parts) < 5 and len(str(xid)) > MAX_CLIENT_LENGTH:
        msg = f"{what} {text[:80]!r} is longer than {MAX_CLIENT_LENGTH} characters"
        raise XRoadIdentifierError(msg)
    return xid


def service_path(service: XRoadId, path: str = "") -> str:
    """``/r1/{serviceId}[/path]`` with every identifier part percent-encoded."""
    tail = path if not path or path.startswith("/") else f"/{path}"
    return f"/{PROTOCOL}/{service.encoded()}{tail}"


class XRoadConfig(RestConfig):
    """A provider's REST service, called through our Security Server. Example: ``{type: xroad,
    security_server: https://ss.mttq.example, client: VN/GOV/000.00.00.G22/LIENTHONG,
    service: VN/GOV/000.00.00.H55/HOIVIEN/members, path: /records, records_path: records,
    pagination: {type: cursor, cursor_param: since, next_cursor_path: next}}``. ``url`` is computed."""

    type: Literal["xroad"] = "xroad"  # type: ignore[assignment]
    url: str = Field(default="", description="Computed from security_server, service and path; leave it out.")
    security_server: str = Field(description="Base URL of our (the consumer's) Security Server.")
    client: str = Field(description="Our subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM (X-Road-Client).")
    service: str = Field(description="The provider's service, INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE.")
    path: str = Field(default="", description="Path under the service, e.g. /records.")
    user_id: str | None = Field(default=None, description="X-Road-UserId: who initiated the requests, e.g. VN…")

    @model_validator(mode="after")
    def _compose_url(self) -> XRoadConfig:
        try:
            parse_id(self.client)
            service = parse_id(self.service, kinds=(5,), what="X-Road service")
        except XRoadIdentifierError as exc:
            raise ValueError(str(exc)) from None
        url = self.security_server.rstrip("/") + service_path(service, self.path)
        if self.url and self.url != url:
            msg = "give security_server, service and path, not url (it is computed from them)"
            raise ValueError(msg)
        self.url = url
        return self


def message_headers(client: XRoadId, user_id: str | None = None) -> httpx.Auth:
    """``X-Road-Client`` and a fresh ``X-Road-Id`` (UUID) on every request, retries included."""
    import httpx

    class XRoadHeaders(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            request.headers["X-Road-Client"] = client.encoded()
            request.headers["X-Road-Id"] = str(uuid.uuid4())
            if user_id:
                request.headers["X-Road-UserId"] = user_id
            yield request

    return XRoadHeaders()


def xroad_error(response: httpx.Response) -> tuple[str, str] | None:
    """(type, message) of an error raised by X-Road itself, ``None`` for a provider's own answer."""
    kind = response.headers.get("X-Road-Error")
    if not kind:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    return kind, message


class XRoadConnector(RestConnector):
    """The REST connector through a Security Server: one batch per non-empty page of the provider's service."""

    Config = XRoadConfig
    config: XRoadConfig
    isolation = "run"  # as REST: a run failing on any page publishes nothing and keeps its cursor
    follow_redirects = False  # the protocol: a redirect is passed to the consumer, never followed

    def _auth(self) -> httpx.Auth:
        return message_headers(parse_id(self.config.client), self.config.user_id)

    def _problem(self, response: httpx.Response) -> str:
        error = xroad_error(response)
        if error is None:
            return super()._problem(response)
        kind, message = error
        return f"HTTP {response.status_code}, X-Road error {kind}" + (f" ({message[:200]})" if message else "")

    def _retryable(self, response: httpx.Response, retry: RetryPolicy) -> bool:
        error = xroad_error(response)
        if error is None:
            return super()._retryable(response, retry)
        return error[0].rsplit(".", 1)[-1] in _TRANSIENT

    def _refused(self, response: httpx.Response, where: str) -> ExtractError:
        error = xroad_error(response)
        if response.is_redirect:
            target = response.headers.get("Location", "?")
            msg = (f"{self.source_id}: {where} answered a redirect ({response.status_code}) to {target}; X-Road does "
                   "not follow redirects: ask the provider to fix the service's registered URL")
            msg_vi = f"{self.source_id}: {where} trả về chuyển hướng {response.status_code}; X-Road không đi theo"
            return ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)
        if error is None:
            return super()._refused(response, where)
        kind, message = error
        if kind.startswith("Client."):
            hint = "the request does not follow the X-Road protocol: check `client`, `service` and `path`"
        elif kind.startswith("Server.ClientProxy."):
            hint = "our Security Server failed: ask its administrator (configuration, global configuration, keys)"
        elif kind.endswith("AccessDenied"):
            hint = f"the provider has not granted our subsystem {self.config.client} this service: ask for access"
        else:
            hint = "the provider's Security Server or its service failed: ask the provider"
        msg = (f"{self.source_id}: {where} failed with X-Road error {kind} (HTTP {response.status_code})"
               + (f": {message[:300]}" if message else "") + f"; {hint}")
        msg_vi = f"{self.source_id}: {where} lỗi X-Road {kind} (HTTP {response.status_code})"
        return ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)
