"""Airflow 3 on CeleryExecutor, for real: api-server, scheduler, dag-processor and two Celery workers on one broker.

1. Every ``sync__<source>`` DAG is triggered through the API (the door ``lienthong sync --via-airflow`` uses), the
   ``publish__<dataset>`` DAGs run on the assets the syncs emit; both workers must have run tasks (the task
   instances' hostname in the metadata DB), every batch must reconcile and every valid row be published.
2. New rows for the Youth Union registry; while its ``process`` task is between two batches, the worker running it
   is killed with SIGKILL (its whole process group, as when a machine dies). The scheduler sees the heartbeat stop,
   the retry runs on the other worker, and every row is staged exactly once.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import yaml
from services import ScaleTestError, Services, ensure_redis, free_port, fresh_database, wait_for
from sqlalchemy import create_engine, func, select

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
WORKERS = ("scale-worker-1", "scale-worker-2")
KILLED_SOURCE = "dtn_db"
EXTRA_ROWS = 3000  # phase 2: six batches of 500, so that `process` is caught between two of them
TERMINAL = ("success", "failed")


@dataclass
class Airflow:
    """How to reach the running deployment."""

    api: str
    token: str
    metadata_url: str  # psycopg conninfo of Airflow's metadata DB

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = httpx.request(method, f"{self.api}{path}", headers={"Authorization": f"Bearer {self.token}"},
                                 timeout=60, **kwargs)
        if response.status_code >= 400:
            msg = f"Airflow API {method} {path}: HTTP {response.status_code} {response.text[:300]}"
            raise ScaleTestError(msg)
        return response.json()

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.metadata_url) as conn:
            return conn.execute(sql, params).fetchall()


def _sources_for_test(folder: Path) -> list[dict]:
    """The project's registry, run on demand (no cron) with a retry 3 s after a failure instead of minutes."""
    folder.mkdir(parents=True)
    sources = []
    for path in sorted((REPO / "sources").glob("*.yml")):
        source = yaml.safe_load(path.read_text(encoding="utf-8"))
        source["schedule"] = {**source.get("schedule", {}), "cron": None, "retries": 2, "retry_delay_minutes": 0.05}
        (folder / path.name).write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
        sources.append(source)
    return sources


def _environment(home: Path, metadata: str, warehouse: str, broker: str, port: int, api_url: str,
                 api_token: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LIENTHONG_"))}
    result_backend = "db+" + metadata
    return {
        **kept,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        # psycopg 3 for the async engine too (Airflow's default for PostgreSQL is asyncpg, not installed)
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata.replace("+psycopg://", "+psycopg_async://"),
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        # a queue of this run only: other Celery users of the same Redis never see its tasks
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"lienthong-scale-{port}",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager."
                                       "SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "airflow" / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # a killed worker stops heartbeating: its task is failed (then retried) after 30 s, not the default 300 s
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # on a busy machine the api-server may answer a worker after the default 5 s: a task failed for that alone
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "LIENTHONG_HOME": str(home / "hub"),
        "LIENTHONG_DATABASE_URL": warehouse,
        "LIENTHONG_SOURCES_DIR": str(home / "sources"),
        "LIENTHONG_DEMO_API_URL": api_url,
        "LIENTHONG_DEMO_API_TOKEN": api_token,
    }


def _conninfo(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    import subprocess

    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode:
        msg = f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        raise ScaleTestError(msg)


def _start_airflow(running: Services, env: dict[str, str], port: int) -> None:
    airflow = str(BIN / "airflow")
    running.start("api-server", [airflow, "api-server", "--port", str(port), "--host", "127.0.0.1"], env)
    running.start("scheduler", [airflow, "scheduler"], env)
    running.start("dag-processor", [airflow, "dag-processor"], env)
    for name in WORKERS:
        worker_env = {**env, "LIENTHONG_SCALE_WORKER_NAME": name,
                      "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_hostname.hostname"}
        running.start(name, [airflow, "celery", "worker", "--celery-hostname", f"{name}@%h",
                             "--queues", env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"], "--skip-serve-logs"], worker_env)


def _login(api: str, password: str) -> str:
    def token() -> str | None:
        try:
            response = httpx.post(f"{api}/auth/token", json={"username": "admin", "password": password}, timeout=10)
        except httpx.TransportError:
            return None
        return response.json()["access_token"] if response.status_code in (200, 201) else None

    return wait_for("the api-server to log in", token, timeout=240, every=2)


def _runs(af: Airflow, dag_ids: list[str]) -> list[tuple[str, str, str]]:
    return af.query("SELECT dag_id, run_id, state FROM dag_run WHERE dag_id = ANY(%s) ORDER BY id", dag_ids)


def _settled(af: Airflow, dag_ids: list[str], want: dict[str, int]) -> bool:
    """Every run of ``dag_ids`` ended, each DAG in ``want`` has that many runs at least, and no asset event waits."""
    runs = _runs(af, dag_ids)
    count = Counter(d for d, _, _ in runs)
    queued_assets = af.query("SELECT count(*) FROM asset_dag_run_queue")[0][0]
    return (all(state in TERMINAL for _, _, state in runs) and queued_assets == 0
            and all(count[d] >= n for d, n in want.items()))


def _tasks(af: Airflow, dag_ids: list[str]) -> list[tuple]:
    return af.query("SELECT dag_id, run_id, task_id, state, hostname, try_number FROM task_instance "
                    "WHERE dag_id = ANY(%s)", dag_ids)


def _append_rows(database: Path, copies: int) -> int:
    """New members in the Youth Union registry, updated after everything already synced: ``copies`` × its rows."""
    with sqlite3.connect(database) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(doan_vien)")]
        rows = db.execute(f"SELECT {', '.join(columns)} FROM doan_vien").fetchall()  # noqa: S608 - our own table
        key, stamp = columns.index("ma_doan_vien"), columns.index("cap_nhat_luc")
        added = []
        for copy in range(copies):
            for row in rows:
                new = list(row)
                new[key] = f"DX{copy}{row[key][2:]}"
                new[stamp] = f"2026-11-{copy + 1:02d} 08:00:00"
                added.append(new)
        marks = ", ".join("?" for _ in columns)
        db.executemany(f"INSERT INTO doan_vien ({', '.join(columns)}) VALUES ({marks})", added)  # noqa: S608
    return len(added)


def _staged_exactly_once(warehouse: str, source: str) -> tuple[int, int]:
    """Rows of ``source`` staged, then published (staging empties on publish): total and distinct (batch, row)."""
    from sqlalchemy import union_all

    from lienthong.warehouse.tables import PUBLISHED, STAGING

    stg, pub = STAGING["members"], PUBLISHED["members"]
    rows = union_all(select(stg.c.batch_id, stg.c.row_no).where(stg.c.source_id == source),
                     select(pub.c.batch_id, pub.c.row_no).where(pub.c.source_id == source, ~pub.c.deleted)).subquery()
    engine = create_engine(warehouse)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(rows)).scalar_one()
            distinct = conn.execute(select(func.count()).select_from(
                select(rows.c.batch_id, rows.c.row_no).distinct().subquery())).scalar_one()
    finally:
        engine.dispose()
    return total, distinct


def _reconcile(warehouse: str, sources: list[dict]) -> dict[str, int]:
    """Per source: every batch reconciles (read = valid + quarantined); per dataset: every valid row published."""
    from lienthong.warehouse.queries import batches, published_count, quarantined

    engine = create_engine(warehouse)
    totals = Counter()
    try:
        valid_by_dataset = Counter()
        for source in sources:
            landed = batches(engine, source_id=source["id"])
            if not landed or not all(b["reconciled"] for b in landed):
                msg = f"source {source['id']}: batches missing or not reconciled: {landed}"
                raise ScaleTestError(msg)
            quarantine_rows = len(quarantined(engine, source_id=source["id"]))
            if quarantine_rows != sum(b["rows_quarantined"] for b in landed):
                msg = f"source {source['id']}: {quarantine_rows} quarantine rows, batches say otherwise"
                raise ScaleTestError(msg)
            totals["read"] += sum(b["rows_read"] for b in landed)
            totals["quarantined"] += quarantine_rows
            valid_by_dataset[source["dataset"]] += sum(b["rows_valid"] for b in landed)
        for dataset, valid in valid_by_dataset.items():
            published = published_count(engine, dataset)
            if published != valid:
                msg = f"dataset {dataset}: {valid} valid rows staged but {published} published"
                raise ScaleTestError(msg)
            totals["published"] += published
    finally:
        engine.dispose()
    return dict(totals)


def run_celery(workdir: Path) -> str:
    """Run both phases; return the summary line. Raises ``ScaleTestError`` when a check fails."""
    from lienthong.demo.environment import prepare_demo
    from lienthong.demo.member_api import serve_member_api
    from lienthong.orchestration.airflow_trigger import trigger_via_airflow

    with ExitStack() as stack:
        from services import services

        running = stack.enter_context(services(workdir / "logs"))
        broker = ensure_redis(running)
        metadata = stack.enter_context(fresh_database("lt_scale_airflow"))
        warehouse = stack.enter_context(fresh_database("lt_scale_hub"))
        demo = prepare_demo(workdir / "hub" / "demo")
        api_token = secrets.token_urlsafe(16)
        member_api = stack.enter_context(serve_member_api(demo.api_records, token=api_token))
        sources = _sources_for_test(workdir / "sources")
        port = free_port()
        env = _environment(workdir, metadata, warehouse, broker, port, member_api.url, api_token)
        password = secrets.token_urlsafe(12)
        (workdir / "airflow").mkdir(parents=True, exist_ok=True)
        (workdir / "airflow" / "passwords.json").write_text(json.dumps({"admin": password}))
        _run([str(BIN / "airflow"), "db", "migrate"], env, "airflow db migrate")
        _run([str(BIN / "lienthong"), "init"], env, "lienthong init")
        try:
            return _phases(running, env, port, password, metadata, warehouse, sources, demo, trigger_via_airflow)
        except ScaleTestError:
            for name in running.started:
                print(f"--- last lines of {name}.log ---\n{running.tail(name, 25)}", file=sys.stderr)
            raise


def _phases(running, env, port, password, metadata, warehouse, sources, demo, trigger) -> str:  # noqa: PLR0913
    _start_airflow(running, env, port)
    api = f"http://127.0.0.1:{port}"
    af = Airflow(api=api, token=_login(api, password), metadata_url=_conninfo(metadata))
    syncs = [f"sync__{s['id']}" for s in sources]
    publishes = sorted({f"publish__{s['dataset']}" for s in sources})
    dag_ids = syncs + publishes
    wait_for("the dag-processor to parse every DAG",
             lambda: len(af.query("SELECT dag_id FROM dag WHERE dag_id = ANY(%s)", dag_ids)) == len(dag_ids),
             timeout=300, every=2)
    for dag_id in dag_ids:
        af.call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    for source in sources:
        trigger(source["id"], api_url=api, token=af.token, note="make scale-test")

    # phase 1: every sync, then the publish DAGs on their assets
    wait_for("every sync and publish run to finish",
             lambda: _settled(af, dag_ids, {d: 1 for d in dag_ids}), timeout=900, every=3)
    failed = [(d, r, t, s) for d, r, t, s, _, _ in _tasks(af, dag_ids) if s not in ("success", "skipped")]
    if failed:
        msg = f"tasks that did not succeed: {failed}"
        raise ScaleTestError(msg)
    hosts = Counter(h for *_, h, _ in _tasks(af, dag_ids) if h)
    if set(hosts) != set(WORKERS):
        msg = f"tasks ran on {dict(hosts)}, expected both workers {WORKERS}"
        raise ScaleTestError(msg)
    _reconcile(warehouse, sources)

    # phase 2: a worker killed in the middle of `process`
    from lienthong.warehouse.queries import batches

    engine = create_engine(warehouse)
    known = {b["batch_id"] for b in batches(engine, source_id=KILLED_SOURCE)}
    added = _append_rows(demo.dtn_database, EXTRA_ROWS // demo.counts[KILLED_SOURCE])
    run = trigger(KILLED_SOURCE, api_url=api, token=af.token, note="make scale-test: worker killed")
    run_id = run["dag_run_id"]

    def mid_process() -> str | None:
        ti = af.query("SELECT state, hostname FROM task_instance WHERE dag_id = %s AND run_id = %s "
                      "AND task_id = 'process'", f"sync__{KILLED_SOURCE}", run_id)
        if not ti or ti[0][0] != "running" or not ti[0][1]:
            return None
        new = [b["status"] for b in batches(engine, source_id=KILLED_SOURCE) if b["batch_id"] not in known]
        return ti[0][1] if "staged" in new and "landed" in new else None

    victim = wait_for("`process` to be between two batches", mid_process, timeout=600, every=0.1)
    running.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    staged_before_kill = sum(b["status"] == "staged" for b in batches(engine, source_id=KILLED_SOURCE)
                             if b["batch_id"] not in known)
    engine.dispose()
    publishes_before = Counter(d for d, _, _ in _runs(af, ["publish__members"]))["publish__members"]
    wait_for("the killed run to finish and its rows to be published",
             lambda: _settled(af, dag_ids, {f"sync__{KILLED_SOURCE}": 2, "publish__members": publishes_before + 1}),
             timeout=900, every=3)
    recovery = time.monotonic() - killed_at
    state = af.query("SELECT state FROM dag_run WHERE run_id = %s AND dag_id = %s", run_id, f"sync__{KILLED_SOURCE}")
    ti = af.query("SELECT state, hostname, try_number FROM task_instance WHERE dag_id = %s AND run_id = %s "
                  "AND task_id = 'process'", f"sync__{KILLED_SOURCE}", run_id)[0]
    first = af.query("SELECT hostname, state FROM task_instance_history WHERE dag_id = %s AND run_id = %s "
                     "AND task_id = 'process' ORDER BY try_number", f"sync__{KILLED_SOURCE}", run_id)
    survivor = next(w for w in WORKERS if w != victim)
    if state[0][0] != "success" or ti[0] != "success" or ti[1] != survivor or ti[2] < 2 or \
            not first or first[0][0] != victim:
        msg = (f"after killing {victim}: run {state}, process now {ti}, earlier tries {first}; expected a retry "
               f"that succeeded on {survivor}")
        raise ScaleTestError(msg)
    rows, distinct = _staged_exactly_once(warehouse, KILLED_SOURCE)
    totals = _reconcile(warehouse, sources)
    engine = create_engine(warehouse)
    new_batches = [b for b in batches(engine, source_id=KILLED_SOURCE) if b["batch_id"] not in known]
    engine.dispose()
    staged_valid = sum(b["rows_valid"] for b in batches_of(warehouse, KILLED_SOURCE))
    if rows != distinct or rows != staged_valid or sum(b["rows_read"] for b in new_batches) != added:
        msg = (f"{KILLED_SOURCE}: {rows} rows staged or published, {distinct} distinct, {staged_valid} valid; "
               f"{sum(b['rows_read'] for b in new_batches)} of {added} new rows read")
        raise ScaleTestError(msg)
    hosts = Counter(h for *_, h, _ in _tasks(af, dag_ids) if h)
    retried = af.query("SELECT count(*) FROM task_instance WHERE dag_id = ANY(%s) AND try_number > 1", dag_ids)[0][0]
    used = ", ".join(f"{h} {n} tasks" for h, n in sorted(hosts.items()))
    return (f"airflow CeleryExecutor: workers used {len(hosts)} ({used}); "
            f"tasks retried {retried} (process killed on {victim} after {staged_before_kill} of "
            f"{len(new_batches)} batches, retried on {survivor} {recovery:.0f}s later); rows reconciled "
            f"{totals['read']:,} read = {totals['published']:,} published + {totals['quarantined']:,} quarantined, "
            f"{KILLED_SOURCE} staged exactly once ({rows:,} rows)")


def batches_of(warehouse: str, source: str) -> list[dict]:
    from lienthong.warehouse.queries import batches

    engine = create_engine(warehouse)
    try:
        return batches(engine, source_id=source)
    finally:
        engine.dispose()
