"""Every refusal of the API has one shape, :class:`Problem`: a stable code, English for engineers, Vietnamese
for clerks. FastAPI's own request-validation errors are rewritten into it, so the OpenAPI document can promise one
error schema for every 4xx and a client needs one parser.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from lienthong.errors import HubError, MalformedInput


class Problem(BaseModel):
    """An error: what went wrong and what to do, in English and Vietnamese."""

    error: str = Field(description="Stable machine-readable code, e.g. `missing_key`, `too_large`.")
    message: str = Field(description="English, for engineers.")
    message_vi: str = Field(description="Vietnamese, for clerks.")
    details: list[dict[str, Any]] | None = Field(default=None, description="Per-field details, when there are any.")


class ApiError(Exception):
    """Raised by endpoints and dependencies; rendered as a :class:`Problem`."""

    def __init__(self, status: int, error: str, message: str, message_vi: str, *,
                 headers: dict[str, str] | None = None, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.message_vi = status, error, message, message_vi
        self.headers, self.details = headers, details


def problem_response(
    status: int, error: str, message: str, message_vi: str, *,
    headers: dict[str, str] | None = None, details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = Problem(error=error, message=message, message_vi=message_vi, details=details)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _example(error: str, message: str, message_vi: str) -> dict[str, Any]:
    return {"model": Problem, "content": {"application/json": {"example": {
        "error": error, "message": message, "message_vi": message_vi}}}}


# Reusable entries of ``responses=`` for the OpenAPI document.
R401 = {401: {"description": "No key, an unknown, expired or revoked key."} | _example(
    "invalid_key", "the API key is unknown", "Khóa API không hợp lệ")}
R403 = {403: {"description": "The key lacks the scope this needs."} | _example(
    "forbidden", "this key has no scope read:members", "Khóa API không có quyền read:members")}
R404 = {404: {"description": "No such thing (or not one this key may know of)."} | _example(
    "not_found", "no dataset 'x'", "Không có bộ dữ liệu 'x'")}
R422 = {422: {"description": "A parameter or the payload is invalid."} | _example(
    "invalid_request", "query.limit: Input should be less than or equal to 10000",
    "Tham số không hợp lệ: query.limit")}
R429 = {429: {"description": "Too many requests for this key; retry after the `Retry-After` seconds.",
              "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}}
        | _example("rate_limited", "rate limit of 600 requests/minute exceeded", "Gửi quá nhiều yêu cầu")}
AUTHED = R401 | R403 | R422 | R429


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem_response(exc.status, exc.error, exc.message, exc.message_vi, headers=exc.headers,
                                details=exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        where = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details)
        return problem_response(422, "invalid_request", where or "invalid request",
                                f"Yêu cầu không hợp lệ: {', '.join('.'.join(d['loc']) for d in details)}",
                                details=details)

    @app.exception_handler(MalformedInput)
    async def _malformed(_: Request, exc: MalformedInput) -> JSONResponse:
        return problem_response(422, "malformed_feed", str(exc), exc.message_vi)

    @app.exception_handler(HubError)
    async def _hub_error(_: Request, exc: HubError) -> JSONResponse:
        return problem_response(503, "hub_unavailable", str(exc), exc.message_vi)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        vi = {404: "Không tìm thấy", 405: "Phương thức không được hỗ trợ"}.get(exc.status_code, "Lỗi yêu cầu")
        message = str(exc.detail)
        if isinstance(exc.detail, dict):  # routers of other rooms may raise {"message": ..., "message_vi": ...}
            message, vi = str(exc.detail.get("message", message)), str(exc.detail.get("message_vi", vi))
        return problem_response(exc.status_code, "http_error", message, vi, headers=getattr(exc, "headers", None))
