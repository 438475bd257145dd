"""A simulated member-organisation REST API, for the demo and for the connector tests.

It stands in for someone else's system, so it also misbehaves on request (rate limits, server errors, an
HTML maintenance page with status 200): fault injection lives here, not in the connector. It serves whatever
records it is given; ``server.records`` can be appended to or replaced while it runs (incremental runs).

``GET /api/members`` understands, in this order of precedence:

- ``cursor=<opaque>`` — the ``next_cursor`` of a previous response;
- ``offset=&limit=``;
- ``page=&page_size=`` (the default: page 1 of 100);

plus ``updated_since=<ISO timestamp>`` (records whose ``updated_at`` is strictly later). Every response is
``{"data": [...], "total": N, "next_cursor": str | null, "links": {"next": str | null}, ...}``. With a token,
requests need ``Authorization: Bearer <token>`` (401 JSON error otherwise).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

MEMBERS_PATH = "/api/members"
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Bảo trì hệ thống</title></head>"
    "<body><h1>Hệ thống đang bảo trì</h1><p>Vui lòng quay lại sau.</p></body></html>"
)


@dataclass
class Faults:
    """Misbehaviour to simulate; counts refer to the requests the API received, numbered from 1.

    Attributes:
        fail_first_n_with_429: answer the first N requests with 429 Too Many Requests.
        retry_after: the ``Retry-After`` header sent with a 429 (seconds, as text); ``None`` sends none.
        fail_every_nth_with_500: answer every Nth request with 500 (1 = always: the server is broken).
        html_on_page: answer request number N with an HTML maintenance page and status 200.
    """

    fail_first_n_with_429: int = 0
    retry_after: str | None = "0"
    fail_every_nth_with_500: int = 0
    html_on_page: int | None = None


@dataclass
class MemberApi:
    """A running simulated API: ``url`` is its base URL, ``members_url`` the endpoint."""

    url: str
    records: list[dict[str, Any]]
    token: str | None = None
    page_size_max: int = 1000
    faults: Faults = field(default_factory=Faults)
    requests: list[str] = field(default_factory=list)  # path and query of every request, for assertions
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def members_url(self) -> str:
        return self.url + MEMBERS_PATH

    def answer(self, target: str, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for ``GET target``: the whole behaviour of the API, without the socket."""
        with self._lock:
            self.requests.append(target)
            number = len(self.requests)
        parts = urlsplit(target)
        if parts.path != MEMBERS_PATH:
            return _json(404, {"error": "not_found", "message": f"no such endpoint {parts.path}"})
        if self.token is not None and authorization != f"Bearer {self.token}":
            return _json(401, {"error": "unauthorized", "message": "missing or wrong bearer token"})
        fault = self._fault(number)
        if fault is not None:
            return fault
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            return _json(200, self._page(query))
        except ValueError as exc:
            return _json(400, {"error": "bad_request", "message": str(exc)})

    def _fault(self, number: int) -> tuple[int, dict[str, str], bytes] | None:
        f = self.faults
        if number <= f.fail_first_n_with_429:
            status, headers, body = _json(429, {"error": "rate_limited", "message": "too many requests"})
            if f.retry_after is not None:
                headers["Retry-After"] = f.retry_after
            return status, headers, body
        if f.fail_every_nth_with_500 and number % f.fail_every_nth_with_500 == 0:
            return _json(500, {"error": "internal", "message": "database connection lost"})
        if f.html_on_page == number:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, MAINTENANCE_PAGE.encode("utf-8")
        return None

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        rows = list(self.records)
        since = query.get("updated_since")
        if since:
            rows = [r for r in rows if str(r.get("updated_at") or "") > since]
        if "cursor" in query:
            offset, limit = _decode_cursor(query["cursor"])
        elif "offset" in query or "limit" in query:
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        else:
            page, size = int(query.get("page", 1)), int(query.get("page_size", 100))
            if page < 1:
                msg = "page starts at 1"
                raise ValueError(msg)
            offset, limit = (page - 1) * min(size, self.page_size_max), size
        limit = min(limit, self.page_size_max)
        if offset < 0 or limit < 1:
            msg = "offset must be >= 0 and limit/page_size >= 1"
            raise ValueError(msg)
        data = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        body: dict[str, Any] = {"data": data, "total": len(rows), "offset": offset, "limit": limit}
        if "page" in query or not ({"cursor", "offset", "limit"} & set(query)):
            body["page"] = offset // limit + 1
        next_query = {**query, **_next_position(query, offset, limit)}
        body["next_cursor"] = _encode_cursor(offset + limit, limit) if more else None
        body["links"] = {"next": f"{MEMBERS_PATH}?{urlencode(next_query)}" if more else None}
        return body


@contextmanager
def serve_member_api(
    records: list[dict[str, Any]],
    *,
    token: str | None = None,
    port: int = 0,
    page_size_max: int = 1000,
    faults: Faults | None = None,
) -> Iterator[MemberApi]:
    """Run the simulated API on 127.0.0.1 in a daemon thread for the duration of the ``with`` block.

    Args:
        records: the member records to serve, kept by reference: mutate it (or ``server.records``) later.
        token: bearer token required from clients; ``None`` for no authentication.
        port: TCP port; 0 picks a free one (read it from ``server.url``).
        page_size_max: the largest page the API returns, whatever the client asks.
        faults: misbehaviour to simulate; changeable later through ``server.faults``.

    Yields:
        The running :class:`MemberApi`.
    """
    api = MemberApi("", records, token=token, page_size_max=page_size_max, faults=faults or Faults())
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(api))
    httpd.daemon_threads = True
    api.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="member-api", daemon=True)
    thread.start()
    try:
        yield api
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _handler_for(api: MemberApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            status, headers, body = api.answer(self.path, self.headers.get("Authorization"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            pass

    return Handler


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return status, {"Content-Type": "application/json; charset=utf-8"}, data


def _next_position(query: dict[str, str], offset: int, limit: int) -> dict[str, str]:
    if "cursor" in query:
        return {"cursor": _encode_cursor(offset + limit, limit)}
    if "offset" in query or "limit" in query:
        return {"offset": str(offset + limit), "limit": str(limit)}
    return {"page": str(offset // limit + 2), "page_size": str(limit)}


def _encode_cursor(offset: int, limit: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, limit]).encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[int, int]:
    try:
        offset, limit = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(offset), int(limit)
    except (ValueError, TypeError) as exc:
        msg = f"invalid cursor {token!r}"
        raise ValueError(msg) from exc
