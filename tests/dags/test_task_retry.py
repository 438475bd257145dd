"""A task killed mid-way and retried repeats no side effect: the engine keys everything by batch identity.

The task bodies are run in order as Airflow would run them (the callables of the parsed DAG), with a crash
injected in ``process`` after the landing and after the first batch was staged; then the task is retried.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from lienthong import pipeline
from lienthong.warehouse.queries import batches, published_count, quarantined, source_cursors
from lienthong.warehouse.tables import STAGING
from tests.dags.conftest import DAGS_FOLDER, DemoHub

pytestmark = pytest.mark.integration

SOURCE = "dtn_db"  # 1,500 rows in three batches of 500


class WorkerKilled(RuntimeError):
    pass


@pytest.fixture
def sync_dag(hub_env: DemoHub):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    return bag.dags[f"sync__{SOURCE}"], bag.dags["publish__members"]


def _callable(dag, task_id: str):
    return dag.get_task(task_id).python_callable


def test_process_killed_after_landing_is_retried_without_duplicates(
    hub_env: DemoHub, sync_dag, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync, publish = sync_dag
    engine = create_engine(hub_env.database_url)
    real_process_batch = pipeline.process_batch
    calls = []

    def dies_on_second_batch(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise WorkerKilled("worker lost while processing the second batch")
        return real_process_batch(*args, **kwargs)

    try:
        landing = _callable(sync, "extract_and_land")()
        assert landing["batches_new"] == 3 and len(landing["batch_ids"]) == 3

        # try 1 of process: dies after the first batch was staged
        monkeypatch.setattr(pipeline, "process_batch", dies_on_second_batch)
        with pytest.raises(WorkerKilled):
            _callable(sync, "process")()
        statuses = [b["status"] for b in batches(engine, source_id=SOURCE)]
        assert statuses == ["staged", "landed", "landed"]
        assert SOURCE not in source_cursors(engine)  # the cursor waits for commit_cursor

        # try 2 of process (Airflow's retry): finishes the two remaining batches, leaves the first alone
        monkeypatch.setattr(pipeline, "process_batch", real_process_batch)
        processed = _callable(sync, "process")()
        assert processed["batch_ids"] == landing["batch_ids"][1:]
        committed = _callable(sync, "commit_cursor")(landing)
        assert committed["cursor_before"] is None and committed["cursor_after"] == landing["cursor"]
        # commit_cursor retried (say the worker died before reporting success): same cursor, nothing else
        assert _callable(sync, "commit_cursor")(landing)["cursor_after"] == landing["cursor"]

        # a whole new run of the DAG: nothing new to land or process
        again = _callable(sync, "extract_and_land")()
        assert (again["batches_new"], again["batch_ids"], again["batches_seen"]) == (0, [], 0)
        assert _callable(sync, "process")()["rows_read"] == 0

        # every row exactly once: staged, quarantined, then published
        landed = batches(engine, source_id=SOURCE)
        assert len(landed) == 3 and all(b["reconciled"] for b in landed)
        assert sum(b["rows_read"] for b in landed) == 1500
        valid = sum(b["rows_valid"] for b in landed)
        stg = STAGING["members"]
        with engine.connect() as conn:
            staged_rows = conn.execute(select(func.count()).select_from(stg).where(stg.c.source_id == SOURCE))
            distinct = conn.execute(select(func.count()).select_from(
                select(stg.c.batch_id, stg.c.row_no).where(stg.c.source_id == SOURCE).distinct().subquery()))
            assert staged_rows.scalar_one() == distinct.scalar_one() == valid
        assert len(quarantined(engine, source_id=SOURCE)) == sum(b["rows_quarantined"] for b in landed)

        pub = _callable(publish, "publish")()
        assert (pub["batches"], pub["rows_inserted"]) == (3, valid)
        assert _callable(publish, "publish")()["batches"] == 0  # publish retried: nothing twice
        assert published_count(engine, "members") == valid
    finally:
        engine.dispose()


def test_extract_killed_after_landing_is_resumed_by_the_next_run(hub_env: DemoHub, sync_dag) -> None:
    sync, _ = sync_dag
    engine = create_engine(hub_env.database_url)
    try:
        first = _callable(sync, "extract_and_land")()  # then the worker dies: process never ran
        second = _callable(sync, "extract_and_land")()  # retry, or the next scheduled run
        assert second["batches_new"] == 0 and second["batch_ids"] == first["batch_ids"]
        assert second["cursor"] == first["cursor"]
        assert len(batches(engine, source_id=SOURCE)) == 3  # landed once
        assert _callable(sync, "process")()["rows_read"] == 1500
    finally:
        engine.dispose()
