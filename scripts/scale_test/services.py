"""Processes and servers the scale test starts, and stops again: every one in its own session, ended by its id.

Also the broker (Redis on 127.0.0.1:6379, started when nothing answers there and ``redis-server`` is installed) and
throw-away PostgreSQL databases.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg

DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


class ScaleTestError(RuntimeError):
    """A check of the scale test failed, or something it needs is missing (the message says what to do)."""


def wait_for(what: str, check: Callable[[], object], *, timeout: float, every: float = 1.0) -> object:
    """Poll ``check`` until it returns something truthy; raise ``ScaleTestError`` naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            raise ScaleTestError(msg)
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@dataclass
class Services:
    """The processes of one run; each gets its own process group so that it can be killed with its children."""

    logs: Path
    started: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.started[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to ``name``, every process it forked and their process groups.

        The whole tree, not only the group: Airflow's supervisor puts each task process in a group of its own, so
        killing the worker's group left the task running (and finishing its work) after its worker was "lost".
        """
        proc = self.started[name]
        try:
            tree = [proc.pid, *(child.pid for child in psutil.Process(proc.pid).children(recursive=True))]
        except psutil.NoSuchProcess:
            tree = [proc.pid]
        for pid in tree:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(pid), sig)
            with suppress(ProcessLookupError):
                os.kill(pid, sig)

    def alive(self, name: str) -> bool:
        return self.started[name].poll() is None

    def stop_all(self, grace: float = 20.0) -> None:
        for name in reversed(list(self.started)):
            if self.alive(name):
                self.kill(name, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, proc in self.started.items():
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            self.kill(name, signal.SIGKILL)  # children left behind by a warm shutdown, too
            proc.wait()

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace").splitlines() if path.exists() else []
        return "\n".join(text[-lines:])


@contextmanager
def services(logs: Path) -> Iterator[Services]:
    logs.mkdir(parents=True, exist_ok=True)
    running = Services(logs)
    try:
        yield running
    finally:
        running.stop_all()


def ensure_redis(running: Services) -> str:
    """The broker URL: Redis on 127.0.0.1:6379 if it answers, else one started here with ``redis-server``."""
    url = os.environ.get("LIENTHONG_SCALE_BROKER_URL")
    if url:
        return url
    if not port_answers(6379):
        server = shutil.which("redis-server")
        if server is None:
            msg = ("no Celery broker: nothing answers on 127.0.0.1:6379 and redis-server is not installed; "
                   "install it (Debian: apt-get install redis-server) or set LIENTHONG_SCALE_BROKER_URL to a "
                   "running Redis or RabbitMQ (amqp://...)")
            raise ScaleTestError(msg)
        running.start("redis", [server, "--port", "6379", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                      env=dict(os.environ), cwd=running.logs)
        wait_for("redis-server on 127.0.0.1:6379", lambda: port_answers(6379), timeout=30, every=0.2)
    return "redis://127.0.0.1:6379/11"


def pg_dsn() -> str:
    return os.environ.get("LIENTHONG_TEST_PG_DSN") or DEFAULT_DSN


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new empty PostgreSQL database for this run; its SQLAlchemy URL (psycopg 3). Dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg.conninfo.conninfo_to_dict(pg_dsn())
    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = (f"postgresql+psycopg://{admin.get('user', 'postgres')}@{admin.get('host', '127.0.0.1')}:"
           f"{admin.get('port', 5432)}/{name}")
    try:
        yield url
    finally:
        with psycopg.connect(pg_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
