"""Harvesting conformance over a real uvicorn server: ckanext-harvest's CKAN paging loop, ckanext-dcat's Hydra
paging, stable URIs, dct:modified that moves only with the data, and an incomplete release answering an error."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
import rdflib
import uvicorn
from fastapi import FastAPI
from rdflib.namespace import DCTERMS, RDF

from catalog import get_code_list
from catalog.agency_ids import read_agency_ids
from lienthong.open_data.build import build_open_data
from lienthong.open_data.web import make_router
from lienthong.pipeline import publish_all, sync_source
from tests.lienthong.conftest import HEADER, hub_factory
from tests.lienthong.open_data.conftest import Fixture, Person, build_warehouse, member_row

pytestmark = pytest.mark.integration
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
URI_BASE = "https://dulieu.example.vn"
SEARCH = "/api/3/action/package_search"
TABLES = 14


def _release(tmp_path: Path) -> tuple[Fixture, Callable[[], Path]]:
    fx = build_warehouse(hub_factory(tmp_path), tmp_path, f"sqlite:///{tmp_path / 'wh.db'}")

    def build() -> Path:
        return build_open_data(fx.hub.engine, tmp_path / "open-data", fx.hub.code_lists, threshold=5,
                               as_of=date(2026, 1, 1)).folder
    build()
    return fx, build


@pytest.fixture
def release(tmp_path: Path) -> tuple[Fixture, Callable[[], Path]]:
    """A release of its own, for a test that changes it."""
    return _release(tmp_path)


@pytest.fixture
def server(release: tuple[Fixture, Callable[[], Path]], tmp_path: Path) -> Iterator[str]:
    with _serving(tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One release and its server for the tests that only read them (building one takes seconds)."""
    folder = tmp_path_factory.mktemp("harvest")
    _release(folder)
    with _serving(folder) as url:
        yield url


@contextmanager
def _serving(tmp_path: Path) -> Iterator[str]:
    ids = tmp_path / "agency_ids.csv"  # an operator's filled-in file (a test value, not an official code)
    ids.write_text("organisation,agency_id,status,basis\nMTTQ,T99.00.00.Z01,assigned,test\n", encoding="utf-8")
    table = read_agency_ids(ids, organisations={"MTTQ"})
    app = FastAPI()
    app.include_router(make_router(tmp_path / "open-data", uri_base=URI_BASE, catalog_page=4,
                                   agency_id=lambda code: table[code].agency_id if code in table else None))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


def _result(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    return response.json()["result"]


def _harvest(http: httpx.Client, rows: int, fq: str) -> list[list[dict]]:
    """ckanext-harvest's CKAN harvester: pages of rows from start=0 by id until one comes back empty; two
    identical pages in a row mean "paging doesn't seem to work" and abort the harvest."""
    pages, start = [], 0
    while True:
        result = _result(http.get(SEARCH, params={"fq": fq, "rows": rows, "start": start, "sort": "id asc"}))
        page = result["results"]
        if not page:
            return pages
        assert not pages or [p["id"] for p in page] != [p["id"] for p in pages[-1]], "paging doesn't seem to work"
        pages.append(page)
        start += rows


@pytest.mark.parametrize("rows", [1, 5, 100])
def test_ckan_harvester_paging_loop(shared_server: str, rows: int) -> None:
    with httpx.Client(base_url=shared_server) as http:
        pages = _harvest(http, rows, "metadata_modified:[2020-01-01T00:00:00Z TO *]")
        everything = _result(http.get("/api/3/action/package_list"))
    ids = [p["id"] for page in pages for p in page]
    assert len(ids) == len(set(ids)) == TABLES and ids == sorted(ids)  # no duplicate, no gap, in id order
    assert sorted(p["name"] for page in pages for p in page) == everything


def test_package_search_fq_sort_and_q(shared_server: str) -> None:
    with httpx.Client(base_url=shared_server) as http:
        all_ = _result(http.get(SEARCH, params={"rows": 100, "sort": "metadata_modified desc"}))
        stamps = [p["metadata_modified"] for p in all_["results"]]
        assert all_["count"] == TABLES and stamps == sorted(stamps, reverse=True)
        latest = max(stamps)
        since = _result(http.get(SEARCH, params={"fq": f"metadata_modified:[{latest}Z TO *]", "rows": 100}))
        assert since["count"] == sum(s == latest for s in stamps) > 0  # the bound is inclusive
        future = _result(http.get(SEARCH, params={"fq": "metadata_modified:[2999-01-01T00:00:00Z TO *]"}))
        assert future == {**future, "count": 0, "results": []}
        mixed = _result(http.get(SEARCH, params={"fq": "organization:mttq-vn -name:members-by-ward",
                                                 "q": "members", "rows": 100}))
        assert mixed["count"] > 0 and "members-by-ward" not in {p["name"] for p in mixed["results"]}
        assert all("member" in (p["name"] + p["notes"]).lower() for p in mixed["results"])
        for bad in ({"sort": "title_string asc"}, {"fq": "groups:x"}, {"fq": "metadata_modified:2020"},
                    {"fq": "metadata_modified:[yesterday TO *]"}):
            r = http.get(SEARCH, params=bad)
            assert r.status_code == 409 and r.json()["success"] is False, bad
            assert r.json()["error"]["__type"] == "Search Query Error"


def test_organizations_carry_the_agency_identifier(shared_server: str) -> None:
    with httpx.Client(base_url=shared_server) as http:
        assert _result(http.get("/api/3/action/organization_list")) == ["mttq-vn"]
        org = _result(http.get("/api/3/action/organization_show", params={"id": "mttq-vn"}))
        pkg = _result(http.get("/api/3/action/package_show", params={"id": "members-by-ward"}))
        missing = http.get("/api/3/action/organization_show", params={"id": "other"})
    assert {"key": "agency_id", "value": "T99.00.00.Z01"} in org["extras"] and org["package_count"] == TABLES
    assert pkg["owner_org"] == org["id"] and pkg["organization"]["name"] == "mttq-vn"
    assert missing.status_code == 404 and missing.json()["success"] is False


def _page_graph(http: httpx.Client, url: str, fmt: str) -> rdflib.Graph:
    r = http.get(url)
    assert r.status_code == 200, r.text
    return rdflib.Graph().parse(data=r.text, format=fmt)


@pytest.mark.parametrize(("ext", "fmt"), [("ttl", "turtle"), ("jsonld", "json-ld"), ("xml", "xml")])
def test_dcat_hydra_paging_to_the_end(shared_server: str, ext: str, fmt: str) -> None:
    seen: list[rdflib.URIRef] = []
    url: str | None = f"{shared_server}/open-data/catalog.{ext}"
    pages = 0
    with httpx.Client() as http:
        while url:  # ckanext-dcat's RDF harvester: hydra:next (or hydra:nextPage) of the paging node
            g = _page_graph(http, url, fmt)
            pages += 1
            view = next(g.subjects(RDF.type, HYDRA.PagedCollection))
            assert (view, RDF.type, HYDRA.PartialCollectionView) in g
            assert int(g.value(view, HYDRA.totalItems)) == TABLES
            nxt = g.value(view, HYDRA.next)
            assert nxt == g.value(view, HYDRA.nextPage)
            seen += list(g.subjects(RDF.type, DCAT.Dataset))
            url = str(nxt) if nxt else None
    assert pages == 4 and len(seen) == len(set(seen)) == TABLES  # 4 per page: 4 + 4 + 4 + 2
    with httpx.Client(base_url=shared_server) as http:
        assert http.get("/open-data/catalog.ttl", params={"page": 5}).status_code == 404
        assert http.get("/open-data/catalog.pdf").status_code == 404


def test_modified_since(shared_server: str) -> None:
    with httpx.Client() as http:
        g = _page_graph(http, f"{shared_server}/open-data/catalog.ttl?modified_since=2999-01-01T00:00:00Z", "turtle")
        view = next(g.subjects(RDF.type, HYDRA.PartialCollectionView))
        assert int(g.value(view, HYDRA.totalItems)) == 0 and not list(g.subjects(RDF.type, DCAT.Dataset))
        g = _page_graph(http, f"{shared_server}/open-data/catalog.ttl?modified_since=2020-01-01", "turtle")
        view = next(g.subjects(RDF.type, HYDRA.PartialCollectionView))
        assert int(g.value(view, HYDRA.totalItems)) == TABLES
        assert "modified_since=2020-01-01" in str(g.value(view, HYDRA.next))  # the filter follows the pages
        assert http.get(f"{shared_server}/open-data/catalog.ttl", params={"modified_since": "soon"}).status_code == 400


def test_stable_uris_media_types_and_publisher(shared_server: str) -> None:
    with httpx.Client() as http:
        direct = _page_graph(http, f"{shared_server}/open-data/catalog.ttl", "turtle")
        proxied = rdflib.Graph().parse(data=http.get(f"{shared_server}/open-data/catalog.ttl",
                                                     headers={"Host": "proxy.example"}).text, format="turtle")
    for g in (direct, proxied):
        datasets = set(g.subjects(RDF.type, DCAT.Dataset))
        dists = set(g.subjects(RDF.type, DCAT.Distribution))
        assert all(str(u).startswith(f"{URI_BASE}/open-data/") for u in datasets | dists)
        for d in dists:
            media = str(g.value(d, DCAT.mediaType))
            assert media.startswith("http://www.iana.org/assignments/media-types/") and g.value(d, DCTERMS["format"])
            assert g.value(d, DCTERMS.modified) is not None
        publisher = g.value(next(iter(datasets)), DCTERMS.publisher)
        assert str(g.value(publisher, DCTERMS.identifier)) == "T99.00.00.Z01"
    assert set(direct.subjects(RDF.type, DCAT.Dataset)) == set(proxied.subjects(RDF.type, DCAT.Dataset))
    links = {str(o) for o in proxied.objects(None, DCAT.downloadURL)}
    assert all(u.startswith("http://proxy.example/open-data/") for u in links)  # downloads follow the request


def _modified(server: str) -> dict[str, str]:
    with httpx.Client(base_url=server) as http:
        return {p["name"]: p["metadata_modified"]
                for p in _result(http.get(SEARCH, params={"rows": 100}))["results"]}


def test_modified_moves_only_when_the_data_does(release: tuple[Fixture, Callable[[], Path]], server: str,
                                                tmp_path: Path) -> None:
    fx, build = release
    first = _modified(server)
    time.sleep(1.1)  # a later build time: the dates must not follow it
    build()
    assert _modified(server) == first
    shutil.rmtree(tmp_path / "open-data")  # from scratch: the dates come from the data, not the previous release
    build()
    scratch = _modified(server)
    published = [n for n in first if not n.startswith("feedback")]  # feedback has never been published here
    assert {n: scratch[n] for n in published} == {n: first[n] for n in published}
    first = scratch

    time.sleep(1.1)
    # members in a province the release did not show yet: its rows appear (disclosure control hides counts,
    # so members added where every cell is already suppressed rightly change nothing a harvester sees)
    ward = next(v.code for v in get_code_list("wards").values if v.parent not in ("01", "04"))
    new = [member_row(Person(f"HV{n}", "Phạm Thị Mới", f"001185{n:06d}", f"0913{n:06d}", "Kinh", ward))
           for n in range(500, 530)]
    (fx.drop / "m" / "c.csv").write_text("\ufeff" + "\n".join([HEADER, *new]) + "\n", encoding="utf-8")
    for source in fx.hub.sources.values():
        sync_source(fx.hub, source)
    publish_all(fx.hub, ["members"])
    build()
    after = _modified(server)
    moved = {name for name in first if after[name] != first[name]}
    assert "members-by-province-organisation" in moved and all(after[n] > first[n] for n in moved)
    assert not any(name.startswith("relief") for name in moved)  # relief data did not change


def test_an_incomplete_release_answers_an_error(server: str, tmp_path: Path) -> None:
    folder = tmp_path / "open-data"
    paths = ["/api/3/action/package_list", SEARCH, "/api/3/action/package_show?id=members-by-ward",
             "/api/3/action/organization_show?id=mttq-vn", "/open-data/catalog.ttl", "/open-data/catalog.jsonld"]

    def all_refused() -> None:
        with httpx.Client(base_url=server) as http:
            for path in paths:
                r = http.get(path)
                assert r.status_code == 503, (path, r.status_code)
                assert "incomplete" in r.text or "cannot" in r.text

    parquet = next(folder.glob("relief*.parquet"))
    kept = parquet.read_bytes()
    parquet.unlink()  # a file the package lists is gone
    all_refused()
    parquet.write_bytes(kept[: len(kept) // 2])  # or cut short
    all_refused()
    parquet.write_bytes(kept)
    with httpx.Client(base_url=server) as http:
        assert http.get(SEARCH).status_code == 200
    package = folder / "datapackage.json"
    package.write_text(package.read_text(encoding="utf-8")[:-200], encoding="utf-8")  # a torn write
    all_refused()
