"""No tracebacks for people: every file `check` and `normalize` cannot take is one line, Vietnamese first, exit 2;
anything unexpected is one line naming the log that holds its traceback (exit 1), and --debug shows it.

The files that cannot be taken are tried in the test process (tests/lienthong/cli/in_process.py); the unexpected
error, whose traceback the interpreter prints under --debug, through a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lienthong.cli.in_process import run_cli

WORKTREE = Path(__file__).parents[3]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(WORKTREE), "COLUMNS": "80", "LIENTHONG_HOME": str(home / "home")}


def _real_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lienthong.cli", *args], capture_output=True, text=True,
                          cwd=home, check=False, timeout=300, env=_env(home))


def _files(folder: Path) -> dict[str, Path]:
    (folder / "a_folder.csv").mkdir()
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header_only.csv").write_text("Họ và tên;Ngày sinh\n", encoding="utf-8")
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    return {
        "missing": folder / "missing.csv",
        "folder": folder / "a_folder.csv",
        "empty": folder / "empty.csv",
        "header only": folder / "header_only.csv",
        "unreadable workbook": folder / "broken.xlsx",
    }


@pytest.mark.parametrize("command", ["check", "normalize"])
def test_a_file_that_cannot_be_taken_is_one_line_vietnamese_first(tmp_path: Path, command: str) -> None:
    for case, path in _files(tmp_path).items():
        extra = ["--out", str(tmp_path / "out.csv")] if command == "normalize" else []
        done = run_cli(command, str(path), *extra, env=_env(tmp_path), cwd=tmp_path)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, (case, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout, case
        assert len(lines) == 2 and lines[0].startswith("lỗi: ") and lines[1].startswith("error: "), (case, lines)
        assert str(path.name) in lines[0], case


@pytest.mark.slow  # two real `lienthong` processes
def test_an_unexpected_error_is_one_line_and_its_traceback_is_logged(tmp_path: Path) -> None:
    (tmp_path / "list.csv").write_text("Họ và tên\nNguyễn Thị Hoà\n", encoding="utf-8")
    (tmp_path / "out_is_a_folder").mkdir()  # writing the output there fails in a way no rule foresaw
    done = _real_cli(tmp_path, "normalize", "list.csv", "--out", "out_is_a_folder")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("lỗi: ") and "IsADirectoryError" in lines[0]
    log = tmp_path / "home" / "logs" / "cli-errors.log"
    assert str(log) in lines[0]
    assert "Traceback" in log.read_text(encoding="utf-8") and "normalize list.csv" in log.read_text(encoding="utf-8")

    debug = _real_cli(tmp_path, "--debug", "normalize", "list.csv", "--out", "out_is_a_folder")
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "IsADirectoryError" in debug.stderr
