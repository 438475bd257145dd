"""CKAN package dictionaries of the open tables, so a CKAN portal harvests us with its standard harvester.

Field names follow CKAN's Action API 2.x (``package_show`` result): a *package* per open table with its
*resources* (CSV, JSON, Parquet files), ``license_id``, ``organization``, ``tags``, ``extras``. Derived from
``datapackage.json`` like the DCAT catalogue. Ids are stable UUIDs (uuid5 of the table/file name) because CKAN
harvesters key on them across runs.
"""

from __future__ import annotations

import uuid
from typing import Any

from lienthong.open_data.dcat import tables_of
from lienthong.open_data.formats import PUBLISHER_EN, PUBLISHER_VI

_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://lienthong.mttq.vn/open-data")
ORGANIZATION = {
    "id": str(uuid.uuid5(_NS, "organization")), "name": "mttq-vn", "title": PUBLISHER_VI,
    "description": PUBLISHER_EN, "type": "organization", "is_organization": True, "state": "active",
    "approval_status": "approved", "image_url": "", "created": "2025-07-01T00:00:00",
}


def package_name(table: str) -> str:
    """CKAN names are lowercase alphanumerics, ``-`` and ``_``, 2-100 characters: our table names already are."""
    return table.replace("_", "-")


def packages(package: dict[str, Any], *, base_url: str) -> list[dict[str, Any]]:
    """One CKAN package dict per open table, in the order of the data package."""
    base = base_url.rstrip("/")
    created = package["created"].removesuffix("+00:00")
    licence = package["licenses"][0]
    out = []
    for table, files in tables_of(package).items():
        meta = files[0]["x-lienthong"]
        pkg_id = str(uuid.uuid5(_NS, table))
        tags = sorted({meta["dataset"], *meta["dimensions"], "mat-tran-to-quoc", "open-data"})
        out.append({
            "id": pkg_id, "name": package_name(table), "title": meta["title_vi"], "type": "dataset",
            "notes": f"{meta['description_vi']}\n\n{meta['description_en']}",
            "state": "active", "private": False, "version": package["version"],
            "license_id": "cc-by", "license_title": licence["title"], "license_url": licence["path"],
            "isopen": True, "author": PUBLISHER_VI, "author_email": None, "maintainer": PUBLISHER_VI,
            "maintainer_email": None, "url": f"{base}/open-data/", "metadata_created": created,
            "metadata_modified": created, "owner_org": ORGANIZATION["id"], "organization": ORGANIZATION,
            "groups": [], "relationships_as_object": [], "relationships_as_subject": [],
            "num_tags": len(tags), "tags": [{"id": str(uuid.uuid5(_NS, f"tag:{t}")), "name": t, "display_name": t,
                                             "state": "active", "vocabulary_id": None} for t in tags],
            "extras": [{"key": "title_en", "value": meta["title_en"]},
                       {"key": "dataset", "value": meta["dataset"]},
                       {"key": "suppressed_cells", "value": str(meta["suppressed_cells"])},
                       {"key": "language", "value": "vi,en"}],
            "num_resources": len(files),
            "resources": [{
                "id": str(uuid.uuid5(_NS, f["path"])), "package_id": pkg_id, "position": i,
                "name": f"{meta['title_vi']} ({f['format'].upper()})", "description": meta["description_en"],
                "format": f["format"].upper(), "mimetype": f["mediatype"], "url": f"{base}/open-data/{f['path']}",
                "url_type": None, "size": f["bytes"], "hash": f["hash"], "state": "active",
                "created": created, "last_modified": created, "metadata_modified": created,
                "cache_url": None, "resource_type": None,
            } for i, f in enumerate(files)],
        })
    return out


def search(pkgs: list[dict[str, Any]], *, q: str | None, rows: int, start: int) -> dict[str, Any]:
    """``package_search``: every word of ``q`` must appear in the name, title, notes or tags (CKAN's default
    ``q`` is a Solr text query; plain words cover what harvesters and portals send, ``*:*`` means all)."""
    words = [] if not q or q.strip() in ("*:*", "*") else q.casefold().split()

    def text(p: dict[str, Any]) -> str:
        return " ".join([p["name"], p["title"], p["notes"], *(t["name"] for t in p["tags"])]).casefold()

    found = [p for p in pkgs if all(w in text(p) for w in words)]
    return {"count": len(found), "results": found[start:start + rows], "sort": "score desc, metadata_modified desc",
            "facets": {}, "search_facets": {}}
