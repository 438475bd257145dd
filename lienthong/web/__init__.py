"""The web pages of `lienthong serve` for member-organisation clerks and hub operators (issue 8, ADR 12).

Server-rendered HTML (Jinja2) on the API's own app, signed in with the same API keys: upload a feed (or only
check it) and read the result with a Vietnamese reason on every bad cell, download the rejects as Excel, watch
quality on a dashboard, browse the dataset catalogue. ``router`` is mounted on the API's app by
:func:`lienthong.web.app.create_app`, the app `lienthong serve` runs.
"""

from __future__ import annotations

from fastapi import APIRouter

from lienthong.web import dashboard, pages, upload

router = APIRouter(include_in_schema=False)
for _part in (pages.router, upload.router, dashboard.router):
    router.include_router(_part)

__all__ = ["router"]
