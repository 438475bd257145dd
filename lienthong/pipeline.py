"""The runner: extract each source from its cursor, land, process, advance the cursor; then publish.

The runner owns state. A connector gets the stored cursor and yields batches; each batch's columns are checked
*before* landing (a wrong file changes nothing), landing is idempotent by content hash, and the cursor a batch
carries is saved only once that batch is landed and processed. A failure stops the source's run with the cursor
where the last complete batch left it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from connectors import build_connector
from connectors.base import Batch
from lienthong.hub import Hub
from lienthong.registry import SourceConfig
from lienthong.stages.map import check_columns
from lienthong.stages.process import land_and_process, process_batch
from lienthong.warehouse.idempotency import Claim
from lienthong.warehouse.landing import Landed, batch_identity, get_cursor, land, landed_status, save_cursor
from lienthong.warehouse.publishing import Publication, publish
from lienthong.warehouse.queries import batches

log = logging.getLogger(__name__)


@dataclass
class SourceRun:
    """What one source's sync did, for the summary table and the task log."""

    source_id: str
    dataset: str
    rows_read: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_published: int = 0
    batches_new: int = 0
    batches_seen: int = 0  # landed before: skipped
    batch_ids: list[str] = field(default_factory=list)
    cursor_before: dict | None = None
    cursor_after: dict | None = None
    seconds: float = 0.0
    error: str | None = None


BatchHook = Callable[[SourceRun], None]


def sync_source(hub: Hub, source: SourceConfig, *, on_batch: BatchHook | None = None) -> SourceRun:
    """Extract, land and process every new batch of ``source`` (publishing is separate: see :func:`publish_all`).

    Raises:
        lienthong.errors.HubError: extraction or parsing failed; batches completed before stay landed and the
            cursor is not advanced past them.
    """
    started = time.perf_counter()
    run = SourceRun(source.id, source.dataset)
    run.cursor_before = run.cursor_after = get_cursor(hub.engine, source.id)
    connector = build_connector(source.connector, source_id=source.id)
    try:
        for item in connector.extract(run.cursor_before):
            check_columns(item.records, source, item.origin)
            batch_id, _ = batch_identity(source.id, item.payload)
            status = landed_status(hub.engine, batch_id)
            if status in (None, "landed", "failed"):  # new, landed by an attempt that died, or failed: retry
                if status != "landed":  # landing a failed batch again resets it (landing.land)
                    landed, counts = land_and_process(hub.engine, source, item, hub.code_lists)
                else:
                    counts = process_batch(hub.engine, source, batch_id, hub.code_lists, records=item.records)
                run.batches_new += 1
                run.rows_read += counts.rows_read
                run.rows_valid += counts.rows_valid
                run.rows_quarantined += counts.rows_quarantined
                run.batch_ids.append(batch_id)
            else:
                run.batches_seen += 1
            if item.cursor is not None:
                save_cursor(hub.engine, source.id, item.cursor)
                run.cursor_after = item.cursor
            if on_batch:
                on_batch(run)
    finally:
        run.seconds = time.perf_counter() - started
    log.info(
        "source %s: %d new batches (%d already landed), rows read %d, valid %d, quarantined %d, cursor %s -> %s",
        source.id, run.batches_new, run.batches_seen, run.rows_read, run.rows_valid, run.rows_quarantined,
        run.cursor_before, run.cursor_after,
    )
    return run


@dataclass(frozen=True)
class Landing:
    """What :func:`land_source` did: the batches waiting to be processed and the cursor to save after them."""

    source_id: str
    batch_ids: list[str]  # landed now, or earlier by an attempt that died before processing them
    batches_new: int
    batches_seen: int  # landed and processed before: nothing to do
    cursor: dict | None


def land_source(hub: Hub, source: SourceConfig) -> Landing:
    """Extract and land every new batch of ``source``, without processing (a separate task in Airflow).

    The cursor is returned, not saved: :func:`commit_cursor` saves it once :func:`process_landed` has run, so a
    crash in between repeats the work instead of skipping it.
    """
    cursor = get_cursor(hub.engine, source.id)
    pending, new, seen = [], 0, 0
    for item in build_connector(source.connector, source_id=source.id).extract(cursor):
        check_columns(item.records, source, item.origin)
        result = land(hub.engine, source_id=source.id, dataset=source.dataset, item=item)
        new += result.is_new
        if result.status == "landed":
            pending.append(result.batch_id)
        else:
            seen += 1
        cursor = item.cursor if item.cursor is not None else cursor
    log.info("source %s: %d batches landed now, %d waiting to be processed, %d done before", source.id, new,
             len(pending), seen)
    return Landing(source.id, pending, new, seen, cursor)


def process_landed(hub: Hub, source: SourceConfig) -> SourceRun:
    """Process every batch of ``source`` that is landed but not yet processed, reading it from the raw zone.

    Idempotent: a batch is processed once, and re-processing one whose attempt died replaces its rows.
    """
    started = time.perf_counter()
    run = SourceRun(source.id, source.dataset)
    for b in batches(hub.engine, source_id=source.id):
        if b["status"] != "landed":
            continue
        counts = process_batch(hub.engine, source, b["batch_id"], hub.code_lists)
        run.batches_new += 1
        run.rows_read += counts.rows_read
        run.rows_valid += counts.rows_valid
        run.rows_quarantined += counts.rows_quarantined
        run.batch_ids.append(b["batch_id"])
        log.info("batch %s (%s): rows in %d, valid %d, quarantined %d", b["batch_id"], b["origin"],
                 counts.rows_read, counts.rows_valid, counts.rows_quarantined)
    run.seconds = time.perf_counter() - started
    return run


def commit_cursor(hub: Hub, source: SourceConfig, cursor: dict | None) -> None:
    """Save the cursor :func:`land_source` returned, after its batches were processed."""
    if cursor is not None:
        save_cursor(hub.engine, source.id, cursor)


def publish_all(hub: Hub, datasets: Iterable[str]) -> list[Publication]:
    """Publish every staged batch of each dataset, one atomic publication per dataset."""
    out = []
    for dataset in sorted(set(datasets)):
        started = time.perf_counter()
        snapshots = [s.id for s in hub.sources.values() if s.dataset == dataset and s.full_snapshot]
        pub = publish(hub.engine, dataset, snapshot_sources=snapshots)
        log.info("published %s: %d batches, %d inserted, %d updated (%d deleted), %d unchanged in %.2fs", dataset,
                 pub.batches, pub.rows_inserted, pub.rows_updated, pub.rows_deleted, pub.rows_unchanged,
                 time.perf_counter() - started)
        out.append(pub)
    return out


def receive_batch(hub: Hub, source: SourceConfig, item: Batch, *, claim: Claim | None = None) -> Landed:
    """Land a batch a member organisation pushed (the HTTP API), after checking its columns like a pulled one.

    Landing is idempotent by content: the same payload for the same source is the same batch, whatever its name.
    ``claim`` is the upload's ``Idempotency-Key``, claimed in the landing transaction (see ``landing.land``).

    Raises:
        lienthong.errors.MalformedInput: the columns are not those the source's mapping expects; nothing landed.
        lienthong.warehouse.idempotency.KeyReused: the key was used for another source or other rows.
    """
    check_columns(item.records, source, item.origin)
    return land(hub.engine, source_id=source.id, dataset=source.dataset, item=item, claim=claim)


def process_received(hub: Hub, source: SourceConfig, batch_id: str, *, records: pa.Table | None = None,
                     publish_now: bool = True) -> list[Publication]:
    """Process a pushed batch if it is still only landed, then publish its dataset (embedded mode of the API).

    Safe to call again for the same batch: a processed batch is not processed twice, and publishing with nothing
    staged is a no-op.
    """
    if landed_status(hub.engine, batch_id) == "landed":
        counts = process_batch(hub.engine, source, batch_id, hub.code_lists, records=records)
        log.info("pushed batch %s of %s: rows in %d, valid %d, quarantined %d", batch_id, source.id,
                 counts.rows_read, counts.rows_valid, counts.rows_quarantined)
    return publish_all(hub, [source.dataset]) if publish_now else []


def match_published(hub: Hub, datasets: Iterable[str]) -> dict[str, dict]:
    """Run the match stage on what was published since its last run, for each dataset of people among ``datasets``.

    Returns the stage's figures per dataset (records matched, entities created, merges, pairs for review).
    """
    from lienthong.match import MATCHED_DATASETS
    from lienthong.match.stage import match_dataset  # Splink and DuckDB load only when matching runs

    out = {}
    for dataset in dict.fromkeys(datasets):
        if dataset in MATCHED_DATASETS:
            out[dataset] = match_dataset(hub.engine, dataset, report_dir=hub.settings.home / "reports",
                                         cache_dir=hub.settings.home / "match")
            log.info("match %s: %s", dataset, {k: v for k, v in out[dataset].items() if k != "report"})
    return out
