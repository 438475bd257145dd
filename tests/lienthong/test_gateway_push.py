"""Pushing a published dataset's changes to a gateway API: the stand-in gateway on 127.0.0.1, a real warehouse.

The same token handling as the gateway connector (one refresh on 401, a clear 403, Retry-After on 429, bounded
retries on 5xx); the same view of the records as a key without ``read:pii``; the cursor of the last acknowledged
page when the gateway fails, and a push from it sends the rest once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.gateway import GatewayClient, GatewayToken
from lienthong.cli.runs import run_sources
from lienthong.demo.gateway import App, StandInGateway, serve_gateway
from lienthong.gateway_push import PushFailed, push_changes
from lienthong.hub import Hub
from lienthong.warehouse.audit import AuditQuery, query_audit
from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import GOOD_ROWS, file_source, members_csv

pytestmark = pytest.mark.integration
ROWS = GOOD_ROWS + [
    "HV007;Đặng Thị Yến;Nữ;03/03/1993;;0988000111;Kinh;Không;00070;;Chi hội 3;;active",
    "HV008;Bùi Thị Hương;Nữ;04/04/1994;;0988000222;Kinh;Không;00070;;Chi hội 3;;active",
]


@pytest.fixture
def hub(make_hub, tmp_path: Path) -> Iterator[Hub]:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(ROWS), encoding="utf-8")
    hub = make_hub([file_source(drop)])
    assert run_sources(hub, [hub.source("hlhpn_files")]).exit_code == 0
    yield hub
    hub.engine.dispose()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StandInGateway, App]]:
    with serve_gateway() as gw:
        gw.publish("tiepnhan", [])
        account = gw.add_app("MTTQ_LIENTHONG", {"tiepnhan"})
        monkeypatch.setenv("LGSP_ACCESS_KEY", account.access_key)
        monkeypatch.setenv("LGSP_SECRET_KEY", account.secret)
        yield gw, account


def _client(gw: StandInGateway) -> GatewayClient:
    token = GatewayToken(url=f"{gw.url}/token", app_name="MTTQ_LIENTHONG", access_key_env="LGSP_ACCESS_KEY",
                         secret_key_env="LGSP_SECRET_KEY")
    return GatewayClient(token, max_retries=2, backoff_s=0.001, timeout_s=10)


def test_changes_are_pushed_in_pages_then_nothing_until_something_changes(hub: Hub, gateway) -> None:
    gw, _ = gateway
    result = push_changes(hub, "members", _client(gw), f"{gw.url}/tiepnhan/changes", page_size=2)
    assert (result.pages, result.records) == (3, 5) and gw.token_requests == 1
    bodies = gw.received["tiepnhan"]
    assert [len(b["records"]) for b in bodies] == [2, 2, 1] and bodies[-1]["next"] == result.next
    assert {r["member_id"] for b in bodies for r in b["records"]} == {"HV001", "HV002", "HV003", "HV007", "HV008"}
    assert "full_name" in bodies[0]["withheld"] and "full_name" not in bodies[0]["records"][0], "no read:pii"
    again = push_changes(hub, "members", _client(gw), f"{gw.url}/tiepnhan/changes", since=result.next)
    assert (again.pages, again.records, again.next) == (0, 0, result.next)
    pushes = query_audit(hub.engine, AuditQuery(action="records.push"))
    assert sum(e["records"] for e in pushes) == 5 and all(e["actor"].startswith("cli:gateway-push") for e in pushes)


def test_an_expired_token_is_refreshed_once_and_a_rate_limit_waited_out(hub: Hub, gateway) -> None:
    gw, _ = gateway
    client = _client(gw)
    push_changes(hub, "members", client, f"{gw.url}/tiepnhan/changes", page_size=5)
    gw.expire_tokens()
    gw.rate_limit, gw.rate_window_s = 1, 1.0
    result = push_changes(hub, "members", client, f"{gw.url}/tiepnhan/changes", page_size=2, pii=True)
    assert result.records == 5 and gw.token_requests == 2
    assert gw.api_calls(401) == 1 and gw.api_calls(429) >= 1
    assert gw.received["tiepnhan"][-1]["withheld"] == [], "--pii: identifiers in the clear"


def test_no_right_to_the_api_is_a_clear_error(hub: Hub, gateway) -> None:
    gw, _ = gateway
    gw.publish("khac", [])
    with pytest.raises(PushFailed) as err:
        push_changes(hub, "members", _client(gw), f"{gw.url}/khac/changes")
    assert "has no right to this API" in str(err.value) and err.value.acknowledged is None
    assert "không có quyền gọi API này" in err.value.message_vi


def test_a_failing_gateway_leaves_the_cursor_of_the_last_acknowledged_page(hub: Hub, gateway) -> None:
    gw, _ = gateway
    gw.server_errors, gw.server_errors_from_call = 100, 2  # page 2 never gets through
    with pytest.raises(PushFailed) as err:
        push_changes(hub, "members", _client(gw), f"{gw.url}/tiepnhan/changes", page_size=2)
    assert "failed after 3 attempts, last: HTTP 503" in str(err.value)
    acknowledged = err.value.acknowledged
    assert acknowledged == gw.received["tiepnhan"][0]["next"] and len(gw.received["tiepnhan"]) == 1
    gw.server_errors = 0
    rest = push_changes(hub, "members", _client(gw), f"{gw.url}/tiepnhan/changes", since=acknowledged, page_size=2)
    assert rest.records == 3
    assert sorted(r["member_id"] for b in gw.received["tiepnhan"] for r in b["records"]) == [
        "HV001", "HV002", "HV003", "HV007", "HV008"], "every record once"


def test_gateway_push_from_the_command_line(hub: Hub, gateway) -> None:
    gw, _ = gateway
    env = {**os.environ, "LIENTHONG_DATABASE_URL": hub.settings.warehouse_url,
           "LIENTHONG_SOURCES_DIR": str(hub.settings.sources_dir), "LIENTHONG_HOME": str(hub.settings.home)}
    args = ["gateway", "push", "members", "--url",
            f"{gw.url}/tiepnhan/changes", "--token-url", f"{gw.url}/token", "--app-name", "MTTQ_LIENTHONG",
            "--access-key-env", "LGSP_ACCESS_KEY", "--secret-key-env", "LGSP_SECRET_KEY", "--page-size", "2"]
    done = run_cli(*args, env=env)  # the command's main(), in this process
    assert done.returncode == 0, done.stderr
    assert "5 records of members pushed in 3 pages" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == f"next cursor: {gw.received['tiepnhan'][-1]['next']}"
    refused = run_cli(*args[:4], f"{gw.url}/khac/changes", *args[5:], env=env)
    assert refused.returncode == 1 and "403" in refused.stderr
