"""A stand-in LGSP/NDXP-style gateway on 127.0.0.1, for the gateway connector's tests and demos.

It does what the documented LGSPs do to a consuming agency (docs/national-platforms.md): each application has an
AppName, an access key and a secret and may call some APIs only; every call needs an access token from
``POST /token``. It enforces all of it, and misbehaves on request:

- ``POST /token`` — OAuth 2 client credentials (form ``grant_type=client_credentials``, key and secret as HTTP
  Basic) or JSON ``{"AppName", "AccessKey", "SecretKey"}``; answers ``{"access_token", "token_type",
  "expires_in"}``; wrong credentials → 401.
- ``GET /{api}/api/members?...`` — the API ``api`` fronts a member organisation's API
  (:class:`lienthong.demo.member_api.MemberApi`: the same paging); ``POST /{api}/changes`` receives pushed JSON
  (an ``Idempotency-Key`` seen before is acknowledged without being stored again).
- a missing, unknown or expired token → 401; an application without a right to the API → 403; more than
  ``rate_limit`` calls in a ``rate_window_s`` window → 429 with ``Retry-After``; ``server_errors = N`` → N API
  calls answer 503, from call number ``server_errors_from_call`` on. ``expire_tokens()`` ends every token now, as
  a gateway restart or revocation would.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lienthong.demo.member_api import MEMBERS_PATH, MemberApi
from lienthong.demo.stand_in import serve_in_thread

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class App:
    """A connection account (tài khoản kết nối): who may call which APIs."""

    name: str
    access_key: str
    secret: str
    apis: frozenset[str]


@dataclass
class StandInGateway:
    url: str = ""
    apps: dict[str, App] = field(default_factory=dict)  # by access key
    backends: dict[str, MemberApi] = field(default_factory=dict)  # API name -> the member API behind it
    services: dict[str, Any] = field(default_factory=dict)  # API name -> any stand-in (``answer``) behind it
    token_lifetime_s: float = 3600
    rate_limit: int | None = None
    rate_window_s: float = 1.0
    server_errors: int = 0
    server_errors_from_call: int = 1  # the 503s start at this API call (counted from 1)
    token_requests: int = 0
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status) of every call
    received: dict[str, list[Any]] = field(default_factory=dict)  # API name -> pushed bodies, in order
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (access key, expires at)
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)  # access key -> (window start, calls)
    _idempotency: set[str] = field(default_factory=set)
    _calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_app(self, name: str, apis: set[str]) -> App:
        """Register an application allowed to call ``apis``; returns it with fresh credentials."""
        app = App(name, f"ak_{secrets.token_hex(8)}", secrets.token_urlsafe(24), frozenset(apis))
        self.apps[app.access_key] = app
        return app

    def publish(self, api: str, records: list[dict[str, Any]]) -> MemberApi:
        """Put a member organisation's API behind the gateway as ``api`` (records kept by reference)."""
        self.backends[api] = backend = MemberApi("", records)
        return backend

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens = {t: (k, 0.0) for t, (k, _) in self._tokens.items()}

    def api_calls(self, status: int | None = None) -> int:
        return sum(1 for m, p, s in self.log if p != "/token" and (status is None or s == status))

    # --- the behaviour, without the socket ----------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        if parts.path == "/token" and method == "POST":
            result = self._token(headers, body)
        else:
            result = self._api(method, parts.path, parts.query, headers, body)
        with self._lock:
            self.log.append((method, parts.path, result[0]))
        return result

    def _token(self, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            self.token_requests += 1
        app = self._credentials(headers, body)
        if app is None:
            return _json(401, {"error": "invalid_client", "error_description": "wrong access key or secret"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (app.access_key, time.monotonic() + self.token_lifetime_s)
        return _json(200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime_s})

    def _credentials(self, headers: dict[str, str], body: bytes) -> App | None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            if form.get("grant_type") != "client_credentials":
                return None
        else:
            try:
                doc = json.loads(body or b"{}")
                key, secret, name = doc["AccessKey"], doc["SecretKey"], doc["AppName"]
            except (ValueError, KeyError, TypeError):
                return None
            if key in self.apps and self.apps[key].name != name:
                return None
        app = self.apps.get(key)
        return app if app is not None and secrets.compare_digest(app.secret, secret) else None

    def _api(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
        api, _, rest = path.lstrip("/").partition("/")
        auth = headers.get("authorization", "")
        with self._lock:
            access_key, expires = self._tokens.get(auth.removeprefix("Bearer "), ("", 0.0))
        if not auth.startswith("Bearer ") or time.monotonic() >= expires:
            return _json(401, {"error": "invalid_token", "message": "missing, unknown or expired access token"})
        app = self.apps[access_key]
        if (api not in self.backends and api not in self.services) or api not in app.apis:
            return _json(403, {"error": "forbidden", "message": f"application {app.name} has no right to API {api}"})
        wait = self._rate(access_key)
        if wait:
            status, head, data = _json(429, {"error": "rate_limited", "message": "too many requests"})
            return status, {**head, "Retry-After": str(wait)}, data
        with self._lock:
            self._calls += 1
            if self.server_errors > 0 and self._calls >= self.server_errors_from_call:
                self.server_errors -= 1
                return _json(503, {"error": "unavailable", "message": "backend unavailable"})
        if api in self.services:  # e.g. the population database (lienthong.demo.population_db)
            return self.services[api].answer(method, f"/{rest}" + (f"?{query}" if query else ""), headers, body)
        if method == "GET" and f"/{rest}" == MEMBERS_PATH:
            return self.backends[api].answer(f"{MEMBERS_PATH}?{query}", None)
        if method == "POST" and rest == "changes":
            return self._receive(api, headers, body)
        return _json(404, {"error": "not_found", "message": f"no {method} /{api}/{rest}"})

    def _rate(self, access_key: str) -> int:
        """0 when the call is allowed, else the whole seconds until the application's window ends."""
        if self.rate_limit is None:
            return 0
        now = time.monotonic()
        with self._lock:
            start, calls = self._windows.get(access_key, (now, 0))
            if now - start >= self.rate_window_s:
                start, calls = now, 0
            self._windows[access_key] = (start, calls + 1)
        return 0 if calls < self.rate_limit else max(1, math.ceil(start + self.rate_window_s - now))

    def _receive(self, api: str, headers: dict[str, str], body: bytes) -> Answer:
        try:
            doc = json.loads(body)
        except ValueError:
            return _json(400, {"error": "bad_request", "message": "body is not JSON"})
        key = headers.get("idempotency-key")
        with self._lock:
            if key and key in self._idempotency:
                return _json(200, {"accepted": 0, "duplicate": True})
            if key:
                self._idempotency.add(key)
            self.received.setdefault(api, []).append(doc)
        return _json(200, {"accepted": len(doc.get("records", [])) if isinstance(doc, dict) else 0})


@contextmanager
def serve_gateway(*, token_lifetime_s: float = 3600, port: int = 0) -> Iterator[StandInGateway]:
    """Run the stand-in gateway on 127.0.0.1 in a daemon thread for the ``with`` block (port 0: a free one)."""
    gateway = StandInGateway(token_lifetime_s=token_lifetime_s)
    with serve_in_thread(gateway, name="stand-in-gateway", port=port):
        yield gateway



def _json(status: int, body: Any) -> Answer:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body, ensure_ascii=False).encode()
