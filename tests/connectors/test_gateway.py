"""The gateway connector against the stand-in LGSP/NDXP gateway (a real HTTP server on 127.0.0.1).

Every case the gateway enforces: tokens issued with an expiry and cached until then, an expired token refused with
401 and refreshed exactly once, an API the application has no right to (403), the rate limit (429 + Retry-After),
server errors (bounded retries, then a failed run whose cursor does not move), wrong credentials, missing secrets,
and the secrets coming from an Airflow connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from connectors import build_connector
from connectors.gateway import GatewayConfig
from lienthong.cli.runs import run_sources
from lienthong.demo.gateway import App, StandInGateway, serve_gateway
from lienthong.errors import ConfigError, ExtractError
from lienthong.hub import Hub
from lienthong.orchestration.connections import export_connection_secrets, secret_variables
from lienthong.registry import SourceConfig
from lienthong.settings import Settings
from lienthong.warehouse.landing import get_cursor
from lienthong.warehouse.queries import published_count
from tests.connectors.connector_harness import members

pytestmark = pytest.mark.integration
PAGE = 10


@pytest.fixture
def gateway() -> Iterator[StandInGateway]:
    with serve_gateway() as gw:
        gw.publish("hoivien", members(0, 25))
        gw.publish("tiepdan", members(100, 105))
        yield gw


@pytest.fixture
def app(gateway: StandInGateway, monkeypatch: pytest.MonkeyPatch) -> App:
    """The hub's connection account, allowed to call `hoivien` only; its secrets in the environment."""
    account = gateway.add_app("MTTQ_LIENTHONG", {"hoivien"})
    monkeypatch.setenv("LGSP_ACCESS_KEY", account.access_key)
    monkeypatch.setenv("LGSP_SECRET_KEY", account.secret)
    return account


def _config(gateway: StandInGateway, api: str = "hoivien", **overrides: Any) -> GatewayConfig:
    token = {"url": f"{gateway.url}/token", "app_name": "MTTQ_LIENTHONG", "access_key_env": "LGSP_ACCESS_KEY",
             "secret_key_env": "LGSP_SECRET_KEY", **overrides.pop("token", {})}
    return GatewayConfig.model_validate({
        "url": f"{gateway.url}/{api}/api/members", "token": token, "incremental": {},
        "pagination": {"type": "page", "page_size": PAGE}, "max_retries": 2, "backoff_s": 0.001, "timeout_s": 5,
        **overrides,
    })


def _pull(config: GatewayConfig, cursor: dict | None = None) -> list:
    return list(build_connector(config, source_id="lgsp_hoivien").extract(cursor))


def test_pages_come_with_one_token_and_the_cursor_rides_on_the_last(gateway: StandInGateway, app: App) -> None:
    batches = _pull(_config(gateway))
    assert [b.row_count for b in batches] == [10, 10, 5]
    assert [b.cursor for b in batches[:-1]] == [None, None]
    assert batches[-1].cursor == {"updated_since": max(r["updated_at"] for r in members(0, 25))}
    assert gateway.token_requests == 1 and gateway.api_calls(200) == 3


def test_json_token_request_with_app_name_access_and_secret_key(gateway: StandInGateway, app: App) -> None:
    assert sum(b.row_count for b in _pull(_config(gateway, token={"style": "json"}))) == 25
    assert gateway.token_requests == 1


def test_a_token_is_cached_until_it_expires_across_runs(gateway: StandInGateway, app: App) -> None:
    _pull(_config(gateway))
    _pull(_config(gateway))
    assert gateway.token_requests == 1, "the second run reuses the cached token"


def test_a_token_near_its_expiry_is_not_used(gateway: StandInGateway, app: App) -> None:
    gateway.token_lifetime_s = 20  # shorter than the 30 s margin: every call gets a new token
    _pull(_config(gateway))
    assert gateway.token_requests == gateway.api_calls() == 3
    assert gateway.api_calls(401) == 0, "the client renewed it before the gateway had to refuse it"


def test_an_expired_token_is_refreshed_once_and_the_run_goes_on(gateway: StandInGateway, app: App) -> None:
    _pull(_config(gateway))
    gateway.expire_tokens()  # e.g. the gateway restarted: the cached token is no longer valid there
    assert sum(b.row_count for b in _pull(_config(gateway))) == 25
    assert gateway.token_requests == 2 and gateway.api_calls(401) == 1


def test_a_token_refused_again_after_the_refresh_is_a_clear_error(gateway: StandInGateway, app: App) -> None:
    gateway.token_lifetime_s = 0  # every token is already expired on the gateway
    with pytest.raises(ExtractError) as err:
        _pull(_config(gateway, token={"refresh_margin_s": 0}))
    assert gateway.token_requests == 2, "exactly one refresh"
    assert gateway.api_calls(401) == 2 and gateway.api_calls() == 2, "no retry loop on 401"
    assert "even after a fresh one (HTTP 401)" in str(err.value) and "MTTQ_LIENTHONG" in str(err.value)
    assert "tài khoản kết nối" in err.value.message_vi


def test_an_api_without_a_right_is_a_clear_403(gateway: StandInGateway, app: App) -> None:
    with pytest.raises(ExtractError) as err:
        _pull(_config(gateway, api="tiepdan"))
    assert "HTTP 403: application 'MTTQ_LIENTHONG' has no right to this API" in str(err.value)
    assert "không có quyền gọi API này" in err.value.message_vi
    assert gateway.api_calls(403) == gateway.api_calls() == 1, "a refusal is not retried"


def test_the_rate_limit_is_honoured_by_waiting_retry_after(gateway: StandInGateway, app: App) -> None:
    gateway.rate_limit, gateway.rate_window_s = 2, 1.0
    assert sum(b.row_count for b in _pull(_config(gateway))) == 25
    statuses = [s for _, path, s in gateway.log if path != "/token"]
    assert 429 in statuses
    assert all(not (a == b == 429) for a, b in zip(statuses, statuses[1:], strict=False)), (
        "after a 429 the client waited Retry-After, so its next call was inside a new window")


def test_server_errors_are_retried_a_bounded_number_of_times(gateway: StandInGateway, app: App) -> None:
    gateway.server_errors = 2
    assert sum(b.row_count for b in _pull(_config(gateway))) == 25  # 2 retries were enough
    gateway.server_errors, gateway.server_errors_from_call = 100, 0
    before = gateway.api_calls()
    with pytest.raises(ExtractError) as err:
        _pull(_config(gateway))
    assert gateway.api_calls() - before == 3, "one call and two retries, then the run fails"
    assert "failed after 3 attempts, last: HTTP 503" in str(err.value)


def test_wrong_credentials_are_refused_at_the_token_endpoint(gateway: StandInGateway, app: App,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_SECRET_KEY", "not-the-secret")
    with pytest.raises(ExtractError) as err:
        _pull(_config(gateway))
    assert "refused application 'MTTQ_LIENTHONG' (HTTP 401)" in str(err.value)
    assert "LGSP_ACCESS_KEY" in str(err.value) and "LGSP_SECRET_KEY" in str(err.value)
    assert gateway.api_calls() == 0


def test_a_missing_secret_names_its_variable(gateway: StandInGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LGSP_SECRET_KEY", raising=False)
    monkeypatch.setenv("LGSP_ACCESS_KEY", "ak")
    with pytest.raises(ConfigError, match="LGSP_SECRET_KEY"):
        _pull(_config(gateway))


def _gateway_source(gateway: StandInGateway) -> SourceConfig:
    return SourceConfig.model_validate({
        "id": "lgsp_hoivien", "title": "LGSP", "organisation": "HLHPN", "dataset": "members",
        "connector": _config(gateway).model_dump(exclude={"url"}) | {"url": f"{gateway.url}/hoivien/api/members"},
        "mapping": {"member_id": "id", "full_name": "name", "date_of_birth": "dob", "ward_code": "ward"},
        "constants": {"organisation": "HLHPN"}, "ignore_columns": ["updated_at"],
    })


def test_the_airflow_connection_holds_the_access_key_and_secret(gateway: StandInGateway,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    account = gateway.add_app("MTTQ_LIENTHONG", {"hoivien"})
    source = _gateway_source(gateway)
    assert secret_variables(source) == {"LGSP_ACCESS_KEY": "login", "LGSP_SECRET_KEY": "password"}
    monkeypatch.delenv("LGSP_ACCESS_KEY", raising=False)
    monkeypatch.delenv("LGSP_SECRET_KEY", raising=False)
    connection = SimpleNamespace(login=account.access_key, password=account.secret)
    exported = export_connection_secrets(source, get_connection=lambda conn_id: connection)
    assert sorted(exported) == ["LGSP_ACCESS_KEY", "LGSP_SECRET_KEY"]
    assert sum(b.row_count for b in _pull(_config(gateway))) == 25


def test_a_run_failing_midway_publishes_nothing_and_keeps_the_cursor(gateway: StandInGateway, app: App,
                                                                     tmp_path: Path) -> None:
    records = [{"id": f"M{i:03d}", "name": f"Nguyễn Thị Lan {chr(65 + i)}", "dob": "01/02/1990", "ward": "00070",
                "updated_at": f"2026-10-01T08:00:{i:02d}"} for i in range(25)]
    gateway.publish("hoivien", records)
    source = _gateway_source(gateway).model_dump(mode="json", exclude_none=True)
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "lgsp_hoivien.yml").write_text(yaml.safe_dump(source, allow_unicode=True), "utf-8")
    hub = Hub.open(Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'wh.db'}",
                            sources_dir=tmp_path / "sources"), require_init=False)
    hub.initialise()

    gateway.server_errors, gateway.server_errors_from_call = 100, 3  # page 3 never comes
    failed = run_sources(hub, [hub.source("lgsp_hoivien")])
    assert failed.exit_code == 1 and "HTTP 503" in failed.problems[0].message
    assert published_count(hub.engine, "members") == 0 and get_cursor(hub.engine, "lgsp_hoivien") is None

    gateway.server_errors = 0
    again = run_sources(hub, [hub.source("lgsp_hoivien")])
    assert again.exit_code == 0 and published_count(hub.engine, "members") == 25
    assert get_cursor(hub.engine, "lgsp_hoivien") == {"updated_since": "2026-10-01T08:00:24"}
    hub.engine.dispose()
