"""The DCAT-AP catalogue of the open tables (JSON-LD and Turtle), derived from ``datapackage.json``.

One ``dcat:Dataset`` per open table, titles and descriptions tagged ``@vi`` and ``@en``; one ``dcat:Distribution``
per file (CSV, JSON, Parquet) with the EU file-type and IANA media-type IRIs DCAT-AP expects, byte size and
SHA-256. Portals (data.gov.vn harvesters, CKAN's ckanext-dcat, the EU data portal) read either serialisation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from lienthong.open_data.formats import PUBLISHER_EN, PUBLISHER_VI

SPDX = Namespace("http://spdx.org/rdf/terms#")
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


def catalogue_graph(package: dict[str, Any], *, base_url: str) -> Graph:
    """The DCAT-AP graph of ``package``; download links under ``<base_url>/open-data/``."""
    base = base_url.rstrip("/")
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("spdx", SPDX), ("vcard", VCARD)):
        g.bind(prefix, ns)
    catalog = URIRef(f"{base}/open-data/catalog")
    publisher = URIRef(f"{base}/open-data/publisher")
    licence = URIRef(package["licenses"][0]["path"])
    modified = Literal(package["created"], datatype=XSD.dateTime)
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(PUBLISHER_VI, lang="vi")))
    g.add((publisher, FOAF.name, Literal(PUBLISHER_EN, lang="en")))
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
    g.add((catalog, DCTERMS.modified, modified))
    g.add((catalog, FOAF.homepage, URIRef(f"{base}/open-data/")))
    for table, resources in tables_of(package).items():
        meta = resources[0]["x-lienthong"]
        ds = URIRef(f"{base}/open-data/dataset/{table}")
        g.add((catalog, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(table)))
        for pred, key in ((DCTERMS.title, "title"), (DCTERMS.description, "description")):
            g.add((ds, pred, Literal(meta[f"{key}_vi"], lang="vi")))
            g.add((ds, pred, Literal(meta[f"{key}_en"], lang="en")))
        g.add((ds, DCTERMS.publisher, publisher))
        g.add((ds, DCTERMS.license, licence))
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
            dist = URIRef(f"{base}/open-data/{r['path']}#distribution")
            url = URIRef(f"{base}/open-data/{r['path']}")
            g.add((ds, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(f"{meta['title_vi']} ({r['format'].upper()})", lang="vi")))
            g.add((dist, DCTERMS.title, Literal(f"{meta['title_en']} ({r['format'].upper()})", lang="en")))
            g.add((dist, DCAT.accessURL, url))
            g.add((dist, DCAT.downloadURL, url))
            g.add((dist, DCTERMS.format, FILE_TYPE[_FILE_TYPES[r["format"]]]))
            g.add((dist, DCAT.mediaType, URIRef(f"http://www.iana.org/assignments/media-types/{r['mediatype']}")))
            g.add((dist, DCAT.byteSize, Literal(r["bytes"], datatype=XSD.nonNegativeInteger)))
            g.add((dist, DCTERMS.license, licence))
            checksum = BNode()
            g.add((dist, SPDX.checksum, checksum))
            g.add((checksum, RDF.type, SPDX.Checksum))
            g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
            g.add((checksum, SPDX.checksumValue, Literal(r["hash"].removeprefix("sha256:"), datatype=XSD.hexBinary)))
    return g


def write_catalogue(folder: Path, package_path: Path, *, base_url: str) -> list[Path]:
    """Write ``catalog.jsonld`` and ``catalog.ttl`` next to the data package."""
    g = catalogue_graph(json.loads(package_path.read_text(encoding="utf-8")), base_url=base_url)
    paths = [folder / "catalog.jsonld", folder / "catalog.ttl"]
    paths[0].write_text(serialise(g, "json-ld"), encoding="utf-8")
    paths[1].write_text(serialise(g, "turtle"), encoding="utf-8")
    return paths


def serialise(g: Graph, fmt: str) -> str:
    """JSON-LD (with a context naming the vocabularies) or Turtle."""
    if fmt == "json-ld":
        context = {"dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "spdx": str(SPDX),
                   "vcard": str(VCARD), "xsd": str(XSD)}
        return g.serialize(format="json-ld", context=context, indent=1)
    return g.serialize(format=fmt)
