"""Who is calling: the bearer token → its key, refused with 401 (no/unknown/expired/revoked key), 403 (scope) or
429 (rate), each with a bilingual reason. Scope checks are small functions the routers call with the path's
source or dataset, so each endpoint's rule is written where the endpoint is.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from lienthong.api.context import ApiContext, get_context
from lienthong.api.errors import ApiError
from lienthong.warehouse.api_keys import ApiKey, touch_key, verify_token

bearer = HTTPBearer(auto_error=False, description="An API key made by `lienthong keys create`: `lt_<id>_<secret>`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
TOUCH_EVERY_S = 60


async def current_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ctx: Annotated[ApiContext, Depends(get_context)],
) -> ApiKey:
    """The caller's key, after authentication and rate limiting."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "missing_key", "send an API key as `Authorization: Bearer <token>`",
                       "Thiếu khóa API: gửi kèm tiêu đề `Authorization: Bearer <khóa>`", headers=_CHALLENGE)
    key = await run_in_threadpool(verify_token, ctx.hub.engine, credentials.credentials)
    if key is None:
        raise ApiError(401, "invalid_key", "the API key is unknown", "Khóa API không hợp lệ", headers=_CHALLENGE)
    if key.revoked:
        raise ApiError(401, "revoked_key", f"API key {key.key_id} was revoked",
                       f"Khóa API {key.key_id} đã bị thu hồi", headers=_CHALLENGE)
    if key.expired():
        raise ApiError(401, "expired_key", f"API key {key.key_id} expired on {key.expires_at:%Y-%m-%d}",
                       f"Khóa API {key.key_id} đã hết hạn ngày {key.expires_at:%d/%m/%Y}", headers=_CHALLENGE)
    await admit(ctx, key, who=f"key {key.key_id}", who_vi=f"Khóa {key.key_id}")
    return key


async def admit(ctx: ApiContext, key: ApiKey, *, who: str, who_vi: str) -> None:
    """Rate-limit an authenticated caller (429 with Retry-After) and note when its key was last used, at most once a
    minute. ``who`` names the caller in the refusal (an API key, an X-Road client)."""
    rate = key.rate_per_minute or ctx.settings.api_rate_per_minute
    wait = ctx.limiter.take(key.key_id, rate)
    if wait > 0:
        ctx.metrics.inc("rate_limited_total", key=key.key_id)
        raise ApiError(429, "rate_limited", f"rate limit of {rate} requests/minute exceeded for {who}",
                       f"{who_vi} gửi quá {rate} yêu cầu/phút; hãy thử lại sau",
                       headers={"Retry-After": str(max(1, math.ceil(wait)))})
    now = time.monotonic()
    if now - ctx.touched.get(key.key_id, -math.inf) > TOUCH_EVERY_S:
        ctx.touched[key.key_id] = now
        await run_in_threadpool(touch_key, ctx.hub.engine, key.key_id)


def caller_detail(request: Request) -> dict[str, Any]:
    """Who called, for an audit entry: the client address, and the X-Road headers of a request a trusted Security
    Server forwarded (set by ``lienthong.api.xroad``)."""
    detail: dict[str, Any] = {"client": request.client.host if request.client else None}
    xroad = getattr(request.state, "xroad", None)
    if xroad:
        detail["xroad"] = xroad
    return detail


Caller = Annotated[ApiKey, Depends(current_key)]
Context = Annotated[ApiContext, Depends(get_context)]


def require_push(key: ApiKey, source_id: str) -> None:
    if not key.can_push(source_id):
        raise ApiError(403, "forbidden", f"key {key.key_id} has no scope push:{source_id}",
                       f"Khóa {key.key_id} không có quyền gửi dữ liệu cho nguồn {source_id}")


def require_read(key: ApiKey, dataset: str) -> None:
    if not key.can_read(dataset):
        raise ApiError(403, "forbidden", f"key {key.key_id} has no scope read:{dataset}",
                       f"Khóa {key.key_id} không có quyền đọc bộ dữ liệu {dataset}")


def require_admin(key: ApiKey) -> None:
    if not key.is_admin():
        raise ApiError(403, "forbidden", f"key {key.key_id} is not an admin key",
                       f"Khóa {key.key_id} không có quyền quản trị")
