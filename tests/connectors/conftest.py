"""Fixtures of the connector tests: the simulated member API and one harness per connector kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lienthong.demo.member_api import Faults, MemberApi, serve_member_api
from tests.connectors.connector_harness import FilesHarness, RestHarness, SqlHarness


@pytest.fixture
def member_api() -> Iterator[MemberApi]:
    """The simulated member API with no records, no token and no faults."""
    with serve_member_api([], faults=Faults()) as api:
        yield api


KINDS = ["files", "rest-page", "rest-offset", "rest-cursor", "rest-next_link", "sqlite", "postgresql"]


@pytest.fixture(params=[
    pytest.param(kind, marks=[] if kind == "files" else [pytest.mark.integration]) for kind in KINDS
])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Every connector kind, each against its real source."""
    kind = request.param
    if kind == "files":
        folder = tmp_path / "drop"
        folder.mkdir()
        yield FilesHarness(folder)
    elif kind.startswith("rest-"):
        with serve_member_api([]) as api:
            yield RestHarness(api, kind.removeprefix("rest-"))
    else:
        if kind == "sqlite":
            url, broken = f"sqlite:///{tmp_path / 'members.db'}", f"sqlite:///{tmp_path / 'no' / 'such.db'}"
        else:
            url, broken = request.getfixturevalue("pg_url"), "postgresql+psycopg://postgres@127.0.0.1:1/x"
        sql = SqlHarness(url, kind, broken)
        yield sql
        sql.engine.dispose()
