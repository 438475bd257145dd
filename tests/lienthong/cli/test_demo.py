"""`lienthong demo` end to end, as `make demo` runs it: every source published, reports written, re-run idempotent."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from lienthong.warehouse.audit import AuditQuery, query_audit
from lienthong.warehouse.queries import batches
from lienthong.warehouse.tables import PUBLISHED, publication


def _demo(home: Path, url: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_HOME=str(home), COLUMNS="160")
    if url:
        env["LIENTHONG_DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "lienthong.cli", "demo"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def _check_demo(home: Path, url: str) -> None:
    first = _demo(home, None if url.startswith("sqlite") else url)
    assert first.returncode == 0, first.stderr
    for source in ("hlhpn_api", "hnd_files", "dtn_db", "feedback_247", "relief_campaigns"):
        assert source in first.stdout
    engine = create_engine(url)
    with engine.connect() as conn:
        published = {d: conn.execute(select(func.count()).select_from(t)).scalar_one() for d, t in PUBLISHED.items()}
        publications = conn.execute(select(func.count()).select_from(publication)).scalar_one()
    assert all(n > 0 for n in published.values()), published
    every = batches(engine)
    assert every and all(b["reconciled"] and b["status"] == "published" for b in every)
    assert sum(b["rows_valid"] for b in every if b["dataset"] == "members") >= published["members"]
    report = (home / "reports" / "latest.html").read_text(encoding="utf-8")
    assert report.count("Thiếu Họ và tên") >= 1
    # identity checks against the stand-in population database: every outcome shows, each query audited
    line = re.search(r"hnd_files: ([\d,]+) checked, ([\d,]+) match, ([\d,]+) mismatch .*?, ([\d,]+) not found",
                     " ".join(first.stdout.split()))
    assert line, first.stdout
    checked, match, mismatch, not_found = (int(n.replace(",", "")) for n in line.groups())
    assert checked == match + mismatch + not_found and min(match, mismatch, not_found) > 0
    assert "Đối chiếu với CSDLQG về dân cư" in report
    entries = query_audit(engine, AuditQuery(action="population.verify", limit=10_000))
    assert entries and all(e["detail"]["purpose"].startswith("Đối chiếu") and e["actor"].startswith("cli:")
                           for e in entries)
    with (home / "open-data" / "members_by_province_organisation.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {"province_code", "members", "suppressed"} <= set(rows[0])
    assert not any(r["suppressed"] == "True" and r["members"] for r in rows), "a suppressed cell shows no count"

    again = _demo(home, None if url.startswith("sqlite") else url)
    assert again.returncode == 0, again.stderr
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(publication)).scalar_one() == publications, \
            "the same demo data again publishes nothing new"
    assert len(query_audit(engine, AuditQuery(action="population.verify", limit=10_000))) == len(entries), \
        "nothing new to verify: nothing asked again"
    engine.dispose()


@pytest.mark.slow
def test_demo_on_the_embedded_sqlite_warehouse(tmp_path):
    _check_demo(tmp_path / "var", f"sqlite:///{tmp_path / 'var' / 'lienthong.db'}")


@pytest.mark.slow
@pytest.mark.integration
def test_demo_on_postgresql(tmp_path, pg_url):
    _check_demo(tmp_path / "var", pg_url)
