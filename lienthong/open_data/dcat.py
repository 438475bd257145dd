"""The DCAT-AP catalogue of the open tables (JSON-LD, Turtle, RDF/XML), derived from ``datapackage.json``.

One ``dcat:Dataset`` per open table, titles and descriptions tagged ``@vi`` and ``@en``; one ``dcat:Distribution``
per file (CSV, JSON, Parquet) with the EU file-type and IANA media-type IRIs DCAT-AP expects, byte size and
SHA-256. Portals (data.gov.vn harvesters, CKAN's ckanext-dcat, the EU data portal) read either serialisation.
``dct:modified`` is the table's own last change (set by the build from its content), and dataset and
distribution URIs are built from the configured public address, so a harvester's view of a dataset moves only
when the data does (shared/NATIONAL_PLATFORMS.md, "CKAN harvesting").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from lienthong.open_data.formats import PUBLISHER_EN, PUBLISHER_VI

SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
LANG = URIRef("http://publications.europa.eu/resource/authority/language/VIE")
LANG_EN = URIRef("http://publications.europa.eu/resource/authority/language/ENG")
VN = URIRef("http://publications.europa.eu/resource/authority/country/VNM")
_FILE_TYPES = {"csv": "CSV", "json": "JSON", "parquet": "PARQUET"}


def tables_of(package: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every file of each open table (CSV first, then its alternates), each carrying the table's metadata."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in package["resources"]:
        if "x-lienthong" in r:
            out[r["x-lienthong"]["table"]] = [r, *({**a, "x-lienthong": r["x-lienthong"]}
                                                   for a in r.get("x-alternates", ()))]
    return out


def table_dates(meta: dict[str, Any], package: dict[str, Any]) -> tuple[str, str]:
    """(issued, modified) of a table: set by the build from its content (a release before them: its creation)."""
    return meta.get("issued") or package["created"], meta.get("modified") or package["created"]


def catalogue_modified(package: dict[str, Any]) -> str:
    """The catalogue changed when its latest table did."""
    dates = [table_dates(files[0]["x-lienthong"], package)[1] for files in tables_of(package).values()]
    return max(dates, key=_instant) if dates else package["created"]


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Paging:
    """One page of the catalogue, in Hydra's terms: ckanext-dcat's harvester follows ``hydra:next`` (or the
    older ``hydra:nextPage``) of a ``hydra:PagedCollection``; newer readers look for a ``PartialCollectionView``.
    The page node carries both types and both spellings, so either kind of reader pages to the end."""

    current: str
    first: str
    last: str
    next: str | None
    previous: str | None
    total: int
    per_page: int


def catalogue_graph(package: dict[str, Any], *, base_url: str, uri_base: str | None = None,
                    tables: list[str] | None = None, agency_id: str | None = None,
                    paging: Paging | None = None) -> Graph:
    """The DCAT-AP graph of ``package``.

    Args:
        package: the release's ``datapackage.json``.
        base_url: where the files are downloaded from (``<base_url>/open-data/...``).
        uri_base: the base of the catalogue's, datasets' and distributions' URIs — their identity, which
            harvesters match on across runs, so the configured public address rather than the request's;
            default ``base_url``.
        tables: only these tables (one page of the catalogue); default all.
        agency_id: the publisher's electronic agency identifier (QĐ 20/2020/QĐ-TTg), as ``dct:identifier``.
        paging: Hydra paging triples to add.
    """
    base = base_url.rstrip("/")
    ids = (uri_base or base_url).rstrip("/")
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("spdx", SPDX), ("vcard", VCARD),
                       ("hydra", HYDRA)):
        g.bind(prefix, ns)
    catalog = URIRef(f"{ids}/open-data/catalog")
    publisher = URIRef(f"{ids}/open-data/publisher")
    licence = URIRef(package["licenses"][0]["path"])
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(PUBLISHER_VI, lang="vi")))
    g.add((publisher, FOAF.name, Literal(PUBLISHER_EN, lang="en")))
    if agency_id:
        g.add((publisher, DCTERMS.identifier, Literal(agency_id)))
    g.add((catalog, RDF.type, DCAT.Catalog))
    title_vi, title_en = package["title"].split(" / ", 1)
    description_vi, description_en = package["description"].split("\n\n", 1)
    for pred, vi, en in ((DCTERMS.title, title_vi, title_en), (DCTERMS.description, description_vi, description_en)):
        g.add((catalog, pred, Literal(vi, lang="vi")))
        g.add((catalog, pred, Literal(en, lang="en")))
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, DCTERMS.license, licence))
    g.add((catalog, DCTERMS.language, LANG))
    g.add((catalog, DCTERMS.language, LANG_EN))
    g.add((catalog, DCTERMS.modified, Literal(catalogue_modified(package), datatype=XSD.dateTime)))
    g.add((catalog, FOAF.homepage, URIRef(f"{base}/open-data/")))
    for table, resources in tables_of(package).items():
        if tables is not None and table not in tables:
            continue
        meta = resources[0]["x-lienthong"]
        issued, modified = (Literal(d, datatype=XSD.dateTime) for d in table_dates(meta, package))
        ds = URIRef(f"{ids}/open-data/dataset/{table}")
        g.add((catalog, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(table)))
        for pred, key in ((DCTERMS.title, "title"), (DCTERMS.description, "description")):
            g.add((ds, pred, Literal(meta[f"{key}_vi"], lang="vi")))
            g.add((ds, pred, Literal(meta[f"{key}_en"], lang="en")))
        g.add((ds, DCTERMS.publisher, publisher))
        g.add((ds, DCTERMS.license, licence))
        g.add((ds, DCTERMS.issued, issued))
        g.add((ds, DCTERMS.modified, modified))
        g.add((ds, DCTERMS.spatial, VN))
        g.add((ds, DCTERMS.accessRights,
               URIRef("http://publications.europa.eu/resource/authority/access-right/PUBLIC")))
        for word in ("Mặt trận Tổ quốc", meta["dataset"], *meta["dimensions"]):
            g.add((ds, DCAT.keyword, Literal(word)))
        contact = BNode()
        g.add((ds, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Organization))
        g.add((contact, VCARD.fn, Literal(PUBLISHER_VI, lang="vi")))
        for r in resources:
            dist = URIRef(f"{ids}/open-data/{r['path']}#distribution")
            url = URIRef(f"{base}/open-data/{r['path']}")
            g.add((ds, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(f"{meta['title_vi']} ({r['format'].upper()})", lang="vi")))
            g.add((dist, DCTERMS.title, Literal(f"{meta['title_en']} ({r['format'].upper()})", lang="en")))
            g.add((dist, DCAT.accessURL, url))
            g.add((dist, DCAT.downloadURL, url))
            g.add((dist, DCTERMS.format, FILE_TYPE[_FILE_TYPES[r["format"]]]))
            g.add((dist, DCAT.mediaType, URIRef(f"http://www.iana.org/assignments/media-types/{r['mediatype']}")))
            g.add((dist, DCTERMS.modified, modified))
            g.add((dist, DCAT.byteSize, Literal(r["bytes"], datatype=XSD.nonNegativeInteger)))
            g.add((dist, DCTERMS.license, licence))
            checksum = BNode()
            g.add((dist, SPDX.checksum, checksum))
            g.add((checksum, RDF.type, SPDX.Checksum))
            g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
            g.add((checksum, SPDX.checksumValue, Literal(r["hash"].removeprefix("sha256:"), datatype=XSD.hexBinary)))
    if paging is not None:
        _add_paging(g, paging)
    return g


def _add_paging(g: Graph, paging: Paging) -> None:
    page = URIRef(paging.current)
    g.add((page, RDF.type, HYDRA.PartialCollectionView))
    g.add((page, RDF.type, HYDRA.PagedCollection))
    g.add((page, HYDRA.totalItems, Literal(paging.total, datatype=XSD.nonNegativeInteger)))
    g.add((page, HYDRA.itemsPerPage, Literal(paging.per_page, datatype=XSD.nonNegativeInteger)))
    links = ((paging.first, (HYDRA.first, HYDRA.firstPage)), (paging.last, (HYDRA.last, HYDRA.lastPage)),
             (paging.next, (HYDRA.next, HYDRA.nextPage)), (paging.previous, (HYDRA.previous, HYDRA.previousPage)))
    for target, predicates in links:
        if target:
            for predicate in predicates:
                g.add((page, predicate, URIRef(target)))


def write_catalogue(folder: Path, package_path: Path, *, base_url: str, agency_id: str | None = None) -> list[Path]:
    """Write ``catalog.jsonld`` and ``catalog.ttl`` next to the data package."""
    g = catalogue_graph(json.loads(package_path.read_text(encoding="utf-8")), base_url=base_url,
                        agency_id=agency_id)
    paths = [folder / "catalog.jsonld", folder / "catalog.ttl"]
    paths[0].write_text(serialise(g, "json-ld"), encoding="utf-8")
    paths[1].write_text(serialise(g, "turtle"), encoding="utf-8")
    return paths


def serialise(g: Graph, fmt: str) -> str:
    """JSON-LD (with a context naming the vocabularies) or Turtle."""
    if fmt == "json-ld":
        context = {"dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "spdx": str(SPDX),
                   "vcard": str(VCARD), "xsd": str(XSD), "hydra": str(HYDRA)}
        return g.serialize(format="json-ld", context=context, indent=1)
    return g.serialize(format=fmt)
