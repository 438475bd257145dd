"""`lienthong serve` from the command line, as an operator starts it: one worker, and several."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.lienthong.cli.in_process import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_starts_the_api_over_the_configured_warehouse(pg_url: str, tmp_path: Path, workers: int) -> None:
    env = {**os.environ, "LIENTHONG_DATABASE_URL": pg_url, "LIENTHONG_HOME": str(tmp_path / "home")}
    cli = [sys.executable, "-m", "lienthong.cli"]
    assert run_cli("init", env=env).returncode == 0  # in this process; `serve` is the real one
    port = _free_port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, ready = time.monotonic() + 60, None
        while time.monotonic() < deadline and ready is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, "the server never became ready"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/datasets").status_code == 401  # a key is needed
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code in (200, 303)  # the web pages
    finally:
        server.terminate()
        server.wait(timeout=30)
