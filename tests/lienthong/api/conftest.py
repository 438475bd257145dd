"""A real API server on 127.0.0.1 (uvicorn in a thread) over a fresh PostgreSQL warehouse, and its keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml

from lienthong.hub import Hub
from lienthong.settings import Settings
from lienthong.warehouse.api_keys import create_key
from lienthong.web.app import create_app
from tests.lienthong.conftest import file_source

PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdef"


@dataclass
class Server:
    url: str
    hub: Hub
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, key: str | None = None, headers: dict[str, str] | None = None) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.tokens[key]}"} if key else {}
        return httpx.Client(base_url=self.url, headers=auth | (headers or {}), timeout=60)

    def key(self, name: str, *scopes: str, organisation: str | None = None, expires_days: float | None = None,
            rate: int | None = None) -> str:
        token = create_key(self.hub.engine, name=name, scopes=list(scopes), organisation=organisation,
                           expires_days=expires_days, rate_per_minute=rate).token
        self.tokens[name] = token
        return token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(pg_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start the API over a new warehouse whose registry has two push sources of members (HLHPN and HND)."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    hubs: list[Hub] = []

    def start(source_overrides: dict | None = None, **settings_overrides) -> Server:
        sources_dir = tmp_path / "sources"
        sources_dir.mkdir(exist_ok=True)
        for sid, org in (("hlhpn_push", "HLHPN"), ("hnd_push", "HND")):
            source = file_source(tmp_path, sid, organisation=org, constants={"organisation": org},
                                 connector={"type": "push"}, **(source_overrides or {}))  # feeds arrive by upload
            (sources_dir / f"{sid}.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
        # Matching after each push republishes the records (entity_id) a moment later: off unless a test asks,
        # so the tests that count versions and cursors read one publication at a time (test_entities.py has it on).
        settings_overrides.setdefault("api_after_publish", False)
        settings = Settings(home=tmp_path / "home", database_url=pg_url, sources_dir=sources_dir,
                            pseudonym_key=PSEUDONYM_KEY, **settings_overrides)
        hub = Hub.open(settings, require_init=False)
        hub.initialise()
        hubs.append(hub)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("the API server did not start")
            time.sleep(0.05)
        servers.append((server, thread))
        return Server(f"http://127.0.0.1:{port}", hub)

    try:
        yield start
    finally:
        for server, thread in servers:
            server.should_exit = True
            thread.join(timeout=30)
        for hub in hubs:
            hub.engine.dispose()  # the app's own engine is disposed by its lifespan


@pytest.fixture
def start_server(pg_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """:func:`serving` for one test."""
    with serving(pg_url, tmp_path) as start:
        yield start


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    """A server with the usual keys: admin, portal, portal_pii, hlhpn (clerk + reader), hnd, feedback_reader."""
    return with_usual_keys(start_server())


def with_usual_keys(s: Server) -> Server:
    """Give ``s`` the usual keys (see :func:`server`)."""
    s.key("admin", "admin")
    s.key("portal", "read:members", "read:feedback")
    s.key("portal_pii", "read:members", "read:pii")
    s.key("hlhpn", "push:hlhpn_push", "read:members", organisation="HLHPN")
    s.key("hnd", "push:hnd_push", "read:members", organisation="HND")
    s.key("feedback_reader", "read:feedback")
    return s
