"""The command line as a user runs it: real files, exit codes and messages. The first test runs each command in a
real process (the door as installed); the others run the same ``main()`` in the test process
(tests/lienthong/cli/in_process.py), without a new interpreter's imports per command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, HEADER, file_source, members_csv

LIENTHONG = [sys.executable, "-m", "lienthong.cli"]


def _run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*LIENTHONG, *args], env=env, capture_output=True, text=True, timeout=300, **kw)


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    sources = tmp_path / "sources"
    sources.mkdir()
    drop = tmp_path / "drop"
    drop.mkdir()
    (sources / "hlhpn_files.yml").write_text(yaml.safe_dump(file_source(drop), allow_unicode=True), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_HOME=str(tmp_path / "home"), LIENTHONG_SOURCES_DIR=str(sources), COLUMNS="160")
    return env


@pytest.mark.slow  # six real `lienthong` processes
def test_init_sync_status_and_quarantine_from_the_command_line(cli_env, tmp_path):
    (tmp_path / "drop" / "a.csv").write_text(members_csv(GOOD_ROWS + BAD_ROWS), encoding="utf-8")
    assert _run(["init"], cli_env).returncode == 0
    sync = _run(["sync"], cli_env)
    assert sync.returncode == 0, sync.stderr
    assert "hlhpn_files" in sync.stdout and "quality report" in sync.stdout
    status = _run(["status"], cli_env)
    assert "published" in status.stdout and "yes" in status.stdout
    quarantine = _run(["quarantine", "list"], cli_env)
    assert "Thiếu Họ và tên" in quarantine.stdout
    assert "001185012345" not in quarantine.stdout + _run(["quarantine", "show", "x", "1"], cli_env).stdout
    report = next((tmp_path / "home" / "reports").glob("quality-*.html")).read_text(encoding="utf-8")
    assert "Thiếu Họ và tên" in report
    release = tmp_path / "home" / "open-data"
    assert (release / "members_by_province_organisation.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_bad_input_exits_non_zero_with_a_message_naming_the_file(cli_env, tmp_path):
    (tmp_path / "drop" / "bad.csv").write_text(HEADER + "\nHV001;only;three\n", encoding="utf-8")
    assert _cli(["init"], cli_env).returncode == 0
    sync = _cli(["sync"], cli_env)
    assert sync.returncode != 0
    assert "bad.csv" in sync.stderr and "hlhpn_files" in sync.stdout + sync.stderr


def test_an_unreachable_warehouse_is_a_clear_error(cli_env):
    env = {**cli_env, "LIENTHONG_DATABASE_URL": "postgresql+psycopg://postgres:pw@127.0.0.1:1/nowhere"}
    result = _cli(["status"], env)
    assert result.returncode == 2
    assert "cannot reach the warehouse" in result.stderr and "pw" not in result.stderr


def test_a_new_code_list_version_then_quarantine_retry(cli_env, tmp_path):
    paused = GOOD_ROWS[0].replace("HV001", "HV010").replace(";active", ";paused")
    (tmp_path / "drop" / "a.csv").write_text(members_csv([GOOD_ROWS[0], paused]), encoding="utf-8")
    assert _cli(["init"], cli_env).returncode == 0
    assert _cli(["sync"], cli_env).returncode == 0
    assert "paused" in _cli(["quarantine", "list", "--en"], cli_env).stdout

    new_list = tmp_path / "member_statuses.csv"
    new_list.write_text(
        "code,label_vi,label_en,parent,aliases\nactive,Đang sinh hoạt,Active,,\ntransferred,Đã chuyển sinh hoạt,"
        "Transferred,,\nleft,Thôi sinh hoạt,Left,,\ndeceased,Đã mất,Deceased,,\npaused,Tạm dừng sinh hoạt,Paused,,\n",
        encoding="utf-8",
    )
    broken = tmp_path / "broken.csv"
    broken.write_text("code,label_en\npaused,Paused\n", encoding="utf-8")
    refused = _cli(["catalog", "import", "member_statuses", str(broken), "--version", "2026-12-01"], cli_env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "broken.csv" in refused.stdout and "label_vi" in refused.stdout, "the file and what it lacks are named"
    imported = _cli(["catalog", "import", "member_statuses", str(new_list), "--version", "2026-12-01"], cli_env)
    assert imported.returncode == 0, imported.stderr
    assert "2026-12-01" in _cli(["catalog", "list"], cli_env).stdout
    retry = _cli(["quarantine", "retry"], cli_env)
    assert "1 released, 0 still quarantined" in retry.stdout
    assert "paused" not in _cli(["quarantine", "list"], cli_env).stdout


def test_quarantine_numbers_rows_as_check_and_the_file_do(cli_env, tmp_path):
    """One row numbering everywhere: `quarantine list`/`show` give the row the file shows, as `check --json` does."""
    import json
    import sqlite3

    file = tmp_path / "drop" / "a.csv"
    file.write_text(members_csv(GOOD_ROWS + BAD_ROWS), encoding="utf-8")
    checked = _cli(["check", str(file), "--source", "hlhpn_files", "--json"], cli_env)
    rows = [f["row"] for f in json.loads(checked.stdout)["failing"]]
    assert rows == [len(GOOD_ROWS) + 2 + i for i in range(len(BAD_ROWS))]  # header on line 1, data from line 2
    assert _cli(["init"], cli_env).returncode == 0
    assert _cli(["sync"], cli_env).returncode == 0
    with sqlite3.connect(tmp_path / "home" / "lienthong.db") as db:
        [(batch_id,)] = db.execute("SELECT DISTINCT batch_id FROM quarantine").fetchall()
    listed = _cli(["quarantine", "list"], cli_env).stdout
    for row in rows:
        shown = _cli(["quarantine", "show", batch_id, str(row)], cli_env)
        assert shown.returncode == 0 and json.loads(shown.stdout)["row"] == row, shown.stdout
        assert f" {row} " in listed
