"""Start-up imports only what a command uses (issue 16, part 4): `lienthong --help` loads none of the heavy
libraries, and `check` / `normalize` (which validate with Great Expectations, as loading does) load none of Airflow,
Splink, DuckDB, FastAPI, matplotlib or rdflib. Run in a fresh interpreter: what the test process imported does
not count. A correctness test, not a timed one (the figures are in the report of issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Not listed for a file, because Great Expectations imports them itself when installed (check validates with GX, as
# loading does; GX has no setting against it): requests, sqlalchemy, scipy, altair, and pyspark (the `spark` extra).
# httpx is: the connectors import it only when they open a connection.
NEVER_FOR_A_FILE = ["airflow", "splink", "duckdb", "fastapi", "uvicorn", "matplotlib", "rdflib", "httpx", "alembic"]
NOT_FOR_HELP = [*NEVER_FOR_A_FILE, "requests", "great_expectations", "pandas", "sqlalchemy", "jinja2", "pyspark",
                "scipy", "pyarrow"]

PROBE = """
import json, runpy, sys
heavy = json.loads(sys.argv[1])
sys.argv = ["lienthong", *sys.argv[2:]]
try:
    runpy.run_module("lienthong.cli", run_name="__main__")
except SystemExit:
    pass
print("\\n" + json.dumps(sorted(h for h in heavy if h in sys.modules)))
"""


def loaded(heavy: list[str], *args: str, home: Path) -> list[str]:
    """Which of ``heavy`` a fresh interpreter has imported once `lienthong *args` is done."""
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(heavy), *args], capture_output=True, text=True,
                         cwd=ROOT, timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                      "LIENTHONG_HOME": str(home),
                                                      "LIENTHONG_WARM": "0"})
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    assert loaded(NOT_FOR_HELP, "--help", home=tmp_path) == []


@pytest.mark.parametrize("command", ["check", "normalize"])
def test_checking_a_file_imports_only_what_it_uses(command: str, tmp_path: Path) -> None:
    sample = tmp_path / "danh_sach.csv"
    sample.write_text("Họ và tên,Ngày sinh,Số CCCD,Dân tộc\nNguyễn Văn An,01/02/1990,001085012345,Kinh\n"
                      "Lê Thị Hoa,31/02/1990,12,Kinhh\n", encoding="utf-8")
    extra = ["--out", str(tmp_path / "sach.csv")] if command == "normalize" else []
    assert loaded(NEVER_FOR_A_FILE, command, str(sample), *extra, home=tmp_path) == []


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """The probe is not blind: a command that does import SQLAlchemy (`status` opens the warehouse) is seen."""
    assert loaded(["sqlalchemy"], "status", home=tmp_path) == ["sqlalchemy"]


def test_the_server_starts_without_great_expectations() -> None:
    """`lienthong serve`'s app validates only in a web check and in its processing workers (their fork server
    imports it): a server starts without Great Expectations, half of what it imported before (issue 16)."""
    probe = ("import json, sys; import lienthong.cli.api, lienthong.web.app, uvicorn; "
             "print(json.dumps('great_expectations' in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, check=True)
    assert run.stdout.strip() == "false"
