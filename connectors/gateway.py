"""Gateway connector: pages of JSON records from an API published on an LGSP/NDXP-style gateway.

A Vietnamese provincial or ministerial LGSP gives each consuming agency an application name, an access key and
a secret; every call carries an access token obtained with them; the gateway answers 401 (token), 403 (no right to
this API) and 429 (rate limit) (docs/national-platforms.md cites the sources). NDXP's own wire format is not
public, so this stays generic: a token endpoint, a bearer token cached until it expires, one refresh on 401.

Everything else is the REST connector's: paging, retry with ``Retry-After`` and backoff, a run as one unit whose
cursor moves only when its last page has arrived (``isolation = "run"``). :class:`GatewayClient` sends to a
gateway with the same token handling (``lienthong gateway push``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.http import RetryPolicy, _secret
from connectors.rest import USER_AGENT, RestConfig, RestConnector
from lienthong.errors import ExtractError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
DEFAULT_LIFETIME_S = 300.0  # a token response without ``expires_in``: assume five minutes


class GatewayToken(BaseModel):
    """Where and how the hub gets its access token. The access key and secret are read from the environment
    variables named here (or the source's Airflow connection: login and password), never from a file.

    ``style``: ``client_credentials`` — OAuth 2 (RFC 6749 §4.4): form ``grant_type=client_credentials`` with the
    key and secret as HTTP Basic credentials, what WSO2-based gateways expect; ``json`` — a JSON body
    ``{"AppName", "AccessKey", "SecretKey"}``, the names the LGSP documentation uses. Either answers
    ``access_token`` (or ``accessToken``) and ``expires_in`` seconds, at the top level or under ``data``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(description="The gateway's token endpoint.")
    app_name: str = Field(description="The application (connection account) the gateway issued to the hub.")
    access_key_env: str = Field(description="Environment variable holding the access key (consumer key).")
    secret_key_env: str = Field(description="Environment variable holding the secret key.")
    style: Literal["client_credentials", "json"] = "client_credentials"
    refresh_margin_s: float = Field(default=30, ge=0, description="Get a new token this long before expiry.")


class GatewayConfig(RestConfig):
    """An API on a gateway. Example: ``{type: gateway, url: https://lgsp.example.gov.vn/hnd/v1/members,
    token: {url: https://lgsp.example.gov.vn/token, app_name: MTTQ_LIENTHONG, access_key_env: LGSP_KEY,
    secret_key_env: LGSP_SECRET}, pagination: {type: page, page_size: 500}}``."""

    type: Literal["gateway"] = "gateway"  # type: ignore[assignment]
    token: GatewayToken
    headers: dict[str, str] = Field(default_factory=dict, description="Fixed, non-secret headers the gateway "
                                    "asks for on every call (e.g. a partner code).")


@dataclass(frozen=True)
class _Token:
    value: str
    valid_until: float  # time.monotonic() after which the token is not used any more


class TokenSource:
    """Access tokens of one application on one gateway, shared by every run in the process until they expire."""

    _cache: dict[tuple[str, str, str], _Token] = {}
    _lock = threading.Lock()

    def __init__(self, config: GatewayToken, *, retry: RetryPolicy, timeout_s: float, source_id: str) -> None:
        self.config, self.retry, self.timeout_s, self.source_id = config, retry, timeout_s, source_id
        self.issued = 0  # tokens this source fetched (for logs and tests)

    def _key(self) -> tuple[str, str, str]:
        access = _secret(self.config.access_key_env, "gateway access key")
        return self.config.url, self.config.app_name, hashlib.sha256(access.encode()).hexdigest()

    def get(self) -> str:
        """A token valid for at least ``refresh_margin_s`` more seconds, fetched only when the cached one is not."""
        key = self._key()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() < cached.valid_until:
                return cached.value
            token = self._fetch()
            self._cache[key] = token
            return token.value

    def refresh(self, stale: str) -> str:
        """A new token after the gateway refused ``stale`` (401), unless another request already replaced it."""
        key = self._key()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.value != stale and time.monotonic() < cached.valid_until:
                return cached.value
            token = self._fetch()
            self._cache[key] = token
            return token.value

    def _fetch(self) -> _Token:
        import httpx

        cfg = self.config
        access = _secret(cfg.access_key_env, "gateway access key")
        secret = _secret(cfg.secret_key_env, "gateway secret key")
        if cfg.style == "client_credentials":
            kwargs: dict[str, Any] = {"data": {"grant_type": "client_credentials"}, "auth": (access, secret)}
        else:
            kwargs = {"json": {"AppName": cfg.app_name, "AccessKey": access, "SecretKey": secret}}
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        problem, retry_after = "", None
        for attempt in range(self.retry.max_retries + 1):
            if attempt:
                self.retry.wait(attempt - 1, retry_after)
            retry_after = None
            try:
                response = httpx.post(cfg.url, headers=headers, timeout=self.timeout_s, **kwargs)
            except httpx.RequestError as exc:
                problem = f"cannot connect ({type(exc).__name__})"
                continue
            if response.is_success:
                self.issued += 1
                return self._parse(response)
            problem = f"HTTP {response.status_code}"
            if not self.retry.should_retry(response.status_code):
                msg = (f"{self.source_id}: the gateway's token endpoint {cfg.url} refused application "
                       f"{cfg.app_name!r} ({problem}): check the access key and secret in {cfg.access_key_env} "
                       f"and {cfg.secret_key_env} (or the source's Airflow connection) and that the application "
                       "is active on the gateway")
                msg_vi = (f"{self.source_id}: cổng kết nối {cfg.url} từ chối cấp mã truy cập cho ứng dụng "
                          f"{cfg.app_name!r} ({problem}); kiểm tra AccessKey/SecretKey trong {cfg.access_key_env}, "
                          f"{cfg.secret_key_env} và tài khoản kết nối còn hiệu lực")
                raise ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)
            retry_after = response.headers.get("Retry-After")
        msg = (f"{self.source_id}: no access token from {cfg.url} after {self.retry.max_retries + 1} attempts, "
               f"last: {problem}; the gateway may be down — the run can be retried later")
        msg_vi = f"{self.source_id}: không lấy được mã truy cập từ {cfg.url} sau {self.retry.max_retries + 1} lần thử"
        raise ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)

    def _parse(self, response: httpx.Response) -> _Token:
        try:
            body = response.json()
        except ValueError:
            body = None
        doc = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
        doc = doc if isinstance(doc, dict) else {}
        value = doc.get("access_token") or doc.get("accessToken")
        if not isinstance(value, str) or not value:
            msg = (f"{self.source_id}: the token endpoint {self.config.url} answered without an access_token; "
                   "check `token.url` and `token.style` in the source config")
            raise ExtractError(msg, message_vi=f"{self.source_id}: cổng kết nối không trả về access_token",
                               source_id=self.source_id)
        try:
            lifetime = float(doc.get("expires_in", doc.get("expiresIn", DEFAULT_LIFETIME_S)))
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME_S
        return _Token(value, time.monotonic() + lifetime - self.config.refresh_margin_s)


def bearer_auth(tokens: TokenSource) -> httpx.Auth:
    """``Authorization: Bearer`` from ``tokens`` on every request; a 401 gets one new token and one resend.

    A second 401 is returned as it is: the caller then reports it, never loops.
    """
    import httpx

    class GatewayBearer(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            token = tokens.get()
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code == 401:
                log.info("%s: token refused (401), getting a new one", tokens.source_id)
                request.headers["Authorization"] = f"Bearer {tokens.refresh(token)}"
                yield request

    return GatewayBearer()


def refused(response: httpx.Response, where: str, token: GatewayToken, source_id: str) -> ExtractError | None:
    """The gateway's own refusals (401 after a refresh, 403), said plainly; ``None`` for any other status."""
    status = response.status_code
    if status == 401:
        msg = (f"{source_id}: {where} refused the access token even after a fresh one (HTTP 401): the gateway does "
               f"not accept application {token.app_name!r}; check {token.access_key_env}/{token.secret_key_env} "
               "and ask the gateway operator whether the connection account is active")
        msg_vi = (f"{source_id}: {where} từ chối mã truy cập dù đã lấy mã mới (HTTP 401); kiểm tra tài khoản kết "
                  f"nối của ứng dụng {token.app_name!r}")
        return ExtractError(msg, message_vi=msg_vi, source_id=source_id)
    if status == 403:
        msg = (f"{source_id}: {where} answered HTTP 403: application {token.app_name!r} has no right to this API; "
               "ask the gateway operator (the data provider) to grant it, then run again")
        msg_vi = (f"{source_id}: {where} trả về HTTP 403: ứng dụng {token.app_name!r} không có quyền gọi API này; "
                  "đề nghị đơn vị cung cấp dữ liệu cấp quyền cho tài khoản kết nối rồi chạy lại")
        return ExtractError(msg, message_vi=msg_vi, source_id=source_id)
    return None


class GatewayConnector(RestConnector):
    """The REST connector with a gateway's token handling; one batch per non-empty page."""

    Config = GatewayConfig
    config: GatewayConfig
    isolation = "run"  # as REST: a run failing on any page publishes nothing and keeps its cursor

    def _client(self) -> httpx.Client:
        client = super()._client()
        client.headers.update(self.config.headers)
        return client

    def _auth(self) -> httpx.Auth:
        retry = RetryPolicy(self.config.max_retries, self.config.backoff_s)
        return bearer_auth(TokenSource(self.config.token, retry=retry, timeout_s=self.config.timeout_s,
                                       source_id=self.source_id))

    def _refused(self, response: httpx.Response, where: str) -> ExtractError:
        return refused(response, where, self.config.token, self.source_id) or super()._refused(response, where)


class GatewayClient:
    """Sends JSON to a gateway API with the same token handling, retrying 429 and 5xx (``lienthong gateway push``).

    Each send carries an ``Idempotency-Key`` so a gateway that honours it does not take a retried page twice.
    """

    def __init__(self, token: GatewayToken, *, name: str = "gateway", max_retries: int = 5, backoff_s: float = 0.5,
                 timeout_s: float = 60, headers: dict[str, str] | None = None) -> None:
        import httpx

        self.name, self.token = name, token
        self.retry = RetryPolicy(max_retries, backoff_s)
        self.tokens = TokenSource(token, retry=self.retry, timeout_s=timeout_s, source_id=name)
        self.client = httpx.Client(
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
            timeout=httpx.Timeout(timeout_s), follow_redirects=False, auth=bearer_auth(self.tokens))

    def post_json(self, url: str, body: bytes, *, idempotency_key: str, where: str) -> httpx.Response:
        """POST the JSON document ``body``; the accepted response, or an error once the gateway refused or kept
        failing.

        Raises:
            ExtractError: 401 after a refresh, 403, another 4xx, or 429/5xx/no connection after the retries.
        """
        import httpx

        problem, retry_after = "", None
        for attempt in range(self.retry.max_retries + 1):
            if attempt:
                self.retry.wait(attempt - 1, retry_after)
            retry_after = None
            try:
                response = self.client.post(url, content=body,
                                            headers={"Idempotency-Key": idempotency_key,
                                                     "Content-Type": "application/json; charset=utf-8"})
            except httpx.RequestError as exc:
                problem = f"cannot connect ({type(exc).__name__})"
                continue
            if response.is_success:
                return response
            problem = f"HTTP {response.status_code}"
            if response.is_redirect or not self.retry.should_retry(response.status_code):
                error = refused(response, where, self.token, self.name)
                if error is None:
                    msg = f"{self.name}: {where} answered {problem}: {response.text[:200]!r}"
                    error = ExtractError(msg, message_vi=f"{self.name}: {where} trả về lỗi {problem}",
                                         source_id=self.name)
                raise error
            retry_after = response.headers.get("Retry-After")
            log.warning("%s: %s from %s, retrying", self.name, problem, where)
        msg = (f"{self.name}: {where} failed after {self.retry.max_retries + 1} attempts, last: {problem}; "
               "nothing after the last acknowledged page was taken — push again from the cursor printed")
        msg_vi = f"{self.name}: gửi tới {where} thất bại sau {self.retry.max_retries + 1} lần thử ({problem})"
        raise ExtractError(msg, message_vi=msg_vi, source_id=self.name)

    def close(self) -> None:
        self.client.close()
