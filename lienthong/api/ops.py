"""Operations: liveness (``/healthz``), readiness (``/readyz``: the warehouse answers and its schema is at the
newest revision) and Prometheus metrics (``/metrics``). No key: they carry no personal data; restrict them at the
proxy if needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import inspect, text

from lienthong.api.auth import Context
from lienthong.api.models import Health
from lienthong.warehouse.migrate import pending_revisions

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health, "description": "Not ready."}},
            summary="The warehouse answers and its schema is current")
def readyz(ctx: Context) -> Health | JSONResponse:
    try:
        with ctx.hub.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            missing = [t for t in ("batch", "api_key", "audit_log") if not inspect(conn).has_table(t)]
            pending = pending_revisions(conn)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(Health(status="unavailable", detail=type(exc).__name__).model_dump(), status_code=503)
    if missing or pending:
        what = f"missing {missing}" if missing else f"schema revisions not applied: {sorted(pending)}"
        return JSONResponse(Health(status="unavailable", detail=f"run `lienthong init`: {what}")
                            .model_dump(), status_code=503)
    return Health(status="ok")


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(ctx: Context) -> PlainTextResponse:
    return PlainTextResponse(ctx.metrics.render(), media_type="text/plain; version=0.0.4")
