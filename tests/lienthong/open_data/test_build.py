"""The open-data release on tempting data: protected, equal to the published data, free of identifiers, valid."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import rdflib
from frictionless import Package, validate
from sqlalchemy import func, select

from lienthong.open_data.aggregates import OPEN_TABLES, TOTAL, OpenTable
from lienthong.open_data.build import build_open_data
from lienthong.open_data.disclosure import Table, check, key_of
from lienthong.open_data.guard import DisclosureError, check_tables
from lienthong.warehouse.tables import PUBLISHED
from tests.lienthong.open_data.conftest import SUBJECT, Fixture

THRESHOLD = 5
SPECS = {t.name: t for t in OPEN_TABLES}


def release(fx: Fixture, tmp_path: Path):  # noqa: ANN201
    return build_open_data(fx.hub.engine, tmp_path / "open-data", fx.hub.code_lists, threshold=THRESHOLD,
                           as_of=date(2026, 1, 1))


def read_back(folder: Path) -> list[Table]:
    """The published tables as a reader gets them: from the CSV files alone."""
    tables = []
    for spec in OPEN_TABLES:
        with (folder / f"{spec.name}.csv").open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        cells = {key_of({d: r[f"{d}_code"] for d in spec.dims if r[f"{d}_code"] != TOTAL}):
                 (None if r["suppressed"] == "true" else int(r[spec.count])) for r in rows}
        tables.append(Table(spec.name, spec.cube, cells))
    return tables


def identifiers(fx: Fixture) -> set[str]:
    found = {SUBJECT["name"], SUBJECT["id"], SUBJECT["phone"]}
    for p in fx.people:
        found |= {p.name, p.id_number, p.phone}
    return found


def test_no_small_cell_and_nothing_recoverable(tempting_read: Fixture, tmp_path: Path) -> None:
    built = release(tempting_read, tmp_path)
    tables = read_back(built.folder)
    families: dict[str, list[Table]] = {}
    for t in tables:
        families.setdefault(SPECS[t.name].family, []).append(t)
    for family in families.values():
        assert check(family, THRESHOLD) == []
    # the tempting cell (3 Tày members in ward 00070, province 01) is hidden wherever it could show
    eth = next(t for t in tables if t.name == "members_by_province_ethnic_group")
    assert eth.cells[key_of({"province": "01", "ethnic_group": "minority"})] is None
    assert eth.cells[key_of({"province": "01", "ethnic_group": "kinh"})] is None  # its complement
    by_eth = next(t for t in tables if t.name == "members_by_ethnicity")
    assert all(v is None or v >= THRESHOLD for v in by_eth.cells.values())


def test_aggregates_equal_the_published_data(tempting_read: Fixture, tmp_path: Path) -> None:
    built = release(tempting_read, tmp_path)
    members = PUBLISHED["members"]
    with tempting_read.hub.engine.connect() as conn:
        truth = dict(conn.execute(select(members.c.province_code, func.count()).where(~members.c.deleted)
                                  .group_by(members.c.province_code)).all())
        relief = PUBLISHED["relief"]
        money = dict(conn.execute(select(relief.c.role, func.sum(relief.c.amount_vnd)).where(~relief.c.deleted)
                                  .group_by(relief.c.role)).all())
    for name, t in built.tables.items():
        spec = SPECS[name]
        if spec.dataset == "members":
            # the grand total may be a complement when a table has one category only (all HLHPN here)
            assert t.published[()] in (sum(truth.values()), None), name
            for province, n in truth.items():
                shown = t.published.get(key_of({"province": province}))
                if "province" in spec.dims:
                    assert shown in (n, None), (name, province)
        for key, value in t.published.items():  # every published count is the true count
            if value is not None:
                assert value == t.computed.counts[key]
    rows = built.tables["relief_donations_by_campaign_province"].rows
    grand = next(r for r in rows if r["campaign_code"] == TOTAL and r["province_code"] == TOTAL)
    assert grand["amount_vnd"] == money["donor"] and grand["donations"] == 8
    support = built.tables["relief_support_by_campaign_organisation"].rows
    assert next(r for r in support if r["campaign_code"] == TOTAL and r["organisation_code"] == TOTAL)[
        "amount_vnd"] == money["beneficiary"]


def test_no_direct_identifier_in_any_output(tempting_read: Fixture, tmp_path: Path) -> None:
    built = release(tempting_read, tmp_path)
    needles = identifiers(tempting_read)
    files = sorted(built.folder.iterdir())
    assert {p.suffix for p in files} >= {".csv", ".json", ".parquet", ".png", ".svg", ".jsonld", ".ttl"}
    for path in files:
        if path.suffix == ".parquet":
            text = json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False)
        elif path.suffix == ".png":
            text = path.read_bytes().decode("latin-1")
        else:
            text = path.read_text(encoding="utf-8-sig")
        for needle in needles:
            assert needle not in text, (path.name, needle)
    header = (built.folder / "members_by_ward.csv").read_bytes()[:3]
    assert header == b"\xef\xbb\xbf"  # BOM, so Excel reads Vietnamese as UTF-8


def test_guard_refuses_identifiers_and_sensitive_by_ward() -> None:
    with pytest.raises(DisclosureError):
        check_tables([OpenTable("bad", "relief", ("campaign",), "x", "x", "x", "x", sums={"n": "id_number"})])
    with pytest.raises(DisclosureError) as err:
        check_tables([OpenTable("bad", "members", ("ward", "ethnicity"), "x", "x", "x", "x")])
    assert "sensitive" in str(err.value) and err.value.message_vi
    check_tables(OPEN_TABLES)


def test_datapackage_validates_and_dcat_parses(tempting_read: Fixture, tmp_path: Path) -> None:
    built = release(tempting_read, tmp_path)
    report = validate(str(built.folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])
    package = Package(str(built.folder / "datapackage.json"))
    assert package.licenses[0]["name"] == "CC-BY-4.0"
    ttl = rdflib.Graph().parse(built.folder / "catalog.ttl", format="turtle")
    jsonld = rdflib.Graph().parse(built.folder / "catalog.jsonld", format="json-ld")
    assert ttl.isomorphic(jsonld)
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    datasets = set(ttl.subjects(rdflib.RDF.type, dcat.Dataset))
    assert len(datasets) == len(OPEN_TABLES)
    langs = {t.language for d in datasets for t in ttl.objects(d, rdflib.namespace.DCTERMS.title)}
    assert langs == {"vi", "en"}
    assert len(set(ttl.subjects(rdflib.RDF.type, dcat.Distribution))) == 3 * len(OPEN_TABLES)
