"""The CLI's --home / --database-url travel as Settings, not through os.environ (issue 13 part 7): they reach the
warehouse, the sources' ``${LIENTHONG_HOME}`` paths and the worker processes of `lienthong serve --workers N`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from lienthong.cli.app import app
from lienthong.hub import Hub
from lienthong.settings import Settings, get_settings, use_settings
from tests.lienthong.cli.in_process import run_cli


@pytest.fixture(autouse=True)
def _settings_of_the_environment():
    use_settings(None)
    yield
    use_settings(None)


def _source(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "drop.yml").write_text(yaml.safe_dump({
        "id": "drop", "title": "a file drop", "organisation": "HND", "dataset": "members",
        "connector": {"type": "files", "path": "${LIENTHONG_HOME:-var}/drop",
                      "pattern": "${LIENTHONG_PATTERN:-*.csv}"},
        "mapping": {"member_id": "Mã", "full_name": "Họ và tên", "organisation": "Tổ chức"},
    }, allow_unicode=True), encoding="utf-8")
    return folder


def test_options_choose_the_warehouse_without_touching_the_environment(tmp_path: Path) -> None:
    before = dict(os.environ)
    db = tmp_path / "elsewhere.db"
    result = CliRunner().invoke(app, ["--home", str(tmp_path / "home"), "--database-url", f"sqlite:///{db}", "init"])
    assert result.exit_code == 0, result.output
    assert db.exists() and (tmp_path / "home").is_dir()
    assert dict(os.environ) == before, "the options were written into os.environ"
    assert get_settings().home == tmp_path / "home"


def test_without_options_the_environment_decides_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    CliRunner().invoke(app, ["--home", str(tmp_path / "first"), "sources", "list"])
    monkeypatch.setenv("LIENTHONG_HOME", str(tmp_path / "second"))
    assert CliRunner().invoke(app, ["sources", "list"]).exit_code == 0
    assert get_settings().home == tmp_path / "second"


def test_source_paths_expand_from_the_settings_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIENTHONG_HOME", raising=False)
    monkeypatch.setenv("LIENTHONG_PATTERN", "*.xlsx")  # the environment still answers what the settings do not
    settings = Settings(home=tmp_path / "home", sources_dir=_source(tmp_path / "sources"))
    source = Hub.open(settings, require_init=False).source("drop")
    assert Path(source.connector.path) == tmp_path / "home" / "drop"
    assert source.connector.pattern == "*.xlsx"


def test_source_variables_of_the_settings_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENTHONG_PATTERN", "*.xlsx")
    settings = Settings(home=tmp_path, sources_dir=_source(tmp_path / "sources"),
                        source_variables={"LIENTHONG_PATTERN": "*.ndjson"})
    assert Hub.open(settings, require_init=False).source("drop").connector.pattern == "*.ndjson"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.integration
def test_serve_workers_get_the_options(tmp_path: Path) -> None:
    """`lienthong --home H serve --workers 2` with no LIENTHONG_* variable: the workers serve H's warehouse."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    cli = [sys.executable, "-m", "lienthong.cli", "--home", str(tmp_path / "home")]
    home = ["--home", str(tmp_path / "home")]
    assert run_cli(*home, "init", env=env).returncode == 0  # in this process; `serve` below is the real one
    made = run_cli(*home, "keys", "create", "--scope", "admin", "--name", "test", env=env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1].strip()
    port = _free_port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, ready = time.monotonic() + 60, None
        while time.monotonic() < deadline and ready is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, "the server never became ready"
        for _ in range(4):  # whichever worker answers knows the key made in H's warehouse
            r = httpx.get(f"http://127.0.0.1:{port}/api/v1/datasets", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
    finally:
        server.terminate()
        server.wait(timeout=30)
