"""Push: member organisations upload feeds to their own sources, then follow the batch to publication.

An upload is parsed and its columns checked *before* anything is written (a wrong file changes nothing), landed
at once (its identity is its content, enforced by the database: concurrent identical uploads get one batch), and
processed and published after the response by the app's processing workers (``processing.py``) — or, with
``wait=true``, before it; when Airflow is configured the source's sync DAG is triggered instead. Every landed
batch ends ``published`` or ``failed`` with its reason. A clerk reads the batch's report and downloads the refused
rows as a CSV in the source's own columns, fixes them and sends that file back: the two reason columns it carries
are ignored on upload.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLS, MEDIA_XLSX, Batch
from connectors.files import MEDIA_BY_SUFFIX
from connectors.formats import file_row, file_sheet, row_label
from connectors.isolated import isolated_reader
from connectors.limits import DEFAULT_LIMITS, LimitExceeded
from lienthong.api.auth import Caller, Context, require_push
from lienthong.api.context import ApiContext
from lienthong.api.errors import AUTHED, R404, ApiError, _example
from lienthong.api.models import BatchFailure, BatchReport, BatchVerification, RejectedRow, SourceInfo
from lienthong.registry import SourceConfig
from lienthong.spreadsheet_safety import neutralise_row
from lienthong.warehouse import idempotency
from lienthong.warehouse.api_keys import ApiKey
from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.idempotency import records_fingerprint
from lienthong.warehouse.queries import batch_status, quarantined
from schemas import FieldKind, get_contract

router = APIRouter(prefix="/api/v1", tags=["push"])

REASON_COLUMNS = ("Dòng gốc", "Lý do (tiếng Việt)", "Reason (English)")  # added to rejects.csv, ignored on upload
_MEDIA_ALIASES = {"application/ndjson": MEDIA_NDJSON, "application/jsonl": MEDIA_NDJSON,
                  "application/csv": MEDIA_CSV, "text/x-csv": MEDIA_CSV}
_ACCEPTED = (MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLSX, MEDIA_XLS)
EXAMPLE_VALUES = {FieldKind.TEXT: "HV0001", FieldKind.NAME: "Nguyễn Thị Hoà", FieldKind.ID_NUMBER: "001185012345",
             FieldKind.PHONE: "0912345678", FieldKind.DATE: "01/02/1985", FieldKind.DATETIME: "2025-07-01 08:30",
             FieldKind.CODE: "", FieldKind.INTEGER: "1", FieldKind.MONEY: "500000", FieldKind.BOOLEAN: "true"}

_UPLOAD_BODY = {
    "required": True,
    "description": "The feed: raw bytes with their Content-Type, or multipart/form-data with a `file` part.",
    "content": {
        MEDIA_CSV: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_NDJSON: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_JSON: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_XLSX: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_XLS: {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {"type": "string", "format": "binary"}}}},
    },
}
_PUSH_ERRORS = AUTHED | R404 | {
    409: {"description": "The Idempotency-Key was used before for another source."} | _example(
        "idempotency_conflict", "Idempotency-Key 'x' was used for source a", "Khóa Idempotency-Key đã dùng"),
    422: {"description": "The request, the feed (no rows, malformed, wrong columns; with `wait=true` also what "
                         "processing found wrong with the file), or an Idempotency-Key reused for other rows."}
    | _example("idempotency_key_reused", "Idempotency-Key 'x' was used for other rows (batch b…)",
               "Khóa Idempotency-Key đã dùng cho một tệp có nội dung khác"),
    413: {"description": "The upload is larger than the size or row limit."} | _example(
        "too_large", "upload of 300 MB exceeds the limit of 200 MB", "Tệp quá lớn"),
    415: {"description": "Not CSV, XLSX, JSON or NDJSON."} | _example(
        "unsupported_media_type", "media type 'text/html' is not accepted", "Không nhận loại tệp này"),
}


@router.get("/sources", response_model=list[SourceInfo], responses=AUTHED,
            summary="Sources the key may push to, with their expected columns")
def list_sources(key: Caller, ctx: Context, request: Request) -> list[SourceInfo]:
    return [_source_info(s, request) for s in ctx.hub.sources.values() if key.can_push(s.id)]


@router.get("/sources/{source_id}/example.csv", response_class=Response, responses=AUTHED | R404 | {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "Header and one example row."}},
    summary="An example feed file for a source")
def example_file(source_id: str, key: Caller, ctx: Context) -> Response:
    source = registered_source(ctx, source_id)
    require_push(key, source_id)
    contract = get_contract(source.dataset)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(source.mapping.values())
    writer.writerow([EXAMPLE_VALUES[contract.field(f).kind] for f in source.mapping])
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{source_id}-example.csv"'})


@router.post(
    "/feeds/{source_id}/batches", response_model=BatchReport, status_code=201,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=_PUSH_ERRORS | {200: {"model": BatchReport, "description": "The same feed was received before."}},
    summary="Upload a feed (CSV, XLSX, JSON, NDJSON) to a source",
)
async def push_batch(
    source_id: str, request: Request, response: Response, key: Caller, ctx: Context,
    idempotency_key: Annotated[str | None, Header(max_length=200, description="Same key → same batch.")] = None,
    filename: Annotated[str | None, Query(max_length=255, description="Name of the file, for raw bodies.")] = None,
    wait: Annotated[bool, Query(description="Process and publish before answering.")] = False,
) -> BatchReport:
    source = registered_source(ctx, source_id)
    require_push(key, source_id)
    payload, media_type, name = await read_upload(request, ctx, filename)
    item = await run_in_threadpool(parse_upload, ctx, source, payload, media_type, name)
    if item.row_count == 0:  # header only: nothing to land, and a landed empty batch would explain nothing
        raise ApiError(422, "empty_feed", f"{name} has a header but no rows: nothing to load",
                       f"Tệp {name} chỉ có dòng tiêu đề, không có dòng dữ liệu nào")
    claim = idempotency.Claim(key.key_id, idempotency_key, source_id,
                              await run_in_threadpool(records_fingerprint, item.records)) if idempotency_key else None
    from lienthong.pipeline import receive_batch

    try:
        landed = await run_in_threadpool(receive_batch, ctx.hub, source, item, claim=claim)
    except idempotency.KeyReused as exc:  # IETF Idempotency-Key draft: 422 for another payload under a used key
        status, code = (409, "idempotency_conflict") if exc.other == "source" else (422, "idempotency_key_reused")
        raise ApiError(status, code, str(exc), exc.message_vi) from None
    await run_in_threadpool(_audit, ctx, key, "batch.push", source.dataset, item.row_count, {
        "source_id": source_id, "agency_id": source.agency_id, "batch_id": landed.batch_id, "new": landed.is_new,
        "retried": landed.retried,
        "media_type": media_type, "bytes": len(payload), "origin": name, "idempotency_key": idempotency_key,
        "client": request.client.host if request.client else None})
    ctx.metrics.inc("batches_pushed_total", source=source_id, new=str(landed.is_new).lower())
    if landed.status == "landed":  # new, retried after a failure, or landed by an attempt that died before
        job = ctx.processing.submit(source_id, landed.batch_id)
        if wait:
            outcome = await asyncio.wrap_future(job)
            if outcome.error == "input":  # the file's fault: say so as a refusal; the batch keeps the reason
                raise ApiError(422, "malformed_feed", outcome.message_en or "", outcome.message_vi or "")
    if not landed.is_new:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/feeds/{source_id}/batches/{landed.batch_id}"
    return await run_in_threadpool(batch_report, ctx, landed.batch_id, key, request, duplicate=not landed.is_new)


@router.get("/feeds/{source_id}/batches/{batch_id}", response_model=BatchReport, responses=AUTHED | R404,
            summary="A pushed batch's status and quality report")
def get_batch(
    source_id: str, batch_id: str, key: Caller, ctx: Context, request: Request,
    limit: Annotated[int, Query(ge=0, le=10_000, description="At most this many refused rows.")] = 100,
) -> BatchReport:
    registered_source(ctx, source_id)
    require_push(key, source_id)
    return batch_report(ctx, batch_id, key, request, limit=limit, source_id=source_id, audit=True)


@router.get("/feeds/{source_id}/batches/{batch_id}/rejects.csv", response_class=StreamingResponse,
            responses=AUTHED | R404 | {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                             "description": "Refused rows in the source's columns + reasons."}},
            summary="The refused rows of a batch as a CSV to fix and re-send")
def get_rejects(source_id: str, batch_id: str, key: Caller, ctx: Context) -> StreamingResponse:
    source = registered_source(ctx, source_id)
    require_push(key, source_id)
    batch = batch_status(ctx.hub.engine, batch_id)
    if batch is None or batch["source_id"] != source_id:
        raise _no_batch(source_id, batch_id)
    rows = quarantined(ctx.hub.engine, batch_id=batch_id)
    columns = [*source.mapping.values(), *REASON_COLUMNS]
    delimiter = (batch["read_options"] or {}).get("delimiter") or ","
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(neutralise_row(columns))
    for q in rows:  # cells neutralised: a refused "=HYPERLINK(…)" must not run in the clerk's Excel
        row = row_label(q["row_no"], batch["media_type"], batch["read_options"])  # as the clerk's file shows it
        writer.writerow(neutralise_row([*(q["record"].get(f) or "" for f in source.mapping), row,
                                        " | ".join(r["message_vi"] for r in q["reasons"]),
                                        " | ".join(r["message_en"] for r in q["reasons"])]))
    with ctx.hub.engine.begin() as conn:
        append_audit(conn, actor=key.actor, action="rejects.read", dataset=source.dataset, records=len(rows),
                     detail={"source_id": source_id, "batch_id": batch_id})
    return StreamingResponse(iter([("\ufeff" + buf.getvalue()).encode()]), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{batch_id}-rejects.csv"'})


# --- helpers ---------------------------------------------------------------------------------------------------

def registered_source(ctx: ApiContext, source_id: str) -> SourceConfig:
    source = ctx.hub.sources.get(source_id)
    if source is None:
        raise ApiError(404, "not_found", f"no source {source_id!r}", f"Không có nguồn {source_id!r}")
    return source


def _no_batch(source_id: str, batch_id: str) -> ApiError:
    return ApiError(404, "not_found", f"source {source_id} has no batch {batch_id!r}",
                    f"Nguồn {source_id} không có lô dữ liệu {batch_id!r}")


def _source_info(s: SourceConfig, request: Request) -> SourceInfo:
    return SourceInfo(id=s.id, title=s.title, organisation=s.organisation, dataset=s.dataset,
                      expected_columns=list(s.mapping.values()), optional_columns=list(s.ignore_columns),
                      example_url=f"/api/v1/sources/{s.id}/example.csv", upload_url=f"/api/v1/feeds/{s.id}/batches")


async def read_upload(request: Request, ctx: ApiContext, filename: str | None) -> tuple[bytes, str, str]:
    """The payload, its media type and a name, refusing early what is too large or of an unknown type."""
    limit = int(ctx.settings.api_max_upload_mb * 1024 * 1024)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(int(declared), limit)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "missing_file", "multipart upload without a `file` part",
                           "Thiếu tệp: gửi tệp trong trường `file`")
        payload = await upload.read()
        name = upload.filename or filename or "upload"
        media = _media_of(name, (upload.content_type or "").split(";")[0].strip().lower())
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(size, limit)
            chunks.append(chunk)
        payload = b"".join(chunks)
        name = filename or "upload"
        media = _media_of(name if filename else "", content_type)
    if len(payload) > limit:
        raise _too_large(len(payload), limit)
    if not payload:
        raise ApiError(422, "empty_feed", "the upload is empty", "Tệp gửi lên rỗng")
    return payload, media, name


def _media_of(name: str, content_type: str) -> str:
    by_suffix = MEDIA_BY_SUFFIX.get(PurePath(name).suffix.lower()) if name else None
    media = _MEDIA_ALIASES.get(content_type, content_type)
    if media in _ACCEPTED:
        return media
    if by_suffix and media in ("", "application/octet-stream", "text/plain"):
        return by_suffix
    shown = content_type or "(none)"
    raise ApiError(415, "unsupported_media_type",
                   f"media type {shown} is not accepted: send CSV (text/csv), XLSX, XLS, JSON or NDJSON",
                   f"Không nhận loại tệp {shown}: hãy gửi tệp CSV, Excel (XLSX, XLS), JSON hoặc NDJSON")


def _too_large(size: int, limit: int) -> ApiError:
    mb, max_mb = size / 1048576, limit / 1048576
    return ApiError(413, "too_large", f"upload of {mb:.1f} MB exceeds the limit of {max_mb:g} MB",
                    f"Tệp {mb:.1f} MB vượt giới hạn {max_mb:g} MB; hãy chia nhỏ tệp")


def parse_upload(ctx: ApiContext, source: SourceConfig, payload: bytes, media: str, name: str) -> Batch:
    """Parse the payload as the files connector would, in a memory-capped worker process (a file that crashes
    or exhausts it is refused, the server lives on); drop the reason columns of a re-sent rejects file.

    Raises:
        ApiError: 413 when the file exceeds a read limit or the worker's memory.
        MalformedInput: the file cannot be read or cannot be a feed (empty, header only, duplicate columns).
    """
    settings = ctx.settings
    limits = replace(DEFAULT_LIMITS, max_rows=settings.api_max_upload_rows)
    reader = isolated_reader(settings.api_parse_memory_mb * 1024 * 1024, settings.api_parse_workers)
    try:
        records, options = reader.read(payload, media, {}, origin=name, limits=limits)
    except LimitExceeded as exc:
        raise ApiError(413, "too_many_rows" if exc.limit == "rows" else "too_large", str(exc),
                       exc.message_vi) from exc
    extra = [c for c in records.column_names if c.replace("\ufeff", "").strip() in REASON_COLUMNS]
    if extra:
        records = records.drop_columns(extra)
    return Batch(payload, media, f"api:{name}", records, read_options=options)


def _audit(ctx: ApiContext, key: ApiKey, action: str, dataset: str | None, records: int, detail: dict) -> None:
    with ctx.hub.engine.begin() as conn:
        append_audit(conn, actor=key.actor, action=action, dataset=dataset, detail=detail, records=records)


def batch_report(ctx: ApiContext, batch_id: str, key: ApiKey, request: Request, *, duplicate: bool = False,
            limit: int = 100, source_id: str | None = None, audit: bool = False) -> BatchReport:
    b = batch_status(ctx.hub.engine, batch_id)
    if b is None or (source_id is not None and b["source_id"] != source_id):
        raise _no_batch(source_id or "?", batch_id)
    source = ctx.hub.sources.get(b["source_id"])
    mapping = source.mapping if source else {}
    rows = quarantined(ctx.hub.engine, batch_id=batch_id, limit=limit + 1) if limit else []
    rejected = [RejectedRow(
        row=file_row(q["row_no"], b["media_type"], b["read_options"]),  # as the clerk's file shows it
        sheet=file_sheet(q["row_no"], b["media_type"], b["read_options"]),
        reasons=q["reasons"],
        record={mapping.get(f, f): _text(v) for f, v in q["record"].items() if not source or f in mapping},
    ) for q in rows[:limit]]
    if audit and rejected:
        _audit(ctx, key, "batch.read", b["dataset"], len(rejected), {"source_id": b["source_id"],
                                                                      "batch_id": batch_id})
    processed = b["rows_valid"] is not None
    base = f"/api/v1/feeds/{b['source_id']}/batches/{batch_id}"
    return BatchReport(
        batch_id=batch_id, source_id=b["source_id"], dataset=b["dataset"], status=b["status"], duplicate=duplicate,
        origin=b["origin"], media_type=b["media_type"], rows_received=b["rows_read"], rows_valid=b["rows_valid"],
        rows_quarantined=b["rows_quarantined"], rows_published=b["rows_published"],
        reconciled=processed and b["rows_read"] == b["rows_valid"] + b["rows_quarantined"],
        landed_at=b["landed_at"], processed_at=b["processed_at"], published_at=b["published_at"],
        failure=BatchFailure(message=b["error_en"] or "", message_vi=b["error_vi"] or "", failed_at=b["failed_at"])
        if b["status"] == "failed" else None,
        quarantined=rejected, quarantined_truncated=len(rows) > limit,
        links={"self": base, "rejects": base + "/rejects.csv"},
        verification=_verification(ctx, source, b) if processed else None,
    )


def _verification(ctx: ApiContext, source: SourceConfig | None, b: dict) -> BatchVerification | None:
    """The population database's answers about the batch's records; a line for the clerk when some wait."""
    if source is None or source.verify is None or not source.verify.enabled:
        return None
    from lienthong.warehouse.verification import batch_verification

    counts = batch_verification(ctx.hub.engine, b["dataset"], b["batch_id"])
    pending = counts["pending"]
    return BatchVerification(**counts, **({
        "message": f"{pending} records are not yet checked against the national population database (the service "
                   "did not answer); they are checked on the next run",
        "message_vi": f"{pending} bản ghi chưa được đối chiếu với Cơ sở dữ liệu quốc gia về dân cư (dịch vụ chưa "
                      "phản hồi); hệ thống sẽ đối chiếu ở lần chạy sau"} if pending else {}))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
