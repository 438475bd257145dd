"""Pull: the catalogue of published datasets and their records, paged by keyset, in JSON, CSV or NDJSON.

JSON pages are small (≤ 10,000 records) and built whole; CSV and NDJSON are streamed (COPY … TO STDOUT, or a
server-side cursor) in chunks, so a full pull of millions of records holds one chunk in memory. On PostgreSQL the
database formats the records itself (:mod:`lienthong.api.postgres_encoding`, the same bytes as the generic
encoders, which serve SQLite). Every records request is written to the audit log in the same transaction that read
the records, with the count actually sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Connection, Select
from sqlalchemy.exc import DataError

from lienthong.api import postgres_encoding
from lienthong.api.auth import Caller, Context, caller_detail, require_read
from lienthong.api.context import ApiContext
from lienthong.api.encoders import MEDIA, closing_stream, csv_header, csv_rows, json_value, ndjson_lines
from lienthong.api.errors import AUTHED, R404, ApiError, _example
from lienthong.api.models import DatasetInfo, FieldInfo, RecordPage
from lienthong.api.records import Cursor, View, check_filter, records_query, shape, stream_rows, view_for
from lienthong.warehouse.api_keys import ApiKey
from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.queries import dataset_stats
from schemas import CONTRACTS

router = APIRouter(prefix="/api/v1", tags=["pull"])

PUBLISHER = "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam (Central Committee of the Vietnam Fatherland Front)"
LICENCE = ("Hạn chế: chỉ dùng theo thỏa thuận chia sẻ dữ liệu và Luật 91/2025/QH15 / restricted: use under the "
           "data-sharing agreement and the personal data protection law 91/2025/QH15")
PAGE_DEFAULT, PAGE_MAX = 1000, 10_000
_STREAM_DOC = {"schema": {"type": "string"}}
_JSON = json.JSONEncoder(ensure_ascii=False, default=json_value, separators=(",", ":"))


@router.get("/datasets", response_model=list[DatasetInfo], response_model_by_alias=True, responses=AUTHED,
            summary="The catalogue of published datasets")
def catalogue(key: Caller, ctx: Context) -> list[DatasetInfo]:
    out = []
    for dataset, contract in CONTRACTS.items():
        stats = dataset_stats(ctx.hub.engine, dataset)
        crons = sorted({s.schedule.cron or "on demand" for s in ctx.hub.sources.values() if s.dataset == dataset})
        out.append(DatasetInfo(
            id=dataset, title_vi=contract.title_vi, title_en=contract.title_en,
            description_vi=contract.description_vi, description_en=contract.description_en,
            publisher=PUBLISHER, licence=LICENCE, update_frequency=", ".join(crons) or "none", **stats,
            readable=key.can_read(dataset), records_url=f"/api/v1/datasets/{dataset}/records",
            schema=[FieldInfo(name=f.name, kind=f.kind.value, label_vi=f.label_vi, description=f.description,
                              required=f.required, privacy=f.privacy.value, code_list=f.code_list,
                              derived=f.derived) for f in contract.fields()],
        ))
    return out


_R422_RECORDS = {422: {
    "description": "A parameter is invalid, whatever the format (checked, and the query run, before a stream "
                   "starts): `invalid_cursor` — `since` is not a cursor this API gave out, its position is beyond "
                   "BIGINT or its key holds a NUL/control character; `invalid_filter` — a filter value holds a "
                   "NUL/control character; `invalid_request` — a parameter too long or out of range; "
                   "`invalid_parameter` — a value the warehouse cannot compare."} | _example(
    "invalid_cursor", "`since` 'OTk5OTk5OTk5OTk5OTk5OTk5OTk6eA' is not a valid cursor: its position must be a whole "
    "number from 0 to 9223372036854775807; pass the `next` or `cursor` value of an earlier response, or omit "
    "`since` to start from the beginning", "Tham số `since` không hợp lệ: vị trí trong con trỏ nằm ngoài phạm vi "
    "cho phép. Hãy dùng giá trị `next` của lần đọc trước, hoặc bỏ `since` để đọc từ đầu")}


@router.get(
    "/datasets/{dataset}/records", response_model=RecordPage, responses=AUTHED | R404 | _R422_RECORDS | {
        200: {"description": "A JSON page, or the whole selection streamed as CSV/NDJSON. CSV cells a spreadsheet "
                             "would run as a formula (starting with = + - @, tab, CR; plain numbers aside) are "
                             "prefixed with a single quote.",
              "content": {"text/csv": _STREAM_DOC, "application/x-ndjson": _STREAM_DOC}}},
    summary="Records of a dataset, keyset-paginated; changes and deletions since a cursor",
)
def records(
    dataset: str, key: Caller, ctx: Context, request: Request,
    since: Annotated[str | None, Query(max_length=600, description="The `next` cursor of an earlier page: records "
                                       "changed after it, deletions as tombstones.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=PAGE_MAX, description="Page size; JSON default 1000. CSV/NDJSON "
                                       "without a limit stream everything after `since`.")] = None,
    format: Annotated[Literal["json", "csv", "ndjson"] | None, Query(  # noqa: A002 - the parameter's public name
        description="Default json, or from the Accept header.")] = None,
    province_code: Annotated[str | None, Query(max_length=64)] = None,
    ward_code: Annotated[str | None, Query(max_length=64)] = None,
    organisation: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if dataset not in CONTRACTS:
        raise ApiError(404, "not_found", f"no dataset {dataset!r}; known: {', '.join(sorted(CONTRACTS))}",
                       f"Không có bộ dữ liệu {dataset!r}")
    require_read(key, dataset)
    fmt = format or _from_accept(request.headers.get("accept", ""))
    cursor = Cursor.decode(since) if since else None
    filters = {k: check_filter(k, v) for k, v in {"province_code": province_code, "ward_code": ward_code,
                                                  "organisation": organisation}.items() if v is not None}
    view = view_for(ctx.hub, key, dataset, entity_ids=True)
    page = limit or (PAGE_DEFAULT if fmt == "json" else None)
    detail = {"since": since, "limit": page, "format": fmt, "filters": filters, **view.describe(),
              **caller_detail(request)}
    if fmt == "json":
        return _json_page(ctx, key, view, cursor, filters, page, detail)
    query = records_query(view, since=cursor, filters=filters, limit=page)
    body = _streamed(ctx, key, view, query, detail)  # the query has run: a refusal still gets its status code
    headers = {"X-Pseudonymised-Fields": ",".join(view.pseudonymised), "X-Withheld-Fields": ",".join(view.withheld)}
    return StreamingResponse(closing_stream(body), media_type=MEDIA[fmt], headers=headers)


def _from_accept(accept: str) -> str:
    if "text/csv" in accept:
        return "csv"
    if "ndjson" in accept:
        return "ndjson"
    return "json"


def _json_page(ctx: ApiContext, key: ApiKey, view: View, cursor: Cursor | None, filters: dict[str, str],
               page: int, detail: dict) -> Response:
    query = records_query(view, since=cursor, filters=filters, limit=page + 1)
    with ctx.building_page():
        return _built_page(ctx, key, view, cursor, query, page, detail)


def _built_page(ctx: ApiContext, key: ApiKey, view: View, cursor: Cursor | None, query: Select, page: int,
                detail: dict) -> Response:
    with ctx.hub.engine.begin() as conn, _refused_by_database():
        if postgres_encoding.usable(conn):  # (record JSON, cursor) made by the database
            rows = postgres_encoding.json_rows(conn, view, query)
        else:
            rows = [(_JSON.encode(r), r["cursor"]) for r in shape(conn.execute(query).all(), view)]
        more = len(rows) > page
        rows = rows[:page]
        append_audit(conn, actor=key.actor, action="records.read", dataset=view.dataset, detail=detail,
                     records=len(rows))
    ctx.metrics.inc("records_served_total", len(rows), dataset=view.dataset, format="json")
    nxt = rows[-1][1] if rows else (cursor.encode() if cursor else Cursor(0, "").encode())
    # Spliced here rather than validated against RecordPage by FastAPI: a page is up to 10,000 records and
    # validating each costs more than reading it (the schemathesis test checks the document still holds). The
    # text is what ``_JSON.encode`` gives the whole page (test_postgres_encoding.py).
    enc = _JSON.encode
    page_doc = (f'{{"dataset":{enc(view.dataset)},"records":[{",".join(r[0] for r in rows)}],"next":{enc(nxt)},'
                f'"has_more":{enc(more)},"pseudonymised":{enc(view.pseudonymised)},"withheld":{enc(view.withheld)}}}')
    return Response(page_doc.encode(), media_type="application/json")


@contextmanager
def _refused_by_database() -> Iterator[None]:
    """A value the checks above let through but the database cannot take (its DataError) is the request's fault:
    422 with the reason, never a 500 (or, streaming, a 200 cut short)."""
    try:
        yield
    except (DataError, psycopg.DataError) as exc:  # psycopg's own: from the COPY, which SQLAlchemy does not wrap
        orig = exc.orig if isinstance(exc, DataError) else exc
        first = str(orig).splitlines()[0] if orig else "invalid value"
        raise ApiError(422, "invalid_parameter", f"a parameter holds a value the warehouse cannot compare: {first}",
                       "Tham số chứa giá trị không hợp lệ: hãy kiểm tra `since` và các bộ lọc") from None


def _streamed(ctx: ApiContext, key: ApiKey, view: View, query: Select, detail: dict) -> Iterator[bytes]:
    """Stream from one transaction and audit, in that transaction, how many records were actually sent.

    The query runs and its first chunk is read *here*, before the response starts: a refusal is then still a
    4xx with its reason, never a 200 whose stream breaks. Returns the body to send.
    """
    conn = ctx.hub.engine.connect()
    try:
        trans = conn.begin()
        chunks = _chunks(conn, view, query, detail["format"])
        with _refused_by_database():
            first = next(chunks, None)
    except BaseException:
        conn.close()  # rolls back; nothing was read
        raise
    body = _sent(ctx, key, view, detail, conn, trans, chunks, first)
    next(body)  # started, so that closing it (or losing it) always ends the transaction and writes the audit
    return body


def _chunks(conn: Connection, view: View, query: Select, fmt: str) -> Iterator[tuple[int, bytes]]:
    """``(records, bytes)`` chunks of the body: formatted by PostgreSQL when it is the warehouse, else by the
    generic encoders from a server-side cursor. The CSV header comes with the first chunk."""
    head = csv_header([*view.columns, "cursor"]) if fmt == "csv" else b""
    rows = None
    if postgres_encoding.usable(conn):
        chunks = postgres_encoding.copied_chunks(conn, view, query, fmt)
    else:
        columns = [*view.columns, "cursor"]
        rows = stream_rows(conn, query, view)
        chunks = ((len(c), csv_rows(columns, c) if fmt == "csv" else ndjson_lines(c)) for c in rows)
    try:
        first = next(chunks, (0, b""))
        yield first[0], head + first[1]
        yield from chunks
    finally:
        chunks.close()
        if rows is not None:
            rows.close()


def _sent(ctx: ApiContext, key: ApiKey, view: View, detail: dict, conn: Connection, trans,  # noqa: ANN001
          chunks: Iterator[tuple[int, bytes]], first: tuple[int, bytes] | None) -> Iterator[bytes]:
    sent, complete = 0, False
    try:
        yield b""  # the priming step of _streamed, never sent
        for records, data in chain([first] if first is not None else [], chunks):
            sent += records
            yield data
        complete = True
    finally:
        try:
            chunks.close()
            append_audit(conn, actor=key.actor, action="records.read", dataset=view.dataset, records=sent,
                         detail={**detail, "complete": complete})
            trans.commit()
            ctx.metrics.inc("records_served_total", sent, dataset=view.dataset, format=detail["format"])
        finally:
            conn.close()
