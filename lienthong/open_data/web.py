"""The open-data web API, served without a key: CKAN-compatible read actions, the DCAT catalogue, the downloads.

Everything is read from the last release on disk (``<home>/open-data``, written by the open-data stage), never
from the warehouse: the open API can only ever serve what passed disclosure control. Download links are built
from the request's own address (right behind any proxy that sets the Host header); the identities harvesters
match on — dataset and distribution URIs, package and resource ids — do not depend on it.

Harvesters delete what a catalogue no longer lists, so a release that cannot be served whole (its
``datapackage.json`` unreadable, a file it lists missing or of another size) answers 503, never a shorter
success (shared/NATIONAL_PLATFORMS.md, "CKAN harvesting").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from catalog.agency_ids import agency_id_of
from lienthong.open_data import ckan, dcat
from lienthong.settings import get_settings

_MEDIA = {".csv": "text/csv; charset=utf-8", ".json": "application/json", ".parquet": "application/vnd.apache.parquet",
          ".png": "image/png", ".svg": "image/svg+xml"}
CATALOG_FORMATS = {  # ckanext-dcat's /catalog.{format}: rdflib format, media type
    "jsonld": ("json-ld", "application/ld+json"), "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "xml": ("xml", "application/rdf+xml"), "rdf": ("xml", "application/rdf+xml"),
    "n3": ("n3", "text/n3; charset=utf-8"),
}
CATALOG_PAGE = 100  # ckanext-dcat's default datasets per page


class ReleaseIncomplete(Exception):
    """The release on disk cannot be served whole."""


def make_router(folder: Callable[[], Path] | Path | None = None, *, uri_base: str | None = None,
                catalog_page: int = CATALOG_PAGE, agency_id: Callable[[str], str | None] = agency_id_of,
                ) -> APIRouter:
    """A router over the release in ``folder`` (default ``<LIENTHONG_HOME>/open-data``, read per request).

    Args:
        folder: the release folder, or a function returning it.
        uri_base: the base of dataset/distribution URIs; default ``LIENTHONG_PUBLIC_BASE_URL``.
        catalog_page: datasets per page of the DCAT catalogue.
        agency_id: organisation code → electronic agency identifier (default the catalog's).
    """
    router = APIRouter(tags=["open data"], responses={
        503: {"description": "No open-data release yet (`lienthong open-data build`), or one that cannot be "
                             "served whole."}})

    def release() -> Path:
        if folder is None:
            return get_settings().home / "open-data"
        return folder() if callable(folder) else folder

    def package() -> dict[str, Any]:
        """The release's data package, checked complete: every file it lists is there, with its size."""
        root = release()
        path = root / "datapackage.json"
        if not path.is_file():
            raise HTTPException(503, detail={"message": "no open-data release yet: run `lienthong open-data build`",
                                             "message_vi": "Chưa có dữ liệu mở: chạy `lienthong open-data build`"})
        try:
            pkg = json.loads(path.read_text(encoding="utf-8"))
            for r in pkg["resources"]:
                for f in [r, *r.get("x-alternates", ())]:
                    file = root / f["path"]
                    if not file.is_file() or ("bytes" in f and file.stat().st_size != f["bytes"]):
                        raise ReleaseIncomplete(f"{f['path']} is missing or not the size the release lists")
            dcat.tables_of(pkg)
        except (ValueError, KeyError, TypeError, OSError, ReleaseIncomplete) as exc:
            raise HTTPException(503, detail={
                "message": f"the open-data release in {root.name}/ is incomplete ({exc}); rebuild it with "
                           "`lienthong open-data build`. Nothing is served rather than a partial catalogue.",
                "message_vi": "Bản dữ liệu mở không đầy đủ; hãy chạy lại `lienthong open-data build`"}) from None
        return pkg

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def ids() -> str:
        return (uri_base or get_settings().public_base_url).rstrip("/")

    def publisher_id() -> str | None:
        return agency_id(ckan.PUBLISHER_ORGANISATION)

    def pkgs(request: Request) -> list[dict[str, Any]]:
        try:
            return ckan.packages(package(), base_url=base(request), agency_id=publisher_id())
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPException(503, detail={"message": f"the open-data release cannot be described: {exc}",
                                             "message_vi": "Không mô tả được bản dữ liệu mở"}) from None

    def envelope(request: Request, action: str, result: Any) -> dict[str, Any]:
        return {"help": f"{base(request)}/api/3/action/help_show?name={action}", "success": True, "result": result}

    def failure(request: Request, action: str, status: int, kind: str, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content={
            "help": f"{base(request)}/api/3/action/help_show?name={action}", "success": False,
            "error": {"__type": kind, "message": message}})

    @router.get("/api/3/action/package_list")
    def package_list(request: Request, limit: int | None = Query(None, ge=0),
                     offset: int = Query(0, ge=0)) -> dict[str, Any]:
        """Names of all open datasets (CKAN ``package_list``)."""
        names = sorted(p["name"] for p in pkgs(request))
        return envelope(request, "package_list", names[offset:None if limit is None else offset + limit])

    @router.get("/api/3/action/package_show", response_model=None,
                responses={404: {"description": "No such dataset (CKAN's `success: false` envelope)."}})
    def package_show(request: Request, id: str = Query(...)) -> dict[str, Any] | JSONResponse:  # noqa: A002
        """One dataset by name or id (CKAN ``package_show``)."""
        for p in pkgs(request):
            if id in (p["name"], p["id"]):
                return envelope(request, "package_show", p)
        return failure(request, "package_show", 404, "Not Found Error", f"Not found: {id}")

    @router.get("/api/3/action/package_search", response_model=None,
                responses={409: {"description": "A `sort` or `fq` this API does not understand."}})
    def package_search(request: Request, q: str | None = None, rows: int = Query(10, ge=0, le=1000),
                       start: int = Query(0, ge=0), sort: str | None = None,
                       fq: str | None = None) -> dict[str, Any] | JSONResponse:
        """Datasets matching ``q`` and ``fq`` (e.g. ``metadata_modified:[2020-01-01T00:00:00Z TO *]``), sorted
        (``id asc``, ``metadata_modified desc``, ...), a page of ``rows`` from ``start`` (CKAN ``package_search``)."""
        try:
            result = ckan.search(pkgs(request), q=q, rows=rows, start=start, sort=sort, fq=fq)
        except ckan.SearchError as exc:
            return failure(request, "package_search", 409, "Search Query Error", str(exc))
        return envelope(request, "package_search", result)

    @router.get("/api/3/action/current_package_list_with_resources")
    def current_package_list_with_resources(request: Request, limit: int | None = Query(None, ge=0),
                                            offset: int = Query(0, ge=0)) -> dict[str, Any]:
        """Every dataset with its resources, most recently modified first (CKAN action of the same name)."""
        found = ckan.search(pkgs(request), q=None, rows=10**9, start=0, sort="metadata_modified desc")["results"]
        return envelope(request, "current_package_list_with_resources",
                        found[offset:None if limit is None else offset + limit])

    @router.get("/api/3/action/organization_list")
    def organization_list(request: Request, all_fields: bool = False) -> dict[str, Any]:
        """The publishing organisation (CKAN ``organization_list``); ``all_fields=true`` for whole dicts."""
        org = ckan.organization(publisher_id(), package_count=len(pkgs(request)))
        return envelope(request, "organization_list", [org] if all_fields else [org["name"]])

    @router.get("/api/3/action/organization_show", response_model=None,
                responses={404: {"description": "No such organization."}})
    def organization_show(request: Request, id: str = Query(...),  # noqa: A002
                          include_datasets: bool = False) -> dict[str, Any] | JSONResponse:
        """The publishing organisation by name or id, with its agency identifier in ``extras``."""
        found = pkgs(request)
        org = ckan.organization(publisher_id(), package_count=len(found))
        if id not in (org["name"], org["id"]):
            return failure(request, "organization_show", 404, "Not Found Error", f"Not found: {id}")
        if include_datasets:
            org["packages"] = found
        return envelope(request, "organization_show", org)

    @router.get("/open-data/catalog.{fmt}", responses={
        200: {"description": "One page of the DCAT-AP catalogue with Hydra paging.",
              "content": {m: {} for _, m in CATALOG_FORMATS.values()}},
        400: {"description": "Unknown format, page or modified_since."}})
    def catalog(request: Request, fmt: str, page: int = Query(1, ge=1),
                modified_since: str | None = Query(None, max_length=40)) -> Response:
        """The DCAT-AP catalogue (ckanext-dcat's endpoint shape): ``catalog.{jsonld|ttl|xml|rdf|n3}``,
        ``page`` (100 datasets each, Hydra ``PartialCollectionView``/``PagedCollection`` with next/first/last
        and ``totalItems``) and ``modified_since`` (datasets whose ``dct:modified`` is at or after it)."""
        if fmt not in CATALOG_FORMATS:
            raise HTTPException(404, detail={"message": f"no catalogue format {fmt!r}; "
                                             f"formats: {', '.join(CATALOG_FORMATS)}",
                                             "message_vi": f"Không có định dạng danh mục {fmt!r}"})
        pkg = package()
        tables = sorted(dcat.tables_of(pkg))  # by name: stable pages
        if modified_since:
            try:
                since = ckan.parse_instant(modified_since)
            except ckan.SearchError as exc:
                raise HTTPException(400, detail={"message": f"modified_since: {exc}",
                                                 "message_vi": "modified_since không phải ngày ISO 8601"}) from None
            tables = [t for t, files in sorted(dcat.tables_of(pkg).items())
                      if ckan.parse_instant(dcat.table_dates(files[0]["x-lienthong"], pkg)[1]) >= since]
        pages = max(1, math.ceil(len(tables) / catalog_page))
        if page > pages:
            raise HTTPException(404, detail={"message": f"no page {page}: the catalogue has {pages}",
                                             "message_vi": f"Không có trang {page}"})

        def link(n: int) -> str:
            params = {"modified_since": modified_since} if modified_since else {}
            return f"{base(request)}/open-data/catalog.{fmt}?{urlencode({**params, 'page': n})}"

        paging = dcat.Paging(current=link(page), first=link(1), last=link(pages),
                             next=link(page + 1) if page < pages else None,
                             previous=link(page - 1) if page > 1 else None, total=len(tables), per_page=catalog_page)
        shown = tables[(page - 1) * catalog_page:page * catalog_page]
        graph = dcat.catalogue_graph(pkg, base_url=base(request), uri_base=ids(), tables=shown,
                                     agency_id=publisher_id(), paging=paging)
        rdf_format, media = CATALOG_FORMATS[fmt]
        return Response(dcat.serialise(graph, rdf_format), media_type=media)

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
