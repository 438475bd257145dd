"""REST connector: pages of JSON records from a member organisation's API.

Paging, authentication and retry are strategies from :mod:`connectors.http`; this module only walks the
pages and turns each into a batch. Incremental runs send the last seen value of a timestamp field
(``updated_since``) and move the cursor only on the last batch of a successful run, because an API does not
promise pages in the order of that field: saving the maximum after page 1 and crashing on page 2 would skip
records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import MEDIA_NDJSON, Batch, Connector, ConnectorConfig, Cursor
from connectors.formats import records_to_table, to_ndjson
from connectors.http import Auth, NoAuth, NoPagination, PageRequest, Pagination, RetryPolicy, lookup
from lienthong import __version__
from lienthong.errors import ExtractError, MalformedInput

if TYPE_CHECKING:  # httpx is imported where it is used: `import connectors` stays fast for DAG parsing
    import httpx

log = logging.getLogger(__name__)
USER_AGENT = f"lienthong/{__version__}"


class Incremental(BaseModel):
    """Ask only for records changed since the last run: ``?<param>=<max of field seen so far>``."""

    model_config = ConfigDict(extra="forbid")
    param: str = Field(default="updated_since", description="Query parameter the API filters on.")
    field: str = Field(default="updated_at", description="Record field whose maximum becomes the next value.")


class RestConfig(ConnectorConfig):
    """A JSON API. Example: ``{type: rest, url: ..., pagination: {type: page, page_size: 500},
    auth: {type: bearer, token_env: HOI_ND_TOKEN}, incremental: {}}``."""

    type: Literal["rest"] = "rest"
    url: str
    records_path: str = Field(default="data", description="Dot-path of the record list in each response.")
    params: dict[str, str] = Field(default_factory=dict, description="Fixed query parameters.")
    pagination: Pagination = Field(default_factory=NoPagination)
    auth: Auth = Field(default_factory=NoAuth)
    incremental: Incremental | None = None
    timeout_s: float = Field(default=30, gt=0)
    max_retries: int = Field(default=5, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)


class RestConnector(Connector[RestConfig]):
    """One batch per non-empty page; payload = the page's records as canonical NDJSON."""

    Config = RestConfig
    isolation = "run"  # pages may shift between runs and the cursor rides on the last one
    #: Follow HTTP redirects (X-Road does not: ``connectors.xroad`` turns this off).
    follow_redirects: ClassVar[bool] = True

    def extract(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Every page since ``cursor`` (``{<param>: <last value>}``); only the last batch has the new cursor.

        One page is held back until the next has arrived, so the last batch is known when it is yielded.
        """
        cfg = self.config
        inc = cfg.incremental
        since = (cursor or {}).get(inc.param) if inc else None
        params = {**cfg.params, **({inc.param: str(since)} if since is not None else {})}
        highest, pending = since, None
        for origin, records in self._pages(cfg.pagination.first(cfg.url, params)):
            if inc:
                highest = _highest(highest, records, inc.field, origin)
            if pending is not None:
                yield pending
            columns = list(dict.fromkeys(key for record in records for key in record))
            pending = Batch(
                payload=to_ndjson(records),
                media_type=MEDIA_NDJSON,
                origin=origin,
                records=records_to_table(records, columns),
                read_options={"encoding": "utf-8", "columns": columns},
            )
        if pending is not None:
            yield replace(pending, cursor={inc.param: highest}) if inc and highest is not None else pending

    def _pages(self, request: PageRequest | None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(URL, records) of every non-empty page, following the paginator."""
        retry = RetryPolicy(self.config.max_retries, self.config.backoff_s)
        with self._client() as client:
            while request is not None:
                response = self._get(client, request, retry)
                body = self._json(response, request)
                url = str(response.url)
                records = self._records(body, url, request)
                if records:
                    yield url, records
                request = self.config.pagination.next(request, body, records)

    def _client(self) -> httpx.Client:
        """The one client every request of a run goes through (its connections kept alive between pages), with
        the run's timeout on connect, read, write and pool alike. Subclasses add per-request authentication
        through :meth:`_auth` (a gateway's bearer token, X-Road's message id)."""
        import httpx

        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **self.config.auth.headers()}
        return httpx.Client(headers=headers, timeout=httpx.Timeout(self.config.timeout_s),
                            follow_redirects=self.follow_redirects, auth=self._auth())

    def _auth(self) -> httpx.Auth | None:
        """What signs each request of a run, retries included (``None``: the fixed headers are enough)."""
        return None

    def _get(self, client: httpx.Client, request: PageRequest, retry: RetryPolicy) -> httpx.Response:
        import httpx

        url = httpx.URL(request.url).copy_merge_params(request.params)
        where = f"{url} (page {request.number})"
        problem, retry_after = "", None
        for attempt in range(retry.max_retries + 1):
            if attempt:
                retry.wait(attempt - 1, retry_after)
            retry_after = None
            try:
                response = client.get(url)
            except httpx.RequestError as exc:  # connection refused or reset, timeout, too many redirects
                problem = f"cannot connect ({type(exc).__name__})"
                continue
            if response.is_success:
                return response
            problem = self._problem(response)
            if not self._retryable(response, retry):
                raise self._refused(response, where)
            retry_after = response.headers.get("Retry-After")
            log.warning("%s: %s from %s, retrying", self.source_id, problem, where)
        attempts = f"{retry.max_retries + 1} attempt" + ("s" if retry.max_retries else "")
        msg = (
            f"{self.source_id}: {where} failed after {attempts}, last: {problem}; "
            "the API may be down — the run can be retried later and resumes from the saved cursor"
        )
        msg_vi = f"{self.source_id}: không lấy được dữ liệu từ {where} sau {retry.max_retries + 1} lần thử"
        raise ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)

    def _problem(self, response: httpx.Response) -> str:
        """What went wrong with a response, for the message after the last retry."""
        return f"HTTP {response.status_code}"

    def _retryable(self, response: httpx.Response, retry: RetryPolicy) -> bool:
        """Whether a failed response is worth another attempt (429 and 5xx; never a redirect)."""
        return not response.is_redirect and retry.should_retry(response.status_code)

    def _refused(self, response: httpx.Response, where: str) -> ExtractError:
        status = response.status_code
        hint = {
            401: "the token was refused: check the credential's environment variable",
            403: "access is forbidden: ask the organisation to grant the hub's account access",
            404: "no such endpoint: check `url` in the source config",
        }.get(status, f"the server answered: {response.text[:200]!r}")
        msg = f"{self.source_id}: {where} returned HTTP {status}; {hint}"
        msg_vi = f"{self.source_id}: {where} trả về lỗi HTTP {status}"
        return ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)

    def _json(self, response: httpx.Response, request: PageRequest) -> Any:
        try:
            return response.json()
        except ValueError as exc:  # not JSON, or not in any Unicode encoding
            kind = response.headers.get("Content-Type", "no content type")
            start = response.text.lstrip()[:60]
            msg = (
                f"{self.source_id}: {response.url} (page {request.number}) is not JSON but {kind}, starting "
                f"{start!r}; the API may be under maintenance or `url` may point at a web page"
            )
            msg_vi = (
                f"{self.source_id}: {response.url} (trang {request.number}) không trả về JSON mà là {kind}; "
                "máy chủ có thể đang bảo trì hoặc địa chỉ `url` sai"
            )
            raise MalformedInput(msg, message_vi=msg_vi, source_id=self.source_id) from exc

    def _records(self, body: Any, url: str, request: PageRequest) -> list[dict[str, Any]]:
        records = lookup(body, self.config.records_path)
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            found = ", ".join(body) if isinstance(body, dict) else type(body).__name__
            msg = (
                f"{self.source_id}: {url} (page {request.number}) has no list of objects at records_path "
                f"{self.config.records_path!r} (top level: {found}); fix records_path"
            )
            msg_vi = f"{self.source_id}: {url} không có danh sách bản ghi tại {self.config.records_path!r}"
            raise MalformedInput(msg, message_vi=msg_vi, source_id=self.source_id)
        return records


def _highest(current: Any, records: list[dict[str, Any]], field: str, origin: str) -> Any:
    """The maximum of ``field`` over ``records`` and ``current`` (ISO timestamps compare as strings)."""
    values = [r[field] for r in records if r.get(field) is not None]
    if len(values) < len(records):
        missing = len(records) - len(values)
        log.warning("%s: %d records have no %r; they do not move the cursor", origin, missing, field)
    if current is not None:
        values.append(current)
    try:
        return max(values, default=None)
    except TypeError as exc:
        msg = f"{origin}: values of the incremental field {field!r} cannot be compared ({exc}); check `field`"
        msg_vi = f"{origin}: không so sánh được giá trị của trường {field!r}"
        raise MalformedInput(msg, message_vi=msg_vi) from exc
