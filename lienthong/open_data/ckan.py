"""CKAN package dictionaries of the open tables, so a CKAN portal harvests us with its standard harvester.

Field names follow CKAN's Action API 2.x (``package_show`` result): a *package* per open table with its
*resources* (CSV, JSON, Parquet files), ``license_id``, ``organization``, ``tags``, ``extras``. Derived from
``datapackage.json`` like the DCAT catalogue. Ids are stable UUIDs (uuid5 of the table/file name) because CKAN
harvesters key on them across runs.

``package_search`` answers what ckanext-harvest's CKAN harvester sends (shared/NATIONAL_PLATFORMS.md, "CKAN
harvesting"): ``rows=100&start=N&sort=id asc&fq=metadata_modified:[<since>Z TO *]``. Every sort ends on ``id``,
so pages never overlap or repeat; ``metadata_modified`` is the table's own last change (set by the build).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from lienthong.open_data.dcat import table_dates, tables_of
from lienthong.open_data.formats import PUBLISHER_EN, PUBLISHER_VI

_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://lienthong.mttq.vn/open-data")
PUBLISHER_ORGANISATION = "MTTQ"  # code in catalog/data/organisations.csv of the body publishing the open data
SORTS = {"id asc", "id desc", "name asc", "name desc", "metadata_modified desc", "metadata_modified asc",
         "score desc, metadata_modified desc"}
FQ_FIELDS = ("metadata_modified", "organization", "owner_org", "name", "id")
_FQ_TERM = re.compile(r'(?P<sign>[+-]?)(?P<field>\w+):(?P<value>\[[^\]]*\]|"[^"]*"|\S+)')
_RANGE = re.compile(r"\[\s*(?P<low>\S+)\s+TO\s+(?P<high>\S+)\s*\]")


class SearchError(ValueError):
    """A ``sort`` or ``fq`` this API does not understand (CKAN answers these with a 409 Search Query Error)."""


def organization(agency_id: str | None = None, *, package_count: int | None = None) -> dict[str, Any]:
    """The publishing organisation as CKAN shows it; its agency identifier (QĐ 20/2020) in ``extras``."""
    org: dict[str, Any] = {
        "id": str(uuid.uuid5(_NS, "organization")), "name": "mttq-vn", "title": PUBLISHER_VI,
        "display_name": PUBLISHER_VI, "description": PUBLISHER_EN, "type": "organization", "is_organization": True,
        "state": "active", "approval_status": "approved", "image_url": "", "created": "2025-07-01T00:00:00",
        "extras": [{"key": "agency_id", "value": agency_id}] if agency_id else [],
    }
    if package_count is not None:
        org["package_count"] = package_count
    return org


def package_name(table: str) -> str:
    """CKAN names are lowercase alphanumerics, ``-`` and ``_``, 2-100 characters: our table names already are."""
    return table.replace("_", "-")


def ckan_time(text: str) -> str:
    """CKAN's timestamps: UTC without an offset (``2025-07-01T03:04:05``)."""
    return parse_instant(text).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def packages(package: dict[str, Any], *, base_url: str, agency_id: str | None = None) -> list[dict[str, Any]]:
    """One CKAN package dict per open table, in the order of the data package."""
    base = base_url.rstrip("/")
    licence = package["licenses"][0]
    org = organization(agency_id)
    out = []
    for table, files in tables_of(package).items():
        meta = files[0]["x-lienthong"]
        issued, modified = (ckan_time(d) for d in table_dates(meta, package))
        pkg_id = str(uuid.uuid5(_NS, table))
        tags = sorted({meta["dataset"], *meta["dimensions"], "mat-tran-to-quoc", "open-data"})
        out.append({
            "id": pkg_id, "name": package_name(table), "title": meta["title_vi"], "type": "dataset",
            "notes": f"{meta['description_vi']}\n\n{meta['description_en']}",
            "state": "active", "private": False, "version": package["version"],
            "license_id": "cc-by", "license_title": licence["title"], "license_url": licence["path"],
            "isopen": True, "author": PUBLISHER_VI, "author_email": None, "maintainer": PUBLISHER_VI,
            "maintainer_email": None, "url": f"{base}/open-data/", "metadata_created": issued,
            "metadata_modified": modified, "owner_org": org["id"], "organization": org,
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
                "created": issued, "last_modified": modified, "metadata_modified": modified,
                "cache_url": None, "resource_type": None,
            } for i, f in enumerate(files)],
        })
    return out


def search(pkgs: list[dict[str, Any]], *, q: str | None, rows: int, start: int, sort: str | None = None,
           fq: str | None = None) -> dict[str, Any]:
    """``package_search``: every word of ``q`` must appear in the name, title, notes or tags (CKAN's default
    ``q`` is a Solr text query; plain words cover what harvesters and portals send, ``*:*`` means all), every
    ``fq`` term must hold, then ``sort`` (default ``score desc, metadata_modified desc``; ties by id).

    Raises:
        SearchError: an unknown sort, or an ``fq`` term on a field this API does not filter on.
    """
    words = [] if not q or q.strip() in ("*:*", "*") else q.casefold().split()

    def text(p: dict[str, Any]) -> str:
        return " ".join([p["name"], p["title"], p["notes"], *(t["name"] for t in p["tags"])]).casefold()

    keep = _fq(fq)
    found = [p for p in pkgs if all(w in text(p) for w in words) and keep(p)]
    order = " ".join((sort or "score desc, metadata_modified desc").split())
    if order not in SORTS:
        raise SearchError(f"cannot sort by {sort!r}; supported: {'; '.join(sorted(SORTS))}")
    found.sort(key=lambda p: p["id"])  # the tie-break of every order: a page boundary never splits ties twice
    field, direction = order.removeprefix("score desc, ").split()
    found.sort(key=lambda p: p[field], reverse=direction == "desc")
    return {"count": len(found), "results": found[start:start + rows], "sort": order, "facets": {},
            "search_facets": {}}


def _fq(fq: str | None):  # noqa: ANN202 - a predicate over package dicts
    """Solr filter terms joined by spaces (AND), e.g. ``metadata_modified:[2020-01-01T00:00:00Z TO *]``."""
    tests = []
    rest = fq or ""
    for m in _FQ_TERM.finditer(rest):
        field, value, negate = m["field"], m["value"].strip('"'), m["sign"] == "-"
        if field not in FQ_FIELDS:
            raise SearchError(f"fq: cannot filter on {field!r}; supported: {', '.join(FQ_FIELDS)}")
        if field == "metadata_modified":
            tests.append((negate, _in_range(value)))
        elif field in ("organization", "owner_org"):
            tests.append((negate, lambda p, v=value: v in (p["organization"]["name"], p["organization"]["id"])))
        else:
            tests.append((negate, lambda p, f=field, v=value: p[f] == v))
    if _FQ_TERM.sub("", rest).strip(" +"):
        raise SearchError(f"fq: {fq!r} is not a list of field:value terms")
    return lambda p: all(test(p) != negate for negate, test in tests)


def _in_range(value: str):  # noqa: ANN202
    m = _RANGE.fullmatch(value)
    if not m:
        raise SearchError(f"fq: metadata_modified needs a range [<from> TO <to>], not {value!r}")
    low, high = (None if v == "*" else parse_instant(v) for v in (m["low"], m["high"]))
    return lambda p: (low is None or parse_instant(p["metadata_modified"]) >= low) and \
        (high is None or parse_instant(p["metadata_modified"]) <= high)


def parse_instant(text: str) -> datetime:
    """An ISO date or timestamp (``Z``, an offset or none: UTC); ``NOW`` is now."""
    if text.upper().startswith("NOW"):
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SearchError(f"not an ISO 8601 date or timestamp: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
