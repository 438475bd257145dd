"""Trigger a source's sync in Airflow instead of running it here: ``lienthong sync --via-airflow SOURCE``.

When the hub runs under Airflow, a sync started by hand (or, later, by a member organisation's push) must go
through Airflow so that it is scheduled, retried and logged like every other run, and never races the
scheduled run for the source's cursor. Airflow 3's REST API (``/api/v2``) takes a JWT bearer token: either
given (``AIRFLOW_API_TOKEN``), or obtained from the api-server's ``POST /auth/token`` with a user name and
password (``AIRFLOW_API_USERNAME`` / ``AIRFLOW_API_PASSWORD``; the simple auth manager's users, or FAB's).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import httpx

from lienthong.errors import HubError

TIMEOUT_S = 30


class AirflowTriggerError(HubError):
    """Airflow's API refused or could not be reached."""


def dag_id(source_id: str) -> str:
    """The sync DAG of ``source_id`` (see ``lienthong.orchestration.factory``)."""
    return f"sync__{source_id}"


def trigger_via_airflow(
    source_id: str, *, api_url: str, token: str | None = None, conf: dict | None = None, note: str | None = None,
) -> dict:
    """Queue a run of ``sync__<source_id>`` through Airflow's REST API and return the DAG run Airflow created.

    Args:
        source_id: the source whose sync DAG to run.
        api_url: the api-server's base URL (``AIRFLOW_API_URL``), e.g. ``http://localhost:8080``.
        token: a JWT for the API; default ``AIRFLOW_API_TOKEN``, else one obtained with
            ``AIRFLOW_API_USERNAME`` / ``AIRFLOW_API_PASSWORD``.
        conf: the run's ``conf`` (the sync DAGs ignore it; a push may record where it came from).
        note: a note shown on the run in the Airflow UI.

    Returns:
        Airflow's DAG run: ``dag_id``, ``dag_run_id``, ``state`` (``queued``), ...

    Raises:
        AirflowTriggerError: no credentials, Airflow unreachable, login refused, unknown DAG, or any other refusal;
            the message has Airflow's answer and what to do.
    """
    base = api_url.rstrip("/")
    token = token or os.environ.get("AIRFLOW_API_TOKEN") or _login(base)
    dag = dag_id(source_id)
    body = {
        "logical_date": None,  # required key in Airflow 3; null lets Airflow start it now with no data interval
        "conf": conf or {},
        "note": note or f"triggered by lienthong sync --via-airflow at {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}",
    }
    response = _call("post", f"{base}/api/v2/dags/{dag}/dagRuns", json=body,
                     headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 404:
        msg = f"Airflow at {base} has no DAG {dag}: is {source_id!r} in the source registry the DAGs were built from?"
        raise AirflowTriggerError(msg, message_vi=f"Airflow không có DAG {dag}", source_id=source_id)
    if response.status_code in (401, 403):
        msg = (f"Airflow at {base} refused to trigger {dag} (HTTP {response.status_code}): the token is expired or "
               "lacks permission; set AIRFLOW_API_TOKEN or AIRFLOW_API_USERNAME/AIRFLOW_API_PASSWORD")
        raise AirflowTriggerError(msg, message_vi=f"Airflow từ chối chạy {dag}: kiểm tra mã truy cập",
                                  source_id=source_id)
    _raise_for_status(response, f"trigger {dag}")
    return response.json()


def _login(base: str) -> str:
    user, password = os.environ.get("AIRFLOW_API_USERNAME"), os.environ.get("AIRFLOW_API_PASSWORD")
    if not (user and password):
        msg = ("no credentials for Airflow's API: set AIRFLOW_API_TOKEN, or AIRFLOW_API_USERNAME and "
               "AIRFLOW_API_PASSWORD")
        raise AirflowTriggerError(msg, message_vi="Thiếu thông tin đăng nhập Airflow (AIRFLOW_API_TOKEN)")
    response = _call("post", f"{base}/auth/token", json={"username": user, "password": password})
    if response.status_code in (400, 401, 403):
        msg = f"Airflow at {base} refused the login of {user!r} (HTTP {response.status_code}): check the password"
        raise AirflowTriggerError(msg, message_vi=f"Airflow từ chối đăng nhập của {user!r}")
    _raise_for_status(response, "log in")
    return response.json()["access_token"]


def _call(method: str, url: str, **kwargs) -> httpx.Response:
    try:
        return httpx.request(method, url, timeout=TIMEOUT_S, **kwargs)
    except httpx.RequestError as exc:
        msg = f"cannot reach Airflow at {url}: {exc}; is the api-server running and AIRFLOW_API_URL right?"
        raise AirflowTriggerError(msg, message_vi=f"Không kết nối được Airflow tại {url}") from exc


def _raise_for_status(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        msg = f"Airflow could not {what}: HTTP {response.status_code}: {response.text[:500]}"
        raise AirflowTriggerError(msg, message_vi=f"Airflow báo lỗi (HTTP {response.status_code})")
