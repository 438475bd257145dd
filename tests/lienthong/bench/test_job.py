"""`lienthong bench job`: the job's steps read from its own log, a run that does not fit reported as such, and the
command writing its section with every run's figures. (The figures are measurements, never asserted.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lienthong.bench.job import STAGES, render, stage_seconds
from lienthong.bench.watch import run_watched

LOG = """\
100.000 lienthong.bench process started
101.000 great_expectations.data_context.types.base Created temporary directory '/tmp/x' for ephemeral docs site
110.500 lienthong.pipeline published members: 1 batches, 1943 inserted, 0 updated (0 deleted), 0 unchanged in 0.50s
112.000 lienthong.warehouse.publishing members: 1943 records republished (entity assigned), publication 2
115.000 lienthong.pipeline match members: {'mode': 'full', 'records': 1943, 'seconds_training': 1.5, 'seconds': 4.2}
115.250 lienthong.jobs quality report written: /tmp/reports/quality.html
118.250 lienthong.jobs open data: 49 files written
"""


def test_each_step_is_read_from_the_timestamps_of_the_jobs_log() -> None:
    stages, match = stage_seconds(LOG.splitlines(), launched=98.0, ended=119.0)
    assert list(stages) == list(STAGES)
    assert stages == pytest.approx(dict(zip(STAGES, [2.0, 10.0, 0.5, 4.5, 0.25, 3.0, 0.75], strict=True)))
    assert match == {"mode": "full", "records": 1943, "seconds_training": 1.5, "seconds": 4.2}


def test_a_step_the_job_never_reached_has_no_figure() -> None:
    lines = LOG.splitlines()[:3]  # stopped while matching
    stages, match = stage_seconds(lines, launched=98.0, ended=130.0)
    assert stages["publish"] == 0.5 and stages["match"] is None and stages["open data"] is None and match == {}


def _run(seconds: float, mib: float, **extra: object) -> dict:
    return {"wall": seconds, "seconds": seconds, "peak_mib": mib, "why": None, **extra}


def test_the_job_is_set_beside_the_faster_of_the_two_dlt_recipes() -> None:
    job = {**_run(50.0, 2000.0), "stages": {}, "counts": {},
           "match": {"seconds_stage_read": 1.0, "seconds_stage_write": 9.5}}
    figures = {"rows": 1000, "csv_mib": 1.0, "limits": {"memory_limit_mib": 1024, "timeout": 60}, "load_before": 1.0,
               "load_after": 1.0, "jobs": {"saved": job, "trained": job},
               "dlt": _run(125.0, 500.0, dlt="1.31.0"), "dlt-arrow": _run(25.0, 400.0, dlt="1.31.0"),
               "floor": _run(3.0, 400.0, parse_seconds=1.0, copy_seconds=2.0),
               "splink": _run(10.0, 1000.0, f1=0.9, precision=1.0, recall=0.8)}
    text = render(figures)
    saved = next(line for line in text.splitlines() if line.startswith("| Liên Thông `lienthong sync`, saved model"))
    assert "| 2.00× | 5.00× |" in saved  # 50 s / 25 s, 2,000 / 400 MiB: the Arrow recipe's, not read_csv's
    assert "given Arrow tables (load only" in text and "its `read_csv` recipe (load only" in text
    assert "saved model: read 1.0 s, train 0.0 s, match 0.0 s, golden 0.0 s, write 9.5 s" in text
    figures["dlt-arrow"] = {"missing": "dlt is not installed"}
    text = render(figures)
    assert "| 0.40× | 4.00× |" in text  # only the other recipe finished: beside it
    assert "| peer: dlt, given Arrow tables | not measured: dlt is not installed |" in text


def test_a_run_past_its_memory_limit_is_stopped_and_reported_not_finished() -> None:
    hog = "import time; block = bytearray(400 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(60)"
    watched = run_watched([sys.executable, "-c", hog], memory_limit_mib=150)
    assert watched.status == "out of memory" and watched.seconds < 60 and "out of memory" in watched.why()


def test_a_failing_run_says_its_last_line() -> None:
    watched = run_watched([sys.executable, "-c", "raise SystemExit('no such file: members.csv')"])
    assert watched.status == "failed" and "no such file: members.csv" in watched.why()


@pytest.mark.bench
@pytest.mark.integration
def test_the_command_writes_its_section_with_every_run(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- bench:hub -->\n## The hub\nkept\n<!-- /bench:hub -->\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "lienthong.cli", "bench", "job", "--rows", "2000", "--out", str(out)],
                         capture_output=True, text=True, timeout=3600, env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert "## The hub\nkept" in text and "<!-- bench:job -->" in text and "### 2,000 rows" in text
    assert "`lienthong bench job --sizes 2000`" in text
    for row in ("| Liên Thông `lienthong sync`, saved model | ", "first run with model training | ",
                "| peer: dlt ", "given Arrow tables (load only",
                "| floor: pyarrow CSV parse + psycopg COPY", "| floor: plain Splink 5"):
        assert row in text
    assert "did not finish" not in text and "not measured" not in text
    assert all(f"| {name} | " in text for name in STAGES)
    assert re.search(r"Left in the warehouse \(saved model\): [1-9][\d,]* published records", text)
