"""The DAG folder as Airflow parses it: no import error, one sync DAG per registered source, assets wired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lienthong.match import MATCHED_DATASETS
from lienthong.orchestration.assets import DATASETS, published_asset, staged_asset
from lienthong.registry import load_registry
from lienthong.settings import get_settings
from tests.dags.conftest import DAGS_FOLDER

SYNC_TASKS = ["extract_and_land", "process", "commit_cursor", "emit_staged", "report_problems"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="module")
def sources():
    return load_registry(get_settings().sources_dir)


def test_dag_folder_imports_cleanly(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) > 0


def test_every_source_has_its_sync_dag(dagbag, sources) -> None:
    expected = {f"sync__{s}" for s in sources} | {f"publish__{d}" for d in DATASETS} | {"open_data"}
    assert set(dagbag.dags) == expected


@pytest.mark.parametrize("source_id", sorted(load_registry(get_settings().sources_dir)))
def test_sync_dag_follows_the_source_yaml(dagbag, sources, source_id: str) -> None:
    source, dag = sources[source_id], dagbag.dags[f"sync__{source_id}"]
    assert sorted(dag.task_ids) == sorted(SYNC_TASKS)
    # a chain: extract_and_land -> process -> commit_cursor -> emit_staged -> report_problems
    for upstream, downstream in zip(SYNC_TASKS, SYNC_TASKS[1:], strict=False):
        assert upstream in dag.get_task(downstream).upstream_task_ids
    assert dag.schedule == source.schedule.cron
    assert dag.catchup is False
    for t in dag.tasks:
        assert t.owner == source.schedule.owner
        assert t.retry_delay == timedelta(minutes=source.schedule.retry_delay_minutes)
        assert t.execution_timeout == timedelta(minutes=source.schedule.timeout_minutes)
        assert t.retries == source.schedule.retries
    outlets = {t.task_id: t.outlets for t in dag.tasks}
    assert outlets == {"extract_and_land": [], "process": [], "commit_cursor": [],
                       "emit_staged": [staged_asset(source.dataset)], "report_problems": []}
    assert dag.get_task("report_problems").trigger_rule == "none_failed"  # runs when emit_staged skipped, too


@pytest.mark.parametrize("dataset", DATASETS)
def test_publish_dag_is_scheduled_on_the_staged_asset(dagbag, dataset: str) -> None:
    dag = dagbag.dags[f"publish__{dataset}"]
    assert dag.schedule == staged_asset(dataset)
    if dataset in MATCHED_DATASETS:  # people are resolved into entities before the dataset counts as published
        assert sorted(dag.task_ids) == ["emit_published", "match", "publish", "quality_report"]
        assert dag.get_task("match").upstream_task_ids == {"publish"}
        assert dag.get_task("quality_report").upstream_task_ids == {"publish", "match"}
    else:
        assert sorted(dag.task_ids) == ["emit_published", "publish", "quality_report"]
        assert dag.get_task("quality_report").upstream_task_ids == {"publish"}
    assert dag.get_task("emit_published").upstream_task_ids == {"publish", "quality_report"}
    assert dag.get_task("emit_published").outlets == [published_asset(dataset)]
    assert dag.get_task("publish").outlets == []


def test_open_data_runs_when_any_dataset_is_published(dagbag) -> None:
    from airflow.sdk import AssetAny

    dag = dagbag.dags["open_data"]
    assert isinstance(dag.schedule, AssetAny)
    assert set(dag.schedule.objects) == {published_asset(d) for d in DATASETS}
    assert dag.task_ids == ["open_data"]


def test_every_staged_asset_has_a_producer_and_a_consumer(dagbag, sources) -> None:
    produced = {o.uri for d in dagbag.dags.values() for t in d.tasks for o in t.outlets}
    assert {staged_asset(s.dataset).uri for s in sources.values()} <= produced
    consumed = {dagbag.dags[f"publish__{d}"].schedule.uri for d in DATASETS}
    assert consumed == {staged_asset(d).uri for d in DATASETS}
