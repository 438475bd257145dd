"""Upload a feed from the browser, or only check it, and read the result with a reason on every bad cell.

The upload goes through the API's own push endpoint function (``lienthong.api.feeds.push_batch``) with the
signed-in key, so limits, column checks, landing, audit, metrics and processing are exactly those of
``POST /api/v1/feeds/{source}/batches``. "Check only" runs the pipeline's ``check_records`` (map → clean →
validate: the rules a load applies, which include those of ``lienthong check``) on the parsed file and writes
nothing; its result is kept in memory for an hour for the page and its rejects download.

The form works without JavaScript (a plain POST, then a redirect to the result page, which refreshes itself while
the batch is processed); ``static/app.js`` adds drag-and-drop, an upload progress bar and status polling.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from connectors.formats import row_shown, shown_row
from lienthong.api import feeds
from lienthong.api.context import ApiContext, get_context
from lienthong.api.errors import ApiError
from lienthong.errors import HubError, MalformedInput
from lienthong.registry import SourceConfig
from lienthong.stages.map import check_columns
from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.landing import FINAL_STATUSES
from lienthong.warehouse.queries import batch_status, quarantined
from lienthong.warehouse.tables import batch as batch_t
from lienthong.web import rejects
from lienthong.web.session import SignedIn, Visitor, WebRoute, check_csrf, error_page, render
from lienthong.web.to_complete import rows_to_complete

router = APIRouter(include_in_schema=False, route_class=WebRoute)
Context = Annotated[ApiContext, Depends(get_context)]
SHOWN_ROWS = 200  # rejected rows drawn on the page; the workbook has them all
CHECKS_KEPT, CHECK_TTL_S = 32, 3600
CHECK_ROWS_KEPT = 50_000  # refused rows a check keeps in memory (and in its workbook); load the file to get all


@dataclass
class CheckResult:
    key_id: str
    source_id: str
    origin: str
    rows_received: int
    rows_valid: int
    rows: list[rejects.RejectedRow]
    at: float


class CheckStore:
    """The last few check results of the server process, each readable only by the key that made it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, CheckResult] = OrderedDict()

    def put(self, result: CheckResult) -> str:
        check_id = secrets.token_urlsafe(12)
        with self._lock:
            self._items[check_id] = result
            while len(self._items) > CHECKS_KEPT:
                self._items.popitem(last=False)
        return check_id

    def get(self, check_id: str, key_id: str) -> CheckResult | None:
        with self._lock:
            item = self._items.get(check_id)
        if item is None or item.key_id != key_id or time.time() - item.at > CHECK_TTL_S:
            return None
        return item


def _checks(request: Request) -> CheckStore:
    state = request.app.state
    if not hasattr(state, "web_checks"):
        state.web_checks = CheckStore()
    return state.web_checks


def pushable(ctx: ApiContext, who: Visitor) -> list[SourceConfig]:
    """The sources the key may push to: an organisation's clerk never sees another organisation's sources."""
    assert who.key is not None
    return [s for s in ctx.hub.sources.values() if who.key.can_push(s.id)]


@router.get("/upload")
def upload_page(request: Request, who: SignedIn, ctx: Context, source: str | None = None) -> Response:
    sources = pushable(ctx, who)
    ids = [s.id for s in sources]
    return render(request, who, "upload.html", sources=sources, chosen=source if source in ids else
                  (ids[0] if len(ids) == 1 else None), recent=_recent(ctx, ids), error=None)


@router.get("/sources/{source_id}/template.xlsx")
def template(source_id: str, request: Request, who: SignedIn, ctx: Context) -> Response:
    source = _allowed_source(ctx, who, source_id)
    return Response(rejects.template_workbook(source), media_type=rejects.XLSX_MEDIA,
                    headers={"Content-Disposition": f'attachment; filename="{source_id}-mau.xlsx"'})


@router.post("/upload")
async def upload(request: Request, who: SignedIn, ctx: Context) -> Response:
    """Push (or check) the file of the form; answer JSON to the page's script, a redirect to a plain form."""
    wants_json = "application/json" in request.headers.get("accept", "")
    form = await request.form(max_files=1, max_fields=5)
    source_id = None
    try:
        check_csrf(who, _field(form, "csrf") or request.headers.get("x-csrf-token"))
        source_id = _field(form, "source_id")
        if not source_id:
            raise ApiError(422, "missing_source", who.t("upload.need_source"), who.t("upload.need_source"))
        upload_file = form.get("file")
        if upload_file is None or isinstance(upload_file, str) or not upload_file.filename:
            raise ApiError(422, "missing_file", "choose a file to send", "Hãy chọn một tệp để gửi.")
        if _field(form, "mode") == "check":
            source = _allowed_source(ctx, who, source_id)
            payload, media, name = await feeds.read_upload(request, ctx, None)
            result = await run_in_threadpool(_check, ctx, who, source, payload, media, name)
            url = f"/checks/{_checks(request).put(result)}"
            body: dict[str, Any] = {"url": url, "status": "checked", "done": True}
        else:
            report = await feeds.push_batch(source_id, request, Response(), who.key, ctx, idempotency_key=None,
                                            filename=None, wait=False)
            url = f"/batches/{source_id}/{report.batch_id}"
            body = {"url": url + ("?again=true" if report.duplicate else ""), "status_url": f"{url}/status",
                    "status": report.status,
                    "done": report.status in FINAL_STATUSES, "duplicate": report.duplicate}
    except ApiError as exc:
        return _refused(request, who, ctx, wants_json, exc.status, exc.message, exc.message_vi, source_id)
    except MalformedInput as exc:
        return _refused(request, who, ctx, wants_json, 422, str(exc), exc.message_vi, source_id)
    except HubError as exc:
        return _refused(request, who, ctx, wants_json, 503, str(exc), exc.message_vi, source_id)
    if wants_json:
        return JSONResponse(body)
    return RedirectResponse(body["url"], status_code=303)


@router.get("/batches/{source_id}/{batch_id}/status")
def status(source_id: str, batch_id: str, who: SignedIn, ctx: Context) -> JSONResponse:
    """What the page's script polls while a batch is processed (no rows: nothing personal, no audit)."""
    _allowed_source(ctx, who, source_id)
    b = batch_status(ctx.hub.engine, batch_id)
    if b is None or b["source_id"] != source_id:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse({"status": b["status"], "label": who.t(f"status.{b['status']}"),
                         "rows_received": b["rows_read"], "rows_quarantined": b["rows_quarantined"],
                         "rows_published": b["rows_published"], "done": b["status"] in FINAL_STATUSES})


@router.get("/batches/{source_id}/{batch_id}")
def batch_page(source_id: str, batch_id: str, request: Request, who: SignedIn, ctx: Context,
               again: bool = False) -> Response:
    """The result of an upload (``again``: the upload repeated an earlier batch); while it is processed the page
    says so and refreshes itself."""
    source = _allowed_source(ctx, who, source_id)
    try:
        report = feeds.batch_report(ctx, batch_id, who.key, request, limit=SHOWN_ROWS, source_id=source_id, audit=True)
    except ApiError as exc:
        return error_page(request, who, exc.status, exc.message if who.lang == "en" else exc.message_vi)
    rows = rejects.shape(source, ((shown_row(q.sheet, q.row), q.record, [r.model_dump() for r in q.reasons])
                                  for q in report.quarantined))
    stored = batch_status(ctx.hub.engine, batch_id) if report.status == "published" else None
    to_complete = rows_to_complete(ctx.hub.engine, stored, SHOWN_ROWS) if stored else []
    return render(request, who, "result.html", source=source, report=report, rows=rows, check=None, again=again,
                  to_complete=to_complete,
                  truncated=report.quarantined_truncated, shown=SHOWN_ROWS,
                  rejects_url=f"/batches/{source_id}/{batch_id}/rejects.xlsx",
                  refresh=report.status not in FINAL_STATUSES)


@router.get("/batches/{source_id}/{batch_id}/rejects.xlsx")
def batch_rejects(source_id: str, batch_id: str, request: Request, who: SignedIn, ctx: Context) -> Response:
    """Every refused row of the batch as Excel, audited like the API's ``rejects.csv``."""
    source = _allowed_source(ctx, who, source_id)
    b = batch_status(ctx.hub.engine, batch_id)
    if b is None or b["source_id"] != source_id:
        return error_page(request, who, 404, who.t("error.not_found"))
    stored = quarantined(ctx.hub.engine, batch_id=batch_id)
    rows = rejects.shape(source, ((row_shown(q["row_no"], b["media_type"], b["read_options"]), q["record"],
                                   q["reasons"]) for q in stored), by="field")
    with ctx.hub.engine.begin() as conn:
        append_audit(conn, actor=who.key.actor, action="rejects.read", dataset=source.dataset, records=len(rows),
                     detail={"source_id": source_id, "batch_id": batch_id, "format": "xlsx", "via": "web"})
    return Response(rejects.rejects_workbook(source, rows), media_type=rejects.XLSX_MEDIA,
                    headers={"Content-Disposition": f'attachment; filename="{batch_id}-dong-loi.xlsx"'})


@router.get("/checks/{check_id}")
def check_page(check_id: str, request: Request, who: SignedIn, ctx: Context) -> Response:
    result = _checks(request).get(check_id, who.key.key_id)
    if result is None:
        return error_page(request, who, 404, who.t("result.expired"))
    source = _allowed_source(ctx, who, result.source_id)
    return render(request, who, "result.html", source=source, report=None, check=result, rows=result.rows[:SHOWN_ROWS],
                  truncated=len(result.rows) > SHOWN_ROWS, shown=SHOWN_ROWS,
                  rejects_url=f"/checks/{check_id}/rejects.xlsx", refresh=False)


@router.get("/checks/{check_id}/rejects.xlsx")
def check_rejects(check_id: str, request: Request, who: SignedIn, ctx: Context) -> Response:
    result = _checks(request).get(check_id, who.key.key_id)
    if result is None:
        return error_page(request, who, 404, who.t("result.expired"))
    source = _allowed_source(ctx, who, result.source_id)
    return Response(rejects.rejects_workbook(source, result.rows), media_type=rejects.XLSX_MEDIA,
                    headers={"Content-Disposition": f'attachment; filename="{source.id}-kiem-tra-dong-loi.xlsx"'})


# --- helpers ---------------------------------------------------------------------------------------------------

def _check(ctx: ApiContext, who: Visitor, source: SourceConfig, payload: bytes, media: str, name: str) -> CheckResult:
    """Parse like a push, check the columns like a push, then map → clean → validate without writing."""
    # Imported here: validation brings Great Expectations and pandas, half of what `lienthong serve` imported at
    # start; a server pays them with its first check instead (its processing workers import them in any case).
    from lienthong.stages.process import check_records

    item = feeds.parse_upload(ctx, source, payload, media, name)
    check_columns(item.records, source, item.origin)
    checked = check_records(item.records, source, ctx.hub.code_lists)
    kept = checked.rejected[:CHECK_ROWS_KEPT]
    rows = rejects.shape(source, ((row_shown(q.row_no, item.media_type, item.read_options), q.record, q.reasons)
                                  for q in kept), by="field")
    return CheckResult(key_id=who.key.key_id, source_id=source.id, origin=name, rows_received=item.records.num_rows,
                       rows_valid=checked.valid.num_rows, rows=rows, at=time.time())


def _recent(ctx: ApiContext, source_ids: list[str], limit: int = 10) -> list[dict[str, Any]]:
    """The last uploads (batches) of these sources, newest first."""
    with ctx.hub.engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(batch_t).where(batch_t.c.source_id.in_(source_ids)).order_by(batch_t.c.seq.desc()).limit(limit)
        ).mappings()]


def _allowed_source(ctx: ApiContext, who: Visitor, source_id: str) -> SourceConfig:
    """The source, if the key may push to it; 404 for an unknown one and 403 for another organisation's."""
    source = feeds.registered_source(ctx, source_id)
    if not who.key.can_push(source_id):
        raise ApiError(403, "forbidden", f"key {who.key.key_id} has no scope push:{source_id}",
                       f"Khóa này không có quyền gửi dữ liệu cho nguồn {source_id}")
    return source


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _refused(request: Request, who: Visitor, ctx: ApiContext, wants_json: bool, status_code: int, message: str,
             message_vi: str, chosen: str | None = None) -> Response:
    shown = message if who.lang == "en" else message_vi
    if wants_json:
        return JSONResponse({"message": message, "message_vi": message_vi, "shown": shown}, status_code=status_code)
    sources = pushable(ctx, who)
    return render(request, who, "upload.html", status_code=status_code, sources=sources,
                  chosen=chosen if chosen in {s.id for s in sources} else None, recent=[], error=shown)
