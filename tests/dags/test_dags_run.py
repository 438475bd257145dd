"""The documented commands, run for real: ``airflow db migrate``, ``lienthong init``, ``airflow dags test``.

Airflow keeps its metadata in SQLite in a temp AIRFLOW_HOME; the hub's warehouse is the real PostgreSQL. The
demo's Youth Union database (``dtn_db``, a SQL source) needs no server. Then the warehouse is asked what happened.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from lienthong.warehouse.queries import batches, published_count, quarantined, source_cursors
from lienthong.warehouse.tables import publication
from lienthong.warehouse.tables_match import match_link
from tests.dags.conftest import BIN, DAGS_FOLDER, DemoHub
from tests.lienthong.cli.in_process import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _last_run(airflow_db: Path, dag_id: str) -> tuple[str, dict[str, str]]:
    """State of the newest run of ``dag_id`` and of each of its tasks, from Airflow's own metadata DB."""
    with sqlite3.connect(airflow_db) as db:
        run_id, state = db.execute("SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1",
                                   (dag_id,)).fetchone()
        tasks = dict(db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?",
                                (dag_id, run_id)).fetchall())
    return state, tasks


def _asset_events(airflow_db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(airflow_db) as db:
        return db.execute("SELECT a.uri, e.source_dag_id FROM asset_event e JOIN asset a ON a.id = e.asset_id "
                          "ORDER BY e.id").fetchall()


def test_sync_then_publish_with_airflow_dags_test(demo_hub: DemoHub, tmp_path: Path) -> None:
    airflow_home = tmp_path / "airflow"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LIENTHONG_"))},
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **demo_hub.env,
    }
    cwd = DAGS_FOLDER.parent
    _run([str(BIN / "airflow"), "db", "migrate"], env, cwd)
    # idempotent (the fixture initialised it already); in this process: the Airflow commands are the real ones here
    init = run_cli("init", env=env, cwd=cwd)
    assert init.returncode == 0, init.stderr
    airflow_db = airflow_home / "airflow.db"
    engine = create_engine(demo_hub.database_url)
    try:
        # 1. sync: landed, processed, quarantine filled, cursor advanced, staged asset emitted
        _run([str(BIN / "airflow"), "dags", "test", "sync__dtn_db"], env, cwd)
        assert _last_run(airflow_db, "sync__dtn_db") == ("success", {
            "extract_and_land": "success", "process": "success", "commit_cursor": "success",
            "emit_staged": "success", "report_problems": "success"})
        landed = batches(engine, source_id="dtn_db")
        assert len(landed) == 3 and {b["status"] for b in landed} == {"staged"}
        assert all(b["reconciled"] for b in landed) and sum(b["rows_read"] for b in landed) == 1500
        valid = sum(b["rows_valid"] for b in landed)
        assert len(quarantined(engine, source_id="dtn_db")) == sum(b["rows_quarantined"] for b in landed) > 0
        with sqlite3.connect(demo_hub.home / "demo" / "dtn.sqlite") as src:  # the newest row the source has
            newest = src.execute("SELECT cap_nhat_luc, ma_doan_vien FROM doan_vien "
                                 "ORDER BY cap_nhat_luc DESC, ma_doan_vien DESC LIMIT 1").fetchone()
        assert source_cursors(engine)["dtn_db"] == {"watermark": newest[0], "key": newest[1]}
        assert _asset_events(airflow_db) == [("lienthong://warehouse/members/staged", "sync__dtn_db")]

        # 2. publish members: every valid row published, published asset emitted
        _run([str(BIN / "airflow"), "dags", "test", "publish__members"], env, cwd)
        assert _last_run(airflow_db, "publish__members")[0] == "success"
        assert published_count(engine, "members") == valid
        with engine.connect() as conn:  # the match task resolved the published members into entities
            assert conn.execute(select(func.count()).select_from(match_link)).scalar_one() == valid
        assert {b["status"] for b in batches(engine, source_id="dtn_db")} == {"published"}
        assert _asset_events(airflow_db)[-1] == ("lienthong://warehouse/members/published", "publish__members")

        # 3. both again: nothing new landed, staged or published, and no asset event to wake anyone
        cursor = source_cursors(engine)["dtn_db"]
        with engine.connect() as conn:
            publications = conn.execute(select(func.count()).select_from(publication)).scalar_one()
        _run([str(BIN / "airflow"), "dags", "test", "sync__dtn_db"], env, cwd)
        assert _last_run(airflow_db, "sync__dtn_db")[1]["emit_staged"] == "skipped"
        _run([str(BIN / "airflow"), "dags", "test", "publish__members"], env, cwd)
        assert _last_run(airflow_db, "publish__members") == ("success", {"publish": "success",
                                                                         "match": "success",
                                                                         "quality_report": "success",
                                                                         "emit_published": "skipped"})
        assert len(batches(engine, source_id="dtn_db")) == 3
        assert published_count(engine, "members") == valid
        assert source_cursors(engine)["dtn_db"] == cursor
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(publication)).scalar_one() == publications
        assert len(_asset_events(airflow_db)) == 2
    finally:
        engine.dispose()
