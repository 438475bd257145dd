"""The app `lienthong serve` runs: the HTTP API of :func:`lienthong.api.app.create_app` with the web pages at ``/``.

The web sits above the API (its pages call the API's own functions, ADR 12), so it is the web that mounts itself
on the API's app through ``extra_routers``, never the API that imports the web (STYLE rule 13).
``lienthong.api.app:create_app`` alone serves the API without pages, e.g. behind an X-Road Security Server.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI

from lienthong.api.app import create_app as create_api_app
from lienthong.settings import Settings
from lienthong.web import router as web_router


def create_app(settings: Settings | None = None, *, extra_routers: Iterable[APIRouter] = ()) -> FastAPI:
    """The API app with the pages for clerks and operators (issue 8) after its routes; opens the warehouse on start.

    Args:
        settings: the hub's settings; default those of the environment.
        extra_routers: more routes, after the API's and before the pages.
    """
    return create_api_app(settings, extra_routers=[*extra_routers, web_router])
