"""`make scale-test`, run by `make test-all` (CI): the same script, so the suite fails when either engine's run does.

The script starts and checks everything itself (scripts/scale_test: Airflow on CeleryExecutor with two workers,
one killed in the middle of a task; Splink on a Spark standalone cluster against DuckDB); this test runs it as
`make scale-test` does and reads its one line per engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_DSN

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.bench]

REPO = Path(__file__).resolve().parents[2]


def test_scale_test_passes_on_both_engines() -> None:
    env = {**os.environ, "LIENTHONG_TEST_PG_DSN": ADMIN_DSN, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "scale_test")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, f"scale-test failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    lines = done.stdout.strip().splitlines()
    celery = next(line for line in lines if line.startswith("airflow CeleryExecutor:"))
    spark = next(line for line in lines if line.startswith("splink SparkAPI"))
    assert "workers used 2" in celery and "staged exactly once" in celery
    assert "same entity ids on both" in spark
