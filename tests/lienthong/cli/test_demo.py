"""`lienthong demo` end to end, as `make demo` runs it: every source published, reports written, re-run idempotent.

Three demo runs in all (issue 16: it was four): one on the embedded SQLite warehouse, and on PostgreSQL a first run
and a second one over the same warehouse, which must publish nothing new (on both engines, a file landed again
changes nothing: tests/lienthong/test_pipeline.py). Each run is a module fixture, so the checks below are separate
tests without running the demo again. The SQLite run is a real process, as `make demo` starts it; the two on
PostgreSQL run the command's main() in the test process (tests/lienthong/cli/in_process.py)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from lienthong.warehouse.audit import AuditQuery, query_audit
from lienthong.warehouse.queries import batches
from lienthong.warehouse.tables import PUBLISHED, publication
from tests.conftest import new_database
from tests.lienthong.cli.in_process import run_cli

pytestmark = pytest.mark.slow
SOURCES = ("hlhpn_api", "hnd_files", "dtn_db", "feedback_247", "relief_campaigns")


@dataclass
class DemoRun:
    home: Path
    url: str
    first: subprocess.CompletedProcess
    publications: int
    population_queries: int
    report: str  # the quality report of the first run, read before any second run replaces it
    again: subprocess.CompletedProcess | None = None


def _demo(home: Path, url: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_HOME=str(home), COLUMNS="160")
    if url:
        env["LIENTHONG_DATABASE_URL"] = url
        return run_cli("demo", env=env)
    return subprocess.run([sys.executable, "-m", "lienthong.cli", "demo"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def _publications(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(publication)).scalar_one()
    engine.dispose()
    return count


def _population_queries(url: str) -> list[dict]:
    engine = create_engine(url)
    entries = query_audit(engine, AuditQuery(action="population.verify", limit=10_000))
    engine.dispose()
    return entries


def _run_once(home: Path, url: str, *, embedded: bool) -> DemoRun:
    first = _demo(home, None if embedded else url)
    assert first.returncode == 0, first.stderr
    report = (home / "reports" / "latest.html").read_text(encoding="utf-8")
    return DemoRun(home, url, first, _publications(url), len(_population_queries(url)), report)


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    home = tmp_path_factory.mktemp("demo-sqlite") / "var"
    return _run_once(home, f"sqlite:///{home / 'lienthong.db'}", embedded=True)


@pytest.fixture(scope="module")
def postgresql_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    with new_database() as url:
        run = _run_once(tmp_path_factory.mktemp("demo-pg") / "var", url, embedded=False)
        run.again = _demo(run.home, url)
        yield run


def _check_first_run(run: DemoRun) -> None:
    for source in SOURCES:
        assert source in run.first.stdout
    engine = create_engine(run.url)
    with engine.connect() as conn:
        published = {d: conn.execute(select(func.count()).select_from(t)).scalar_one() for d, t in PUBLISHED.items()}
    every = batches(engine)
    engine.dispose()
    assert all(n > 0 for n in published.values()), published
    assert every and all(b["reconciled"] and b["status"] == "published" for b in every)
    assert sum(b["rows_valid"] for b in every if b["dataset"] == "members") >= published["members"]
    report = run.report
    assert report.count("Thiếu Họ và tên") >= 1
    # identity checks against the stand-in population database: every outcome shows, each query audited
    line = re.search(r"hnd_files: ([\d,]+) checked, ([\d,]+) match, ([\d,]+) mismatch .*?, ([\d,]+) not found",
                     " ".join(run.first.stdout.split()))
    assert line, run.first.stdout
    checked, match, mismatch, not_found = (int(n.replace(",", "")) for n in line.groups())
    assert checked == match + mismatch + not_found and min(match, mismatch, not_found) > 0
    assert "Đối chiếu với CSDLQG về dân cư" in report
    assert _population_queries(run.url) and all(
        e["detail"]["purpose"].startswith("Đối chiếu") and e["actor"].startswith("cli:")
        for e in _population_queries(run.url))
    with (run.home / "open-data" / "members_by_province_organisation.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {"province_code", "members", "suppressed"} <= set(rows[0])
    assert not any(r["suppressed"] == "True" and r["members"] for r in rows), "a suppressed cell shows no count"


def test_demo_on_the_embedded_sqlite_warehouse(sqlite_demo: DemoRun) -> None:
    _check_first_run(sqlite_demo)


@pytest.mark.integration
def test_demo_on_postgresql(postgresql_demo: DemoRun) -> None:
    _check_first_run(postgresql_demo)


@pytest.mark.integration
def test_the_same_demo_again_publishes_nothing_new(postgresql_demo: DemoRun) -> None:
    assert postgresql_demo.again is not None and postgresql_demo.again.returncode == 0, postgresql_demo.again.stderr
    assert _publications(postgresql_demo.url) == postgresql_demo.publications, \
        "the same demo data again publishes nothing new"
    assert len(_population_queries(postgresql_demo.url)) == postgresql_demo.population_queries, \
        "nothing new to verify: nothing asked again"
