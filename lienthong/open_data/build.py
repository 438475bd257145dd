"""The open-data stage: published datasets → protected aggregate tables → files, catalogue and charts.

Order matters and is the point of this module: the guard checks the table definitions against the contracts
before any number is computed; each family of tables is suppressed jointly and then *proved* safe by the checker
(a finding stops the build); only then are files written, scanned by the guard once more, and catalogued. The
new release is built in a sibling folder and swapped in, so a reader never sees half of one release.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from catalog.agency_ids import agency_id_of
from catalog.model import CodeList
from lienthong.open_data import charts, ckan, dcat, formats, guard
from lienthong.open_data.aggregates import OPEN_TABLES, Computed, OpenTable, labeller
from lienthong.open_data.counting import count_family
from lienthong.open_data.disclosure import Key, Table, check, suppress
from lienthong.warehouse.tables import PUBLISHED, publication
from schemas import CONTRACTS


@dataclass
class BuiltTable:
    computed: Computed
    published: dict[Key, int | None]
    rows: list[dict]

    @property
    def name(self) -> str:
        return self.computed.table.name


@dataclass
class OpenDataRelease:
    """What :func:`build_open_data` wrote: the tables as published and every file."""

    folder: Path
    tables: dict[str, BuiltTable] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def build_open_data(
    engine: Engine, folder: Path, code_lists: Mapping[str, CodeList], *, threshold: int,
    as_of: date | None = None, base_url: str = "http://127.0.0.1:8080", tables: Iterable[OpenTable] = OPEN_TABLES,
) -> OpenDataRelease:
    """Build the open-data release from the published datasets into ``folder`` (replaced as a whole).

    Args:
        engine: the warehouse.
        folder: where the release goes (``var/open-data``).
        code_lists: current code lists, for labels.
        threshold: smallest count published (``Settings.small_cell_threshold``).
        as_of: date ages are computed at; default today.
        base_url: public address of ``lienthong serve``, for download links in the catalogue.
        tables: the open tables (default all of :data:`OPEN_TABLES`).

    Raises:
        DisclosureError: a table definition or an output would disclose personal data; nothing is replaced.
    """
    tables = list(tables)
    guard.check_tables(tables)
    as_of = as_of or datetime.now(UTC).date()
    staging = folder.with_name(folder.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    release = OpenDataRelease(folder)
    label = labeller(code_lists)
    by_family: dict[str, list[OpenTable]] = defaultdict(list)
    for t in tables:
        by_family[t.family].append(t)
    outputs = []
    for family in sorted(by_family):
        computed = count_family(engine, by_family[family], as_of=as_of)  # one statement per family
        protected = [Table(c.table.name, c.table.cube, dict(c.counts)) for c in computed]
        suppress(protected, threshold)
        findings = check(protected, threshold)
        if findings:
            msg = f"disclosure check failed for {family}: {findings[:5]}"
            raise guard.DisclosureError(msg, message_vi=f"Kiểm tra bảo vệ dữ liệu không đạt cho {family}")
        for c, p in zip(computed, protected, strict=True):
            outputs.append((c, p, formats.table_fields(c), formats.table_rows(c, p.cells, label)))
    guard.check_outputs(engine, {
        dataset: ({f.name for c, _, fields, _ in outputs if c.table.dataset == dataset for f in fields},
                  [v for c, _, _, rows in outputs if c.table.dataset == dataset for r in rows for v in r.values()])
        for dataset in sorted({c.table.dataset for c, *_ in outputs})})
    resources = []
    for c, p, fields, rows in outputs:
        paths = formats.write_table(staging, c.table.name, fields, rows)
        hidden = sum(v is None for v in p.cells.values())
        resources.append(formats.resource_entry(c, fields, paths, staging, len(rows), hidden))
        release.tables[c.table.name] = BuiltTable(c, p.cells, rows)
    previous = _previous_package(folder / "datapackage.json")
    _date_tables(resources, previous=previous, engine=engine)
    chart_files = _charts(staging, release, label, previous=folder, drawn=previous)
    sources = [{"title": f"{c.title_vi} / {c.title_en} (pub_{name})", "path": f"{base_url.rstrip('/')}/api/v1"}
               for name, c in CONTRACTS.items()]
    package = formats.write_datapackage(staging, resources, threshold=threshold, sources=sources,
                                        charts=chart_files)
    dcat.write_catalogue(staging, package, base_url=base_url, agency_id=agency_id_of(ckan.PUBLISHER_ORGANISATION))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    release.files = sorted(p for p in folder.iterdir() if p.is_file())
    return release


def write_open_data(engine: Engine, folder: Path, code_lists: Mapping[str, CodeList], *, threshold: int,
                    base_url: str = "http://127.0.0.1:8080") -> list[Path]:
    """The stage as callers (CLI run, Airflow task) use it: build the release, return the files written."""
    return build_open_data(engine, folder, code_lists, threshold=threshold, base_url=base_url).files


def _previous_package(path: Path) -> dict:
    """The previous release's ``datapackage.json``, or ``{}`` when there is none or it cannot be read."""
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return package if isinstance(package, dict) else {}


def _date_tables(resources: list[dict], *, previous: dict, engine: Engine) -> None:
    """Give each table the dates harvesters key on: ``modified`` moves only when the table's content does.

    A table whose CSV has the SHA-256 it had in the previous release keeps that release's ``modified``; a new or
    changed one takes the moment its dataset last changed (the latest ``updated_at`` of its published records,
    ADR 3), not the build time — so rebuilding the same data, even from scratch, keeps every date. ``issued`` is
    when the table first appeared. Harvesters (ckanext-harvest's ``fq=metadata_modified:[since TO *]``, DCAT's
    ``modified_since``) then fetch only what really changed.
    """
    try:
        before = {r["x-lienthong"]["table"]: r["x-lienthong"] for r in previous.get("resources", ())
                  if "x-lienthong" in r}
    except (KeyError, TypeError):
        before = {}  # an unreadable previous release: dates restart from the data's own
    changed_at: dict[str, str] = {}
    for resource in resources:
        meta = resource["x-lienthong"]
        sha = resource["hash"]
        prior = before.get(meta["table"], {})
        if prior.get("content_hash") == sha and prior.get("modified"):
            meta["modified"] = prior["modified"]
        else:
            if meta["dataset"] not in changed_at:
                changed_at[meta["dataset"]] = _last_change(engine, meta["dataset"])
            meta["modified"] = changed_at[meta["dataset"]]
        meta["issued"] = prior.get("issued") or meta["modified"]
        meta["content_hash"] = sha


def _last_change(engine: Engine, dataset: str) -> str:
    """When ``dataset`` last changed: its newest record's ``updated_at``, else its last publication (all
    records deleted), else now (never published: nothing older to point at)."""
    table = PUBLISHED[dataset]
    with engine.connect() as conn:
        last = conn.execute(select(func.max(table.c.updated_at))).scalar_one_or_none()
        if last is None:
            last = conn.execute(select(func.max(publication.c.published_at))
                                .where(publication.c.dataset == dataset)).scalar_one_or_none()
    if last is None:
        last = datetime.now(UTC)
    elif last.tzinfo is None:
        last = last.replace(tzinfo=UTC)  # SQLite hands back the UTC instant without its offset
    return last.astimezone(UTC).isoformat(timespec="seconds")


def _charts(folder: Path, release: OpenDataRelease, label, *, previous: Path,  # noqa: ANN001 - labeller closure
            drawn: dict) -> dict[Path, str]:
    """Draw the charts into ``folder``; each file -> the digest of the figures it shows.

    A chart whose figures have the digest they had in the previous release (``drawn``, its data package) is
    copied from ``previous`` instead of drawn again: the same figures draw the same bytes, and drawing costs
    about half a second of CPU per chart.
    """
    before = {r.get("path"): r.get("x-figures-sha256") for r in drawn.get("resources", ()) if isinstance(r, dict)}
    out: dict[Path, str] = {}

    def chart(stem: str, figures: object, draw) -> None:  # noqa: ANN001 - a drawing closure
        digest = charts.figures_digest(stem, figures)
        old = [previous / f"{stem}.{fmt}" for fmt in charts.FORMATS]
        if all(before.get(p.name) == digest and p.is_file() for p in old):
            paths = [Path(shutil.copy2(p, folder / p.name)) for p in old]
        else:
            paths = draw()
        out.update(dict.fromkeys(paths, digest))

    members = release.tables.get("members_by_province_organisation")
    if members:
        totals = {label("province", dict(k)["province"])[0]: v for k, v in members.published.items()
                  if [d for d, _ in k] == ["province"]}
        chart("chart_members_by_province", totals, lambda: charts.members_by_province(folder, totals))
    donations = release.tables.get("relief_donations_by_campaign_province")
    support = release.tables.get("relief_support_by_campaign_province")
    if donations and support:
        def money(t: BuiltTable) -> dict[str, int | None]:
            return {r["campaign_name"]: r["amount_vnd"] for r in t.rows
                    if r["province_code"] == "total" and r["campaign_code"] != "total"}
        given, spent = money(donations), money(support)
        chart("chart_relief_by_campaign", [given, spent], lambda: charts.relief_by_campaign(folder, given, spent))
    return out
