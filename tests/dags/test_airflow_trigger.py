"""``trigger_via_airflow`` against a local stand-in of Airflow 3's api-server (``/auth/token``, ``/api/v2``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lienthong.orchestration.airflow_trigger import AirflowTriggerError, trigger_via_airflow

pytestmark = pytest.mark.integration

USER, PASSWORD, TOKEN = "admin", "pw-for-tests", "jwt-for-tests"
DAGS = {"sync__dtn_db"}


class FakeAirflow(BaseHTTPRequestHandler):
    """Answers as Airflow 3.3's simple auth manager and public API do (see airflow/api_fastapi)."""

    calls: list[tuple[str, dict, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        self.calls.append((self.path, dict(self.headers), body))
        if self.path == "/auth/token":
            if body == {"username": USER, "password": PASSWORD}:
                return self._reply(201, {"access_token": TOKEN})
            return self._reply(401, {"detail": "Invalid credentials"})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, {"detail": "Not authenticated"})
        parts = self.path.strip("/").split("/")  # api v2 dags <dag_id> dagRuns
        if parts[:3] != ["api", "v2", "dags"] or parts[4:] != ["dagRuns"]:
            return self._reply(404, {"detail": "Not Found"})
        if parts[3] not in DAGS:
            return self._reply(404, {"detail": f"The Dag with dag_id: `{parts[3]}` was not found"})
        if "logical_date" not in body:
            return self._reply(422, {"detail": "logical_date: Field required"})
        return self._reply(200, {"dag_id": parts[3], "dag_run_id": "manual__2026-01-01T00:00:00+00:00",
                                 "state": "queued", "conf": body["conf"], "note": body["note"]})

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def airflow_url() -> Iterator[str]:
    FakeAirflow.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIRFLOW_API_TOKEN", "AIRFLOW_API_USERNAME", "AIRFLOW_API_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def test_logs_in_with_user_and_password_then_triggers(airflow_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_API_USERNAME", USER)
    monkeypatch.setenv("AIRFLOW_API_PASSWORD", PASSWORD)
    run = trigger_via_airflow("dtn_db", api_url=airflow_url + "/", token=None, conf={"pushed_by": "DTN"})
    assert run["dag_id"] == "sync__dtn_db" and run["state"] == "queued"
    assert [c[0] for c in FakeAirflow.calls] == ["/auth/token", "/api/v2/dags/sync__dtn_db/dagRuns"]
    body = FakeAirflow.calls[1][2]
    assert body["logical_date"] is None and body["conf"] == {"pushed_by": "DTN"}


def test_a_token_from_the_environment_skips_the_login(airflow_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_API_TOKEN", TOKEN)
    assert trigger_via_airflow("dtn_db", api_url=airflow_url, token=None)["state"] == "queued"
    assert [c[0] for c in FakeAirflow.calls] == ["/api/v2/dags/sync__dtn_db/dagRuns"]


def test_unknown_source_says_which_dag_is_missing(airflow_url: str) -> None:
    with pytest.raises(AirflowTriggerError, match="no DAG sync__nope"):
        trigger_via_airflow("nope", api_url=airflow_url, token=TOKEN)


def test_refusals_say_what_to_do(airflow_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AirflowTriggerError, match="AIRFLOW_API_TOKEN"):
        trigger_via_airflow("dtn_db", api_url=airflow_url, token="expired")
    with pytest.raises(AirflowTriggerError, match="no credentials"):
        trigger_via_airflow("dtn_db", api_url=airflow_url, token=None)
    monkeypatch.setenv("AIRFLOW_API_USERNAME", USER)
    monkeypatch.setenv("AIRFLOW_API_PASSWORD", "wrong")
    with pytest.raises(AirflowTriggerError, match="refused the login"):
        trigger_via_airflow("dtn_db", api_url=airflow_url, token=None)


def test_unreachable_airflow() -> None:
    with pytest.raises(AirflowTriggerError, match="cannot reach Airflow"):
        trigger_via_airflow("dtn_db", api_url="http://127.0.0.1:9", token=TOKEN)


def test_sync_via_airflow_from_the_command_line(airflow_url: str, tmp_path) -> None:
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(Path(__file__).parents[2] / "sources" / "dtn_db.yml", sources)
    env = {**os.environ, "AIRFLOW_API_URL": airflow_url, "AIRFLOW_API_TOKEN": TOKEN,
           "LIENTHONG_SOURCES_DIR": str(sources), "LIENTHONG_HOME": str(tmp_path / "home")}
    run = subprocess.run([sys.executable, "-m", "lienthong.cli", "sync", "--via-airflow"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "dtn_db: DAG run manual__" in run.stdout and "queued" in run.stdout
    assert FakeAirflow.calls[-1][0] == "/api/v2/dags/sync__dtn_db/dagRuns"
