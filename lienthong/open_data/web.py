"""The open-data web API, served without a key: CKAN-compatible read actions, the DCAT catalogue, the downloads.

Everything is read from the last release on disk (``<home>/open-data``, written by the open-data stage), never
from the warehouse: the open API can only ever serve what passed disclosure control. Links are built from the
request's own address, so the catalogue is right behind any proxy that sets the Host header.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from lienthong.open_data import ckan, dcat
from lienthong.settings import get_settings

_MEDIA = {".csv": "text/csv; charset=utf-8", ".json": "application/json", ".parquet": "application/vnd.apache.parquet",
          ".png": "image/png", ".svg": "image/svg+xml"}


def make_router(folder: Callable[[], Path] | Path | None = None) -> APIRouter:
    """A router over the release in ``folder`` (default ``<LIENTHONG_HOME>/open-data``, read per request)."""
    router = APIRouter(tags=["open data"], responses={
        503: {"description": "No open-data release has been built yet (`lienthong open-data build`)."}})

    def release() -> Path:
        if folder is None:
            return get_settings().home / "open-data"
        return folder() if callable(folder) else folder

    def package() -> dict[str, Any]:
        path = release() / "datapackage.json"
        if not path.is_file():
            raise HTTPException(503, detail={"message": "no open-data release yet: run `lienthong open-data build`",
                                             "message_vi": "Chưa có dữ liệu mở: chạy `lienthong open-data build`"})
        return json.loads(path.read_text(encoding="utf-8"))

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def envelope(request: Request, action: str, result: Any) -> dict[str, Any]:
        return {"help": f"{base(request)}/api/3/action/help_show?name={action}", "success": True, "result": result}

    def not_found(request: Request, action: str, what: str) -> JSONResponse:
        return JSONResponse(status_code=404, content={
            "help": f"{base(request)}/api/3/action/help_show?name={action}", "success": False,
            "error": {"__type": "Not Found Error", "message": f"Not found: {what}"}})

    @router.get("/api/3/action/package_list")
    def package_list(request: Request, limit: int | None = Query(None, ge=0),
                     offset: int = Query(0, ge=0)) -> dict[str, Any]:
        """Names of all open datasets (CKAN ``package_list``)."""
        names = sorted(p["name"] for p in ckan.packages(package(), base_url=base(request)))
        return envelope(request, "package_list", names[offset:None if limit is None else offset + limit])

    @router.get("/api/3/action/package_show", response_model=None,
                responses={404: {"description": "No such dataset (CKAN's `success: false` envelope)."}})
    def package_show(request: Request, id: str = Query(...)) -> dict[str, Any] | JSONResponse:  # noqa: A002
        """One dataset by name or id (CKAN ``package_show``)."""
        for p in ckan.packages(package(), base_url=base(request)):
            if id in (p["name"], p["id"]):
                return envelope(request, "package_show", p)
        return not_found(request, "package_show", id)

    @router.get("/api/3/action/package_search")
    def package_search(request: Request, q: str | None = None, rows: int = Query(10, ge=0, le=1000),
                       start: int = Query(0, ge=0)) -> dict[str, Any]:
        """Datasets whose text contains every word of ``q`` (CKAN ``package_search``)."""
        pkgs = ckan.packages(package(), base_url=base(request))
        return envelope(request, "package_search", ckan.search(pkgs, q=q, rows=rows, start=start))

    @router.get("/api/3/action/current_package_list_with_resources")
    def current_package_list_with_resources(request: Request, limit: int | None = Query(None, ge=0),
                                            offset: int = Query(0, ge=0)) -> dict[str, Any]:
        """Every dataset with its resources, most recently modified first (CKAN action of the same name)."""
        pkgs = ckan.packages(package(), base_url=base(request))
        return envelope(request, "current_package_list_with_resources",
                        pkgs[offset:None if limit is None else offset + limit])

    @router.get("/open-data/catalog.jsonld")
    def catalog_jsonld(request: Request) -> Response:
        """The DCAT-AP catalogue as JSON-LD."""
        graph = dcat.catalogue_graph(package(), base_url=base(request))
        return Response(dcat.serialise(graph, "json-ld"), media_type="application/ld+json")

    @router.get("/open-data/catalog.ttl")
    def catalog_ttl(request: Request) -> Response:
        """The DCAT-AP catalogue as Turtle."""
        graph = dcat.catalogue_graph(package(), base_url=base(request))
        return Response(dcat.serialise(graph, "turtle"), media_type="text/turtle; charset=utf-8")

    @router.get("/open-data/{filename}", responses={404: {"description": "Not a file of the release."}})
    def download(filename: str) -> FileResponse:
        """A file of the release: only files the data package lists (no path can escape the folder)."""
        listed = {"datapackage.json"}
        for r in package()["resources"]:
            listed.add(r["path"])
            listed.update(a["path"] for a in r.get("x-alternates", ()))
        if filename not in listed:
            raise HTTPException(404, detail={"message": f"no open-data file {filename!r}",
                                             "message_vi": f"Không có tệp dữ liệu mở {filename!r}"})
        path = release() / filename
        return FileResponse(path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"), filename=filename)

    return router


router = make_router()
