"""HTTP strategies for the REST connector: pagination, authentication, retry.

Each is a small pydantic model picked in the source YAML by its ``type``; the connector only asks a paginator
for the first request and then, given a page, for the next one (Singer SDK style). Adding a scheme means
adding one class to a union, not another branch in a loop.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, Field

from lienthong.errors import ConfigError


@dataclass(frozen=True)
class PageRequest:
    """One GET to make: ``url`` with ``params`` (``number`` counts pages from 1, for messages)."""

    url: str
    params: dict[str, str] = field(default_factory=dict)
    number: int = 1


def lookup(document: Any, path: str) -> Any:
    """The value at a dot-path (``links.next``) of a JSON document, or ``None`` if any step is missing."""
    value = document
    for part in path.split(".") if path else ():
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _advance(request: PageRequest, param: str, value: Any) -> PageRequest:
    """The same request with ``param`` set to ``value``: the next page."""
    return replace(request, params={**request.params, param: str(value)}, number=request.number + 1)


class _Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- pagination --------------------------------------------------------------------------------------------

class NoPagination(_Strategy):
    """The endpoint returns everything in one response."""

    type: Literal["none"] = "none"

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        return PageRequest(url, params)

    def next(self, request: PageRequest, body: Any, records: list[Any]) -> PageRequest | None:
        return None


class PagePagination(_Strategy):
    """``?page=1&page_size=100``, then page 2, ...; stops on an empty page or a short page.

    Keep ``page_size`` at or below the server's maximum: a server that silently caps it returns "short" pages,
    and ``stop_on_short_page`` would then end the run early. Set it to false to stop only on an empty page.
    """

    type: Literal["page"] = "page"
    page_param: str = "page"
    size_param: str = "page_size"
    page_size: int = Field(default=100, gt=0)
    start: int = 1
    stop_on_short_page: bool = True

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        first = {self.page_param: str(self.start), self.size_param: str(self.page_size)}
        return PageRequest(url, {**params, **first})

    def next(self, request: PageRequest, body: Any, records: list[Any]) -> PageRequest | None:
        if not records or (self.stop_on_short_page and len(records) < self.page_size):
            return None
        return _advance(request, self.page_param, int(request.params[self.page_param]) + 1)


class OffsetPagination(_Strategy):
    """``?offset=0&limit=100``, then offset 100, ...; stops on an empty or short page (see PagePagination)."""

    type: Literal["offset"] = "offset"
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = Field(default=100, gt=0)
    stop_on_short_page: bool = True

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        return PageRequest(url, {**params, self.offset_param: "0", self.limit_param: str(self.limit)})

    def next(self, request: PageRequest, body: Any, records: list[Any]) -> PageRequest | None:
        if not records or (self.stop_on_short_page and len(records) < self.limit):
            return None
        return _advance(request, self.offset_param, int(request.params[self.offset_param]) + len(records))


class CursorPagination(_Strategy):
    """The response names the next page with an opaque token (``next_cursor``), sent back as ``?cursor=``;
    stops when the token is null or empty."""

    type: Literal["cursor"] = "cursor"
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        return PageRequest(url, params)

    def next(self, request: PageRequest, body: Any, records: list[Any]) -> PageRequest | None:
        token = lookup(body, self.next_cursor_path)
        if token in (None, "") or str(token) == request.params.get(self.cursor_param):
            return None  # a server repeating its cursor would otherwise loop forever
        return _advance(request, self.cursor_param, token)


class NextLinkPagination(_Strategy):
    """The response carries the URL of the next page (``links.next``), absolute or relative to the current
    one; that URL already holds every parameter. Stops when it is null or empty."""

    type: Literal["next_link"] = "next_link"
    next_path: str = "links.next"

    def first(self, url: str, params: dict[str, str]) -> PageRequest:
        return PageRequest(url, params)

    def next(self, request: PageRequest, body: Any, records: list[Any]) -> PageRequest | None:
        link = lookup(body, self.next_path)
        if not link:
            return None
        return PageRequest(urljoin(request.url, str(link)), {}, request.number + 1)


Pagination = Annotated[
    NoPagination | PagePagination | OffsetPagination | CursorPagination | NextLinkPagination,
    Field(discriminator="type"),
]


# --- authentication ----------------------------------------------------------------------------------------

def _secret(env: str, what: str) -> str:
    value = os.environ.get(env, "")
    if not value:
        msg = f"environment variable {env} (the {what}) is not set; export it before running the source"
        raise ConfigError(msg, message_vi=f"Chưa đặt biến môi trường {env} ({what})")
    return value


class NoAuth(_Strategy):
    type: Literal["none"] = "none"

    def headers(self) -> dict[str, str]:
        return {}


class BearerAuth(_Strategy):
    """``Authorization: Bearer <token>``; the token is read from the environment variable ``token_env``."""

    type: Literal["bearer"] = "bearer"
    token_env: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {_secret(self.token_env, 'API token')}"}


class ApiKeyAuth(_Strategy):
    """A key in a header (``X-API-Key`` by default), read from the environment variable ``key_env``."""

    type: Literal["api_key"] = "api_key"
    header: str = "X-API-Key"
    key_env: str

    def headers(self) -> dict[str, str]:
        return {self.header: _secret(self.key_env, "API key")}


Auth = Annotated[NoAuth | BearerAuth | ApiKeyAuth, Field(discriminator="type")]


# --- retry -------------------------------------------------------------------------------------------------

MAX_DELAY_S = 120.0  # a Retry-After longer than this is the server asking us to come back another run


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff (``backoff_s * 2**attempt``), or the server's ``Retry-After`` when it sends one."""

    max_retries: int = 5
    backoff_s: float = 0.5
    sleep: Callable[[float], None] = time.sleep

    def should_retry(self, status: int | None) -> bool:
        """Retry connection errors and timeouts (``None``), 429 Too Many Requests and every 5xx."""
        return status is None or status == 429 or status >= 500

    def wait(self, attempt: int, retry_after: str | None = None) -> None:
        """Sleep before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
        delay = _parse_retry_after(retry_after)
        if delay is None:
            delay = self.backoff_s * 2**attempt
        self.sleep(min(max(delay, 0.0), MAX_DELAY_S))


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()
