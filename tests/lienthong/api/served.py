"""`lienthong serve` as an operator starts it, in its own process, over SQLite or PostgreSQL, with push sources.

The concurrency tests need the real thing: a server process whose worker processes can be killed, and an
embedded SQLite warehouse as well as PostgreSQL (the in-thread server of conftest.py runs on PostgreSQL only).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import yaml

from lienthong.hub import Hub
from lienthong.settings import Settings
from lienthong.warehouse.api_keys import create_key
from tests.lienthong.conftest import file_source

FINAL = ("published", "failed")


@dataclass
class Served:
    url: str
    hub: Hub  # the test's own view of the warehouse
    proc: subprocess.Popen
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, key: str, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120,
                            headers={"Authorization": f"Bearer {self.tokens[key]}", **headers})

    def worker_pids(self) -> list[int]:
        """The workers: the upload parser (spawned by the server) and the processing workers (forked by its fork
        server); not the fork server itself nor multiprocessing's resource tracker."""
        children = psutil.Process(self.proc.pid).children(recursive=True)
        return [p.pid for p in children
                if "spawn_main" in " ".join(p.cmdline())
                or (p.ppid() != self.proc.pid and "multiprocessing.forkserver" in " ".join(p.cmdline()))]

    def descendant_pids(self) -> list[int]:
        """Every process the server started, and theirs (workers, fork server, resource tracker)."""
        return [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)]

    def wait_final(self, source_id: str, batch_ids: set[str], deadline_s: float = 300) -> dict[str, dict]:
        """Poll the batches' reports until every one is published or failed (the deadline only stops a hang)."""
        reports: dict[str, dict] = {}
        deadline = time.monotonic() + deadline_s
        with self.client("admin") as c:
            while time.monotonic() < deadline:
                for batch_id in batch_ids - {b for b, r in reports.items() if r["status"] in FINAL}:
                    r = c.get(f"/api/v1/feeds/{source_id}/batches/{batch_id}")
                    assert r.status_code == 200, r.text
                    reports[batch_id] = r.json()
                if all(reports.get(b, {}).get("status") in FINAL for b in batch_ids):
                    return reports
                time.sleep(0.3)
        msg = f"batches never reached a final state: {[(b, r['status']) for b, r in reports.items()]}"
        raise AssertionError(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(url: str, tmp_path: Path, **env: str) -> Iterator[Served]:
    """A warehouse at ``url`` with push sources hlhpn_push and hnd_push, served by `lienthong serve`."""
    sources_dir = tmp_path / "sources"
    sources_dir.mkdir(exist_ok=True)
    for sid, org in (("hlhpn_push", "HLHPN"), ("hnd_push", "HND")):
        source = file_source(tmp_path, sid, organisation=org, constants={"organisation": org},
                             connector={"type": "push"})
        (sources_dir / f"{sid}.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    settings = Settings(home=tmp_path / "home", database_url=url, sources_dir=sources_dir)
    hub = Hub.open(settings, require_init=False)
    hub.initialise()
    tokens = {"admin": create_key(hub.engine, name="admin", scopes=["admin"], rate_per_minute=10**6).token,
              "hlhpn": create_key(hub.engine, name="hlhpn", scopes=["push:hlhpn_push"], organisation="HLHPN",
                                  rate_per_minute=10**6).token}
    port = _free_port()
    # Matching, the quality report and open data after each push (a Splink run over every published record, which
    # the server's stop then waits for): off unless a test asks, as for the in-thread server of conftest.py.
    env.setdefault("LIENTHONG_API_AFTER_PUBLISH", "false")
    proc_env = {**os.environ, "LIENTHONG_DATABASE_URL": url, "LIENTHONG_HOME": str(tmp_path / "home"),
                "LIENTHONG_SOURCES_DIR": str(sources_dir), **env}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "lienthong.cli", "serve", "--port", str(port)], env=proc_env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                msg = f"lienthong serve did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield Served(base, hub, proc, tokens)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()
        hub.engine.dispose()


def member_rows(prefix: str, n: int) -> list[str]:
    """``n`` valid member rows (the columns of tests.lienthong.conftest.HEADER), ids ``<prefix>0001``…"""
    return [f"{prefix}{i:04d};Nguyễn Thị Hoà;Nữ;01/02/1985;;09123{i:05d};Kinh;Không;00070;Số {i} Hàng Bạc;"
            "Chi hội 1;01/01/2010;active" for i in range(1, n + 1)]
