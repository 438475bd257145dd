"""`lienthong check` and `lienthong normalize` on hostile files: one clear reason, exit code 2, never a traceback;
JSON and NDJSON files are read as JSON (by the files connector's suffix table).

The commands run in the test process (tests/lienthong/cli/in_process.py), but one through a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from tests.connectors import hostile_files as hf
from tests.lienthong.cli.in_process import run_cli

CASES = ["xlsx-far-cell", "xlsx-row-bomb", "xlsx-header-only", "xlsx-duplicate-header", "csv-header-only",
         "csv-duplicate-header", "csv-bom-only", "csv-nul", "json-deep", "json-not-a-list", "ndjson-deep"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={**os.environ, "COLUMNS": "200"})


def _real_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "lienthong.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.mark.parametrize("command", ["check", "normalize"])
def test_hostile_files_end_the_command_with_exit_2_and_a_reason(tmp_path: Path, command: str) -> None:
    for name in CASES:
        data, _, filename = hf.HOSTILE[name]()
        path = tmp_path / filename
        path.write_bytes(data)
        extra = ["--out", str(tmp_path / "out.csv")] if command == "normalize" else []

        run = _cli(command, str(path), *extra)

        assert run.returncode == 2, f"{name}: {run.returncode} {run.stdout[-500:]} {run.stderr[-500:]}"
        assert "Traceback" not in run.stderr + run.stdout, name
        assert filename in run.stderr and "lỗi:" in run.stderr, name
        assert not (tmp_path / "out.csv").exists(), name


def test_a_hostile_file_ends_a_real_process_with_exit_2_and_a_reason(tmp_path: Path) -> None:
    data, _, filename = hf.HOSTILE["xlsx-row-bomb"]()
    (tmp_path / filename).write_bytes(data)

    run = _real_cli("normalize", str(tmp_path / filename), "--out", str(tmp_path / "out.csv"))

    assert run.returncode == 2, f"{run.returncode} {run.stdout[-500:]} {run.stderr[-500:]}"
    assert "Traceback" not in run.stderr + run.stdout
    assert filename in run.stderr and "lỗi:" in run.stderr
    assert not (tmp_path / "out.csv").exists()


def test_json_and_ndjson_are_read_as_json(tmp_path: Path) -> None:
    records = [{"Họ và tên": "Nguyễn Thị Hoà", "Ngày sinh": "17/05/1990"},
               {"Họ và tên": "Trần Văn Đức", "Ngày sinh": "01/02/1985"}]
    (tmp_path / "a.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "a.ndjson").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records),
                                       encoding="utf-8")
    for name in ("a.json", "a.ndjson"):
        out = tmp_path / f"{name}.csv"
        run = _cli("normalize", str(tmp_path / name), "--out", str(out))
        assert run.returncode == 0, run.stderr
        table = pacsv.read_csv(out)
        assert [str(d) for d in table.column("date_of_birth").to_pylist()] == ["1990-05-17", "1985-02-01"]


def test_an_unknown_suffix_or_missing_file_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    run = _cli("check", str(tmp_path / "a.pdf"))
    assert run.returncode == 2 and "unknown file type" in run.stderr and "Traceback" not in run.stderr
    run = _cli("check", str(tmp_path / "missing.csv"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
