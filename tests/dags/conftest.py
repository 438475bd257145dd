"""Fixtures for the Airflow tests: Airflow kept in a temp home, and a demo hub over a fresh PostgreSQL warehouse."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Before anything imports Airflow: its home (config, logs) goes to a temp folder, never ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="lienthong-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
BIN = Path(sys.executable).parent  # the venv's airflow and lienthong commands


@dataclass(frozen=True)
class DemoHub:
    home: Path
    database_url: str

    @property
    def env(self) -> dict[str, str]:
        return {"LIENTHONG_HOME": str(self.home), "LIENTHONG_DATABASE_URL": self.database_url}


@pytest.fixture
def demo_hub(pg_url: str, tmp_path: Path) -> DemoHub:
    """The demo sources in ``<home>/demo`` and an initialised warehouse on a fresh PostgreSQL database."""
    from lienthong.demo.environment import prepare_demo
    from lienthong.hub import Hub
    from lienthong.settings import Settings

    home = tmp_path / "home"
    prepare_demo(home / "demo")
    hub = Hub.open(Settings(home=home, database_url=pg_url), require_init=False)
    hub.initialise()
    hub.engine.dispose()
    return DemoHub(home, pg_url)


@pytest.fixture
def hub_env(demo_hub: DemoHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoHub]:
    """``demo_hub`` made the environment of this process, as a worker's would be (settings re-read)."""
    from lienthong.settings import get_settings

    for name, value in demo_hub.env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield demo_hub
    get_settings.cache_clear()
