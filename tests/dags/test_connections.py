"""Connector secrets from an Airflow Connection ``lienthong_<source_id>``, exported as the variable the YAML names."""

from __future__ import annotations

import os

import pytest

from lienthong.orchestration.connections import connection_id, export_connection_secrets, secret_variables
from lienthong.registry import SourceConfig, load_registry
from lienthong.settings import get_settings


@pytest.fixture(scope="module")
def registry() -> dict[str, SourceConfig]:
    return load_registry(get_settings().sources_dir)


def _sql_source_with_url_env(registry: dict[str, SourceConfig]) -> SourceConfig:
    raw = registry["dtn_db"].model_dump(mode="json")
    raw["connector"] = {**raw["connector"], "url": None, "url_env": "LIENTHONG_TEST_DTN_URL"}
    return SourceConfig.model_validate(raw)


def test_secret_variables_are_the_ones_the_yaml_names(registry) -> None:
    assert secret_variables(registry["hlhpn_api"]) == {"LIENTHONG_DEMO_API_TOKEN": "password"}
    assert secret_variables(registry["hnd_files"]) == {}
    assert secret_variables(_sql_source_with_url_env(registry)) == {"LIENTHONG_TEST_DTN_URL": "uri"}


def test_airflow_connection_sets_the_token(registry, monkeypatch: pytest.MonkeyPatch) -> None:
    # Airflow's own lookup (the environment backend here; the metadata DB or Vault in a deployment).
    monkeypatch.setenv("AIRFLOW_CONN_LIENTHONG_HLHPN_API", "http://:s3cret-token-value@member-api.example:8765")
    monkeypatch.setenv("LIENTHONG_DEMO_API_TOKEN", "stale")
    assert export_connection_secrets(registry["hlhpn_api"]) == ["LIENTHONG_DEMO_API_TOKEN"]
    assert os.environ["LIENTHONG_DEMO_API_TOKEN"] == "s3cret-token-value"


def test_airflow_connection_sets_a_database_url(registry, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _sql_source_with_url_env(registry)
    url = "postgresql+psycopg://ccb:pa%40ss@db.example:5432/hoivien"
    monkeypatch.setenv("AIRFLOW_CONN_LIENTHONG_DTN_DB", url)
    monkeypatch.delenv("LIENTHONG_TEST_DTN_URL", raising=False)
    assert export_connection_secrets(source) == ["LIENTHONG_TEST_DTN_URL"]
    assert os.environ["LIENTHONG_TEST_DTN_URL"] == url


def test_without_a_connection_the_environment_is_left_alone(registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_LIENTHONG_HLHPN_API", raising=False)
    monkeypatch.setenv("LIENTHONG_DEMO_API_TOKEN", "from-the-worker-env")
    assert export_connection_secrets(registry["hlhpn_api"]) == []
    assert os.environ["LIENTHONG_DEMO_API_TOKEN"] == "from-the-worker-env"


def test_sources_without_secrets_never_look_up_a_connection(registry) -> None:
    def fail(conn_id: str):
        raise AssertionError(f"looked up {conn_id}")

    assert export_connection_secrets(registry["hnd_files"], get_connection=fail) == []
    assert connection_id("hnd_files") == "lienthong_hnd_files"
