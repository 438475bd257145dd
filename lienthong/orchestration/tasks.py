"""What each Airflow task does: open the hub, call one idempotent engine function, log, return a small dict.

The publish DAG's tasks and the open-data DAG's task each call one function of :mod:`lienthong.jobs` — the
functions ``lienthong sync`` and the API's processing workers compose — so every door runs the same job.

Each function here is the whole body of one task, so it can be called (and crashed) in a test without a
scheduler. Idempotency is the engine's: batches are keyed by content (``batch_identity``), landing the same
payload again is a no-op, processing replaces a batch's rows, publishing only takes staged batches, and the
cursor is saved only after processing — so a task retried after a crash repeats no side effect.
The returned dicts travel by XCom: ids, counts and one-line problems only, never rows.

A file that cannot be read (``extract_and_land``) or whose content makes a stage fail (``process``) is refused
alone and listed under ``problems``; the source's other files are landed, processed and announced as usual.
``report_problems``, the DAG's last task, then fails when there were any, so the operator sees a failed run with
one line per refused file, after the good files went through.
"""

from __future__ import annotations

import logging
from collections import Counter

from lienthong.hub import Hub
from lienthong.orchestration.connections import export_connection_secrets

log = logging.getLogger(__name__)

TOP_REASONS = 5


def extract_and_land(source_id: str) -> dict:
    """Extract every new batch of the source from its stored cursor and land it (not processed, cursor not saved)."""
    from lienthong import pipeline

    hub = Hub.open()
    source = hub.source(source_id)
    export_connection_secrets(source)
    landing = pipeline.land_source(hub, source)
    log.info("source %s: %d batches landed now, %d to process, %d landed and processed before; cursor to commit %s",
             source_id, landing.batches_new, len(landing.batch_ids), landing.batches_seen, landing.cursor)
    return {"source_id": landing.source_id, "batch_ids": list(landing.batch_ids), "batches_new": landing.batches_new,
            "batches_seen": landing.batches_seen, "cursor": landing.cursor,
            "problems": [_problem(p) for p in landing.problems]}


def process(source_id: str) -> dict:
    """Map, clean, validate and stage every landed batch of the source (one engine call: ``process_landed``)."""
    from lienthong import pipeline

    hub = Hub.open()
    source = hub.source(source_id)
    run = pipeline.process_landed(hub, source)
    log.info("source %s: %d batches processed, rows in %d, valid (staged) %d, quarantined %d in %.1fs",
             source_id, run.batches_new, run.rows_read, run.rows_valid, run.rows_quarantined, run.seconds)
    if run.rows_quarantined:
        for (rule, column), n in top_reasons(hub, source_id, run.batch_ids):
            log.info("  quarantined: %d rows fail %s on %s", n, rule, column)
    for problem in run.problems:
        log.warning("refused: %s", problem.message)
    return {"source_id": source_id, "dataset": source.dataset, "batch_ids": run.batch_ids,
            "rows_read": run.rows_read, "rows_valid": run.rows_valid, "rows_quarantined": run.rows_quarantined,
            "problems": [_problem(p) for p in run.problems]}


def report_problems(source_id: str, landing: dict, processed: dict) -> dict:
    """Fail, after everything else of the run, when a file or batch was refused; one log line per problem.

    Raises:
        SourceProblems: some files or batches were refused (the good ones were landed, processed and announced).
    """
    from lienthong.errors import SourceProblems

    problems = [*landing.get("problems", []), *processed.get("problems", [])]
    for problem in problems:
        log.error("%s | %s", problem["message"], problem["message_vi"])
    if problems:
        raise SourceProblems(source_id, [p["message"] for p in problems], [p["message_vi"] for p in problems])
    return {"source_id": source_id, "problems": 0}


def _problem(problem) -> dict:  # noqa: ANN001 - lienthong.pipeline.Problem, imported lazily
    return {"message": problem.message, "message_vi": problem.message_vi}


def top_reasons(hub: Hub, source_id: str, batch_ids: list[str], n: int = TOP_REASONS) -> list[tuple[tuple, int]]:
    """The ``n`` commonest (rule, column) reasons among the open quarantine rows of ``batch_ids``."""
    from lienthong.warehouse.queries import quarantined

    counts: Counter[tuple[str, str]] = Counter()
    for batch_id in batch_ids:
        for row in quarantined(hub.engine, source_id=source_id, batch_id=batch_id):
            counts.update({(r["rule"], r["column"]) for r in row["reasons"]})
    return counts.most_common(n)


def commit_cursor(source_id: str, cursor: dict | None) -> dict:
    """Save the cursor ``extract_and_land`` returned, now that its batches are processed."""
    from lienthong import pipeline
    from lienthong.warehouse.landing import get_cursor

    hub = Hub.open()
    source = hub.source(source_id)
    before = get_cursor(hub.engine, source_id)
    pipeline.commit_cursor(hub, source, cursor)
    after = get_cursor(hub.engine, source_id)
    log.info("source %s: cursor %s -> %s", source_id, before, after)
    return {"source_id": source_id, "cursor_before": before, "cursor_after": after}


def publish(dataset: str) -> dict:
    """Publish every staged batch of ``dataset`` atomically (``jobs.publish``)."""
    from lienthong import jobs

    hub = Hub.open()
    problems: list = []
    (pub,) = jobs.publish(hub, [dataset], actor=f"airflow:publish__{dataset}", problems=problems)
    for problem in problems:  # identity verification could not be done: published unverified, or held back
        log.warning("%s | %s", problem.message, problem.message_vi)
    return {"dataset": dataset, "publication": pub.seq, "batches": pub.batches, "rows_inserted": pub.rows_inserted,
            "rows_updated": pub.rows_updated, "rows_unchanged": pub.rows_unchanged,
            "batch_ids": list(pub.batch_ids)}


def match(dataset: str) -> dict:
    """Resolve the records of ``dataset`` published since the last match run into entities (``jobs.match``)."""
    from lienthong import jobs

    hub = Hub.open()
    figures = jobs.match(hub, [dataset]).get(dataset, {})
    return {k: v for k, v in figures.items() if isinstance(v, int | float | str)}


def quality_report(dataset: str, publication: dict) -> dict:
    """Write the quality report of the batches just published (``jobs.write_report``)."""
    from lienthong import jobs

    hub = Hub.open()
    path = jobs.write_report(hub, publication.get("batch_ids") or [])
    log.info("quality report of %s: %s", dataset, path)
    return {"dataset": dataset, "report": str(path)}


def open_data() -> list[str]:
    """Rewrite the open-data release from the published datasets (``jobs.release_open_data``)."""
    from lienthong import jobs

    hub = Hub.open()
    written = jobs.release_open_data(hub)
    log.info("open data: %s", ", ".join(str(p) for p in written))
    return [str(p) for p in written]
