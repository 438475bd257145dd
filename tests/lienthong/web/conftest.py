"""The web pages over a fresh warehouse: an in-process client (fast tests) and a real server + headless Chromium
(end-to-end tests, in test_browser.py). Two push sources of members, one per organisation (HLHPN and HND)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lienthong.hub import Hub
from lienthong.warehouse.api_keys import create_key
from lienthong.web.app import create_app
from tests.lienthong.conftest import HubFactory, file_source

ORGS = (("hlhpn_push", "HLHPN"), ("hnd_push", "HND"))


def push_sources(tmp_path: Path) -> list[dict]:
    return [file_source(tmp_path, sid, organisation=org, constants={"organisation": org}, connector={"type": "push"})
            for sid, org in ORGS]


@dataclass
class Site:
    """An app over a hub, with keys by name; ``client(name)`` is a browser-like client signed in with that key."""

    hub: Hub
    tokens: dict[str, str] = field(default_factory=dict)
    clients: list[TestClient] = field(default_factory=list)
    app_settings: dict = field(default_factory=dict)  # settings of the app that differ from the hub's

    def key(self, name: str, *scopes: str, organisation: str | None = None) -> str:
        self.tokens[name] = create_key(self.hub.engine, name=name, scopes=list(scopes),
                                       organisation=organisation).token
        return self.tokens[name]

    def client(self, key: str | None = None, lang: str | None = None) -> TestClient:
        c = TestClient(create_app(self.hub.settings.model_copy(update=self.app_settings)), follow_redirects=False)
        c.__enter__()
        self.clients.append(c)
        if lang:
            c.cookies.set("lt_lang", lang)
        if key:
            r = c.post("/sign-in", data={"token": self.tokens[key], "next": "/upload",
                                         "form_token": sign_in_form_token(c)})
            assert r.status_code == 303, r.text
        return c


def sign_in_form_token(client: TestClient) -> str:
    """Open the sign-in page as a browser would (it sets the sign-in cookie) and read its form token."""
    page = client.get("/sign-in")
    return re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def site(make_hub: HubFactory, tmp_path: Path) -> Iterator[Site]:
    """A SQLite warehouse with the usual keys: admin, hlhpn (clerk), hnd (clerk), reader (no push scope).

    Matching, the quality report and open data after each upload are off, as for the API tests' server (closing
    the app waits for them; test_jobs_doors.py runs them through the web door)."""
    s = Site(make_hub(push_sources(tmp_path)), app_settings={"api_after_publish": False})
    s.key("admin", "admin")
    s.key("hlhpn", "push:hlhpn_push", "read:members", organisation="HLHPN")
    s.key("hnd", "push:hnd_push", "read:members", organisation="HND")
    s.key("reader", "read:members")
    yield s
    for c in s.clients:
        c.__exit__(None, None, None)
    s.hub.engine.dispose()
