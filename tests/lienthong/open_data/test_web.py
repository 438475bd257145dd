"""The open-data API over a real uvicorn server on 127.0.0.1: CKAN envelope and field names, DCAT, downloads."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import rdflib
import uvicorn
from fastapi import FastAPI

from lienthong.open_data.build import build_open_data
from lienthong.open_data.web import make_router
from tests.lienthong.open_data.conftest import build_warehouse

pytestmark = pytest.mark.integration

PACKAGE_FIELDS = {"id", "name", "title", "notes", "type", "state", "private", "license_id", "license_title",
                  "license_url", "organization", "owner_org", "metadata_created", "metadata_modified", "tags",
                  "num_tags", "resources", "num_resources", "extras", "groups", "version", "url", "author",
                  "maintainer"}
RESOURCE_FIELDS = {"id", "package_id", "name", "description", "format", "mimetype", "url", "size", "hash",
                   "created", "last_modified", "position", "state"}


@pytest.fixture
def server(make_hub, tmp_path: Path) -> Iterator[str]:
    fx = build_warehouse(make_hub, tmp_path, f"sqlite:///{tmp_path / 'wh.db'}")
    folder = build_open_data(fx.hub.engine, tmp_path / "open-data", fx.hub.code_lists, threshold=5,
                             as_of=date(2026, 1, 1)).folder
    app = FastAPI()
    app.include_router(make_router(folder))
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


def envelope(response: httpx.Response, action: str) -> object:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"help", "success", "result"} and body["success"] is True
    assert body["help"].endswith(f"/api/3/action/help_show?name={action}")
    return body["result"]


def test_ckan_actions(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        names = envelope(http.get("/api/3/action/package_list"), "package_list")
        assert "members-by-ward" in names and len(names) == 14
        pkg = envelope(http.get("/api/3/action/package_show", params={"id": "members-by-ward"}), "package_show")
        assert set(pkg) >= PACKAGE_FIELDS
        assert pkg["num_resources"] == len(pkg["resources"]) == 3
        assert {r["format"] for r in pkg["resources"]} == {"CSV", "JSON", "PARQUET"}
        assert all(set(r) >= RESOURCE_FIELDS for r in pkg["resources"])
        assert envelope(http.get("/api/3/action/package_show", params={"id": pkg["id"]}), "package_show") == pkg
        missing = http.get("/api/3/action/package_show", params={"id": "nope"})
        assert missing.status_code == 404
        assert missing.json()["success"] is False and missing.json()["error"]["__type"] == "Not Found Error"
        found = envelope(http.get("/api/3/action/package_search", params={"q": "relief", "rows": 2}),
                         "package_search")
        assert found["count"] == 4 and len(found["results"]) == 2
        everything = envelope(http.get("/api/3/action/current_package_list_with_resources"),
                              "current_package_list_with_resources")
        assert len(everything) == 14 and all("resources" in p for p in everything)
        csv = http.get(pkg["resources"][0]["url"])  # the resource URL is served by the same server
        assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
        assert http.get("/open-data/..%2F..%2Fwh.db").status_code == 404


def test_catalogue_endpoints_parse(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        ttl = http.get("/open-data/catalog.ttl")
        jsonld = http.get("/open-data/catalog.jsonld")
    assert ttl.headers["content-type"].startswith("text/turtle")
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    g1 = rdflib.Graph().parse(data=ttl.text, format="turtle")
    g2 = rdflib.Graph().parse(data=jsonld.text, format="json-ld")
    hydra = "http://www.w3.org/ns/hydra/core#"
    for g in (g1, g2):  # the Hydra page links name their own format (catalog.ttl?page=1): all else is the same
        for s, p, o in list(g):
            if str(p).startswith(hydra) or str(o).startswith(hydra):
                g.remove((s, p, o))
    assert g1.isomorphic(g2)
    assert any(str(o).startswith(server) for o in g1.objects(None, rdflib.URIRef("http://www.w3.org/ns/dcat#downloadURL")))
