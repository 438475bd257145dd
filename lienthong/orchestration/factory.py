"""The DAG factory: the source registry in, one DAG per source plus the publish and open-data DAGs out.

``sync__<source>``: ``extract_and_land`` → ``process`` → ``commit_cursor`` → ``emit_staged`` →
``report_problems`` (fails the run, after the good files went through, when a file was refused). ``emit_staged``
carries the dataset's *staged* asset as its outlet and is skipped when nothing new was staged: Airflow records
an asset event for a task's outlets only when the task succeeds, so a skipped task emits nothing and the
publish DAG is not woken for nothing. ``publish__<dataset>`` (scheduled on that asset): ``publish`` → ``match``
(datasets of people) → ``quality_report`` → ``emit_published``, which does the same for the *published* asset that
``open_data`` waits on (any of the three). Each task calls one function of :mod:`lienthong.jobs`.
Schedule, retries, retry delay, timeout and owner come from each source's ``schedule:`` in its YAML.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from lienthong.match import MATCHED_DATASETS
from lienthong.orchestration import tasks
from lienthong.orchestration.assets import DATASETS, any_published, published_asset, staged_asset
from lienthong.registry import SourceConfig

START = datetime(2025, 1, 1)  # fixed and in the past; catchup is off, so only the latest interval runs
TAGS = ("lienthong",)


def build_dags(sources: Iterable[SourceConfig]) -> dict[str, DAG]:
    """Every DAG of the hub, keyed by dag id, for the module that Airflow parses to put in its globals."""
    sources = list(sources)
    dags = [sync_dag(s) for s in sources]
    dags += [publish_dag(d) for d in DATASETS]
    dags.append(open_data_dag())
    return {d.dag_id: d for d in dags}


def _emit(asset: Asset, summary: dict, *, when: bool, what: str) -> None:
    if not when:
        msg = f"nothing new {what}: no event for {asset.uri}"
        raise AirflowSkipException(msg)
    get_current_context()["outlet_events"][asset].extra = summary


def sync_dag(source: SourceConfig) -> DAG:
    """``sync__<source.id>``: land, process, commit the cursor, announce staged rows."""
    sched = source.schedule
    default_args = {
        "owner": sched.owner,
        "retries": sched.retries,
        "retry_delay": timedelta(minutes=sched.retry_delay_minutes),
        "execution_timeout": timedelta(minutes=sched.timeout_minutes),
    }
    staged = staged_asset(source.dataset)
    with DAG(
        dag_id=f"sync__{source.id}",
        description=source.title,
        schedule=sched.cron,
        start_date=START,
        catchup=False,
        max_active_runs=1,  # two runs of one source would race for the same cursor
        default_args=default_args,
        tags=[*TAGS, "sync", source.dataset, source.organisation],
        doc_md=f"Sync **{source.title}** (`{source.id}`, {source.connector.type}) into `{source.dataset}`.",
    ) as dag:

        @task(task_id="extract_and_land")
        def extract_and_land() -> dict:
            return tasks.extract_and_land(source.id)

        @task(task_id="process")
        def process() -> dict:
            return tasks.process(source.id)

        @task(task_id="commit_cursor")
        def commit_cursor(landing: dict) -> dict:
            return tasks.commit_cursor(source.id, landing["cursor"])

        @task(task_id="emit_staged", outlets=[staged])
        def emit_staged(processed: dict) -> None:
            _emit(staged, processed, when=processed["rows_valid"] > 0, what="staged")

        @task(task_id="report_problems", trigger_rule="none_failed")  # also when nothing new was staged
        def report_problems(landing: dict, processed: dict) -> dict:
            return tasks.report_problems(source.id, landing, processed)

        landing = extract_and_land()
        processed = process()
        committed = commit_cursor(landing)
        emitted = emit_staged(processed)
        landing >> processed >> committed >> emitted >> report_problems(landing, processed)
    return dag


def publish_dag(dataset: str) -> DAG:
    """``publish__<dataset>``: publish the staged batches when a sync staged new rows."""
    published = published_asset(dataset)
    with DAG(
        dag_id=f"publish__{dataset}",
        description=f"Publish staged {dataset} in one atomic publication, match its people, write the report",
        schedule=staged_asset(dataset),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args={"owner": "lienthong", "retries": 2, "retry_delay": timedelta(minutes=5)},
        tags=[*TAGS, "publish", dataset],
    ) as dag:

        @task(task_id="publish")
        def publish() -> dict:
            return tasks.publish(dataset)

        @task(task_id="emit_published", outlets=[published])
        def emit_published(publication: dict) -> None:
            _emit(published, publication, when=publication["batches"] > 0, what="published")

        @task(task_id="quality_report")
        def quality_report(publication: dict) -> dict | None:
            return tasks.quality_report(dataset, publication) if publication["batches"] else None

        published_now = publish()
        reported = quality_report(published_now)
        if dataset in MATCHED_DATASETS:

            @task(task_id="match")
            def match(publication: dict) -> dict:
                return tasks.match(dataset) if publication["batches"] else {"records": 0}

            published_now >> match(published_now) >> reported
        reported >> emit_published(published_now)
    return dag


def open_data_dag() -> DAG:
    """``open_data``: rewrite the open aggregate tables whenever any dataset was published."""
    with DAG(
        dag_id="open_data",
        description="Open aggregate tables (small cells suppressed) from the published datasets",
        schedule=any_published(),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args={"owner": "lienthong", "retries": 2, "retry_delay": timedelta(minutes=5)},
        tags=[*TAGS, "open-data"],
    ) as dag:

        @task(task_id="open_data")
        def open_data() -> list[str]:
            return tasks.open_data()

        open_data()
    return dag
