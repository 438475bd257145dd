"""The app factory: one FastAPI app serving push, pull, the code lists, operations and (when present) open data.

Routers are added per area; ``extra_routers`` lets the web UI (issue 8) mount itself at ``/`` on the same app
without the factory knowing about it: :func:`lienthong.web.app.create_app` is the app with the pages, the one
`lienthong serve` runs; this one alone is the API without pages.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import APIRouter, FastAPI

from lienthong.api import catalog, datasets, entities, feeds, odata, ops, xroad
from lienthong.api.context import ApiContext
from lienthong.api.errors import install_handlers
from lienthong.api.metrics import MetricsMiddleware
from lienthong.settings import Settings, get_settings

log = logging.getLogger(__name__)

DESCRIPTION = """\
Liên Thông's HTTP API. Member organisations **push** feeds to their sources and follow each batch to
publication; the portal and other consumers **pull** published datasets by keyset cursor, staying synchronised
with changes and deletions. Every call but operations and open data needs an API key
(`Authorization: Bearer lt_…`, made by `lienthong keys create`) whose scopes allow it:
`push:<source>`, `read:<dataset>`, `read:pii`, `admin`. Errors carry an English and a Vietnamese message.
Reads and writes of personal data are written to an append-only audit log (`lienthong audit`).
"""


def create_app(settings: Settings | None = None, *, extra_routers: Iterable[APIRouter] = ()) -> FastAPI:
    """Build the app; the warehouse is opened when the app starts (so importing costs nothing)."""
    settings = settings or get_settings()
    context_holder: dict[str, ApiContext] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        ctx = ApiContext.open(settings)
        ctx.metrics = metrics
        context_holder["ctx"] = app.state.context = ctx
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(title="Liên Thông API", version="1", description=DESCRIPTION, lifespan=lifespan,
                  openapi_tags=[
                      {"name": "push", "description": "Member organisations upload feeds."},
                      {"name": "pull", "description": "Consumers read published datasets."},
                      {"name": "odata", "description": "OData v4 read access to the published datasets."},
                      {"name": "catalog", "description": "Shared code lists."},
                      {"name": "operations", "description": "Health and metrics."},
                      {"name": "x-road", "description": "The datasets as X-Road REST services, for requests a "
                       "configured Security Server forwards (docs/national-platforms.md)."},
                  ])
    from lienthong.api.metrics import Metrics

    metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    install_handlers(app)
    for router in (feeds.router, datasets.router, entities.router, odata.router, catalog.router, ops.router,
                   xroad.router):
        app.include_router(router)
    open_data = _open_data_router()
    if open_data is not None:
        app.include_router(open_data)
    for router in extra_routers:  # the web pages of `lienthong serve` come this way (lienthong.web.app)
        app.include_router(router)
    return app


def _open_data_router() -> APIRouter | None:
    """The open-data endpoints (no key) of ``lienthong.open_data.web``, when that package is installed."""
    try:
        from lienthong.open_data.web import router
    except ImportError:
        log.info("lienthong.open_data.web not available: open-data endpoints not served")
        return None
    return router
