"""The runner: extract each source from its cursor, land, process, advance the cursor; then publish.

The runner owns state. A connector gets the stored cursor and yields batches; each batch's columns are checked
*before* landing (a wrong file changes nothing), landing is idempotent by content hash, and the cursor a batch
carries is saved only once that batch is landed and processed.

How far a failure reaches depends on the connector's ``isolation`` (``connectors.base``):

- ``batch`` (files): one bad file is refused — nothing of it landed, or, when it fails in processing, it stays
  landed and is tried again by the next sync — and reported as a :class:`Problem`; the source's other files go on.
- ``cursor`` (SQL chunks): a failure stops the source's run with the cursor where the last complete batch left it.
- ``run`` (REST pages): the pages are landed as they come and processed only once the last one has arrived, so a
  run that fails on page 3 stages and publishes nothing; the cursor is unchanged and the next run re-reads from it
  (pages with the same content are the same batches, already landed: nothing is duplicated).

Lost connections to the warehouse are ridden out by :class:`~lienthong.warehouse.engine.Reconnect` around each
unit of database work (settings ``db_retry_attempts``, ``db_retry_backoff_s``); when they do not come back, the
source's run stops with one line naming the source, the batch and what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import pyarrow as pa
from sqlalchemy.exc import DataError, IntegrityError

from connectors import CONNECTORS, build_connector
from connectors.base import Batch, Connector
from connectors.read_ahead import read_ahead
from lienthong.errors import ConnectionLost, FilesRefused, HubError
from lienthong.hub import Hub
from lienthong.registry import SourceConfig
from lienthong.stages.map import check_columns
from lienthong.stages.process import BatchCounts, land_and_process, land_batch, process_batch
from lienthong.warehouse.engine import Reconnect
from lienthong.warehouse.idempotency import Claim
from lienthong.warehouse.landing import Landed, batch_identity, get_cursor, land, landed_status, save_cursor
from lienthong.warehouse.publishing import Publication, publish
from lienthong.warehouse.queries import batches

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a batch's own content can make the stages raise. Within a ``batch``-isolated source these refuse that batch
# only; anything else (a lost warehouse, a killed worker) stops the source's run.
CONTENT_ERRORS = (HubError, pa.ArrowException, ValueError, TypeError, LookupError, ArithmeticError, DataError,
                  IntegrityError)


@dataclass(frozen=True)
class Problem:
    """One thing of a source that did not go through, as one line: source, file or batch, reason, what to do."""

    source_id: str
    message: str  # English
    message_vi: str

    @classmethod
    def of(cls, source_id: str, exc: BaseException, *, where: str = "") -> Problem:
        """The problem ``exc`` raised while handling ``where`` (a file, page or batch) of ``source_id``."""
        if isinstance(exc, HubError):
            message, message_vi = str(exc), exc.message_vi
        else:  # not one of ours: say what it was and keep the traceback for the log
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            message = (f"{where or 'the source'} could not be processed ({type(exc).__name__}: {first}); it stays "
                       "landed and the next sync tries it again — if it fails again, send this line and the log "
                       "to the hub's maintainers")
            message_vi = (f"không xử lý được {where or 'nguồn'} ({type(exc).__name__}); lô vẫn được giữ và lần "
                          "đồng bộ sau sẽ thử lại — nếu vẫn lỗi, hãy gửi dòng này cho người quản trị hệ thống")
        prefix = f"{source_id}: "
        return cls(source_id, message if message.startswith(prefix) else prefix + message,
                   message_vi if message_vi.startswith(prefix) else prefix + message_vi)


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
    error: str | None = None  # the source's run stopped (its problem is in ``problems`` too)
    problems: list[Problem] = field(default_factory=list)  # files/batches refused, and the stop if any

    def count(self, counts: BatchCounts) -> None:
        self.batches_new += 1
        self.rows_read += counts.rows_read
        self.rows_valid += counts.rows_valid
        self.rows_quarantined += counts.rows_quarantined
        self.batch_ids.append(counts.batch_id)


BatchHook = Callable[[SourceRun], None]


def reconnect_policy(hub: Hub) -> Reconnect:
    """The bounded retries of database work after a lost connection, from the settings."""
    return Reconnect(hub.settings.db_retry_attempts, hub.settings.db_retry_backoff_s)


def _with_db(retry: Reconnect, work: Callable[[], T], source_id: str, what: str, what_vi: str) -> T:
    return retry.run(work, what=f"{what} of source {source_id}", what_vi=f"{what_vi} của nguồn {source_id}",
                     action="nothing was changed by it; check the database and run the sync again",
                     action_vi="chưa có gì thay đổi; hãy kiểm tra cơ sở dữ liệu rồi chạy lại")


def sync_source(hub: Hub, source: SourceConfig, *, on_batch: BatchHook | None = None) -> SourceRun:
    """Extract, land and process every new batch of ``source`` (publishing is separate: see :func:`publish_all`).

    Files that cannot be read or processed are refused one by one (``run.problems``); the others go on.

    Raises:
        lienthong.errors.HubError: extraction or parsing failed (a REST page, a SQL chunk) or the warehouse
            connection was lost for good; batches completed before stay landed and the cursor is not advanced past
            them; a REST run's pages are landed but not processed.
    """
    started = time.perf_counter()
    retry = reconnect_policy(hub)
    run = SourceRun(source.id, source.dataset)
    run.cursor_before = run.cursor_after = _with_db(retry, lambda: get_cursor(hub.engine, source.id), source.id,
                                                    "reading the cursor", "đọc con trỏ")
    connector = build_connector(source.connector, source_id=source.id)
    held: list[str] = []  # isolation "run": landed now, processed once the last batch has arrived
    run_cursor = None
    try:
        try:
            for item in _extracted(connector, run.cursor_before):
                if connector.isolation == "batch":
                    try:
                        _take(hub, source, item, run, retry, held=None)
                    except ConnectionLost:
                        raise
                    except CONTENT_ERRORS as exc:
                        _refuse(run, exc, where=item.origin)
                else:
                    _take(hub, source, item, run, retry, held=held if connector.isolation == "run" else None)
                if item.cursor is not None:
                    if connector.isolation == "run":
                        run_cursor = item.cursor
                    else:
                        _with_db(retry, lambda c=item.cursor: save_cursor(hub.engine, source.id, c), source.id,
                                 "saving the cursor", "lưu con trỏ")
                        run.cursor_after = item.cursor
                if on_batch:
                    on_batch(run)
        except FilesRefused as exc:  # the readable files went through; these could not be read
            for refused in exc.refused:
                _refuse(run, refused)
        for batch_id in held:  # the run's last page has arrived: now its pages are processed
            run.count(process_batch(hub.engine, source, batch_id, hub.code_lists, reconnect=retry))
            if on_batch:
                on_batch(run)
        if run_cursor is not None:
            _with_db(retry, lambda: save_cursor(hub.engine, source.id, run_cursor), source.id, "saving the cursor",
                     "lưu con trỏ")
            run.cursor_after = run_cursor
    finally:
        run.seconds = time.perf_counter() - started
    log.info(
        "source %s: %d new batches (%d already landed), rows read %d, valid %d, quarantined %d, cursor %s -> %s%s",
        source.id, run.batches_new, run.batches_seen, run.rows_read, run.rows_valid, run.rows_quarantined,
        run.cursor_before, run.cursor_after, f"; {len(run.problems)} refused" if run.problems else "",
    )
    return run


def _extracted(connector: Connector, cursor: dict | None) -> Iterator[Batch]:
    """The connector's batches; the next one read while this one lands and is checked, when the connector allows it
    (a large file's parts: :func:`connectors.read_ahead.read_ahead`)."""
    items = connector.extract(cursor)
    return read_ahead(items) if connector.read_ahead else items


def _take(hub: Hub, source: SourceConfig, item: Batch, run: SourceRun, retry: Reconnect, *,
          held: list[str] | None) -> None:
    """Check, land and process one batch; with ``held``, land it only and add it there for later."""
    check_columns(item.records, source, item.origin)
    batch_id, _ = batch_identity(source.id, item.payload, item.identity)
    status = _with_db(retry, lambda: landed_status(hub.engine, batch_id), source.id, f"looking up batch {batch_id}",
                      f"tra cứu lô {batch_id}")
    if status not in (None, "landed", "failed"):  # processed before: nothing to do
        run.batches_seen += 1
        return
    if held is not None:
        if status != "landed":  # new, or failed: landing it again resets it (landing.land)
            land_batch(hub.engine, source, item, reconnect=retry)
        if batch_id not in held:  # two pages with the same records are one batch
            held.append(batch_id)
        return
    if status == "landed":  # landed by an attempt that died before processing it
        counts = process_batch(hub.engine, source, batch_id, hub.code_lists, records=item.records, reconnect=retry)
    else:
        counts = land_and_process(hub.engine, source, item, hub.code_lists, reconnect=retry)[1]
    run.count(counts)


def _refuse(run: SourceRun, exc: BaseException, *, where: str = "") -> None:
    problem = Problem.of(run.source_id, exc, where=where)
    run.problems.append(problem)
    log.info("refused: %s", problem.message, exc_info=None if isinstance(exc, HubError) else exc)


@dataclass(frozen=True)
class Landing:
    """What :func:`land_source` did: the batches waiting to be processed and the cursor to save after them."""

    source_id: str
    batch_ids: list[str]  # landed now, or earlier by an attempt that died before processing them
    batches_new: int
    batches_seen: int  # landed and processed before: nothing to do
    cursor: dict | None
    problems: list[Problem] = field(default_factory=list)  # files refused (nothing of them landed)


def land_source(hub: Hub, source: SourceConfig) -> Landing:
    """Extract and land every new batch of ``source``, without processing (a separate task in Airflow).

    The cursor is returned, not saved: :func:`commit_cursor` saves it once :func:`process_landed` has run, so a
    crash in between repeats the work instead of skipping it. A file that cannot be read or has the wrong columns
    is refused alone (``problems``); the source's other files are landed.
    """
    retry = reconnect_policy(hub)
    cursor = _with_db(retry, lambda: get_cursor(hub.engine, source.id), source.id, "reading the cursor",
                      "đọc con trỏ")
    connector = build_connector(source.connector, source_id=source.id)
    pending, new, seen, problems = [], 0, 0, []
    try:
        for item in _extracted(connector, cursor):
            try:
                check_columns(item.records, source, item.origin)
            except HubError as exc:
                if connector.isolation != "batch":
                    raise
                problems.append(Problem.of(source.id, exc))
                continue
            result = land_batch(hub.engine, source, item, reconnect=retry)
            new += result.is_new
            if result.status == "landed":
                pending.append(result.batch_id)
            else:
                seen += 1
            cursor = item.cursor if item.cursor is not None else cursor
    except FilesRefused as exc:
        problems += [Problem.of(source.id, refused) for refused in exc.refused]
    for problem in problems:
        log.warning("refused: %s", problem.message)
    log.info("source %s: %d batches landed now, %d waiting to be processed, %d done before, %d files refused",
             source.id, new, len(pending), seen, len(problems))
    return Landing(source.id, pending, new, seen, cursor, problems)


def process_landed(hub: Hub, source: SourceConfig) -> SourceRun:
    """Process every batch of ``source`` that is landed but not yet processed, reading it from the raw zone.

    Idempotent: a batch is processed once, and re-processing one whose attempt died replaces its rows. For a
    source of files, a batch whose content makes a stage fail is reported in ``problems`` and the others go on.
    """
    started = time.perf_counter()
    retry = reconnect_policy(hub)
    run = SourceRun(source.id, source.dataset)
    isolated = CONNECTORS[source.connector.type].isolation == "batch"
    landed = _with_db(retry, lambda: batches(hub.engine, source_id=source.id), source.id, "listing the batches",
                      "liệt kê các lô")
    for b in landed:
        if b["status"] != "landed":
            continue
        try:
            counts = process_batch(hub.engine, source, b["batch_id"], hub.code_lists, reconnect=retry)
        except ConnectionLost:
            raise
        except CONTENT_ERRORS as exc:
            if not isolated:
                raise
            _refuse(run, exc, where=f"batch {b['batch_id']} ({b['origin']})")
            continue
        run.count(counts)
        log.info("batch %s (%s): rows in %d, valid %d, quarantined %d", b["batch_id"], b["origin"],
                 counts.rows_read, counts.rows_valid, counts.rows_quarantined)
    run.seconds = time.perf_counter() - started
    return run


def commit_cursor(hub: Hub, source: SourceConfig, cursor: dict | None) -> None:
    """Save the cursor :func:`land_source` returned, after its batches were processed."""
    if cursor is not None:
        _with_db(reconnect_policy(hub), lambda: save_cursor(hub.engine, source.id, cursor), source.id,
                 "saving the cursor", "lưu con trỏ")


def publish_all(hub: Hub, datasets: Iterable[str], *, actor: str | None = None,
                problems: list[Problem] | None = None) -> list[Publication]:
    """Verify, then publish every staged batch of each dataset, one atomic publication per dataset.

    Identity verification (``lienthong.stages.verify``) runs first for the sources that ask for it, so every door
    that publishes verifies. When the population database cannot be asked, one line goes to ``problems`` and the
    source is published unverified, or held back (staged) when its ``verify.required`` is true.

    Args:
        hub: the opened hub.
        datasets: the datasets to publish.
        actor: who triggered the run, for the audit entries of the verification queries (default: who pushed the
            batches over the API, else ``system``).
        problems: where to add one line per source whose verification failed (default: only logged).
    """
    out = []
    for dataset in sorted(set(datasets)):
        started = time.perf_counter()
        held = _verify(hub, dataset, actor, problems if problems is not None else [])
        snapshots = [s.id for s in hub.sources.values() if s.dataset == dataset and s.full_snapshot]
        pub = reconnect_policy(hub).run(
            lambda d=dataset, s=snapshots, h=held: publish(hub.engine, d, snapshot_sources=s, held_sources=h),
            what=f"publishing {dataset}", what_vi=f"công bố {dataset}",
            action="the previous publication stands and the staged batches wait (one transaction): check the "
                   "database and run the sync again", action_vi="bản công bố trước vẫn giữ nguyên, các lô đã "
                   "kiểm tra vẫn chờ: hãy kiểm tra cơ sở dữ liệu rồi chạy lại")
        log.info("published %s: %d batches, %d inserted, %d updated (%d deleted), %d unchanged in %.2fs", dataset,
                 pub.batches, pub.rows_inserted, pub.rows_updated, pub.rows_deleted, pub.rows_unchanged,
                 time.perf_counter() - started)
        out.append(pub)
    return out


def _verify(hub: Hub, dataset: str, actor: str | None, problems: list[Problem]) -> list[str]:
    """Run the verify stage on ``dataset``'s staged rows; the sources to hold back from publication."""
    verifying = [s for s in hub.sources.values() if s.dataset == dataset and s.verify and s.verify.enabled]
    if not verifying:
        return []
    from lienthong.stages.verify import verify_staged
    from lienthong.warehouse.verification import pusher_of

    if actor is None:
        staged = [b["batch_id"] for s in verifying for b in batches(hub.engine, source_id=s.id)
                  if b["status"] == "staged"]
        actor = pusher_of(hub.engine, staged) or "system"
    held = []
    for result in verify_staged(hub.engine, dataset, verifying, actor=actor):
        if result.error is not None:
            problem = Problem.of(result.source_id, result.error)
            if result.held:
                problem = Problem(problem.source_id, problem.message + "; its batches stay staged until the "
                                  "service answers (verify.required: true)", problem.message_vi + "; dữ liệu "
                                  "của nguồn chưa được công bố cho tới khi đối chiếu được")
            else:
                problem = Problem(problem.source_id, problem.message + "; published without verification "
                                  "(verify.required: false)", problem.message_vi + "; dữ liệu vẫn được công bố")
            problems.append(problem)
        if result.held:
            held.append(result.source_id)
    return held


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
                     publish_now: bool = True, problems: list[Problem] | None = None) -> list[Publication]:
    """Process a pushed batch if it is still only landed, then publish its dataset (embedded mode of the API).

    Safe to call again for the same batch: a processed batch is not processed twice, and publishing with nothing
    staged is a no-op.
    """
    if landed_status(hub.engine, batch_id) == "landed":
        counts = process_batch(hub.engine, source, batch_id, hub.code_lists, records=records)
        log.info("pushed batch %s of %s: rows in %d, valid %d, quarantined %d", batch_id, source.id,
                 counts.rows_read, counts.rows_valid, counts.rows_quarantined)
    return publish_all(hub, [source.dataset], problems=problems) if publish_now else []


def match_published(hub: Hub, datasets: Iterable[str]) -> dict[str, dict]:
    """Run the match stage on what was published since its last run, for each dataset of people among ``datasets``.

    Returns the stage's figures per dataset (records matched, entities created, merges, pairs for review).
    """
    from lienthong.match import MATCHED_DATASETS
    from lienthong.match.stage import match_dataset  # Splink and DuckDB load only when matching runs

    out = {}
    for dataset in dict.fromkeys(datasets):
        if dataset in MATCHED_DATASETS:
            # A run is written in one transaction at its end (an unfinished run is ignored): safe to repeat.
            out[dataset] = reconnect_policy(hub).run(
                lambda d=dataset: match_dataset(hub.engine, d, report_dir=hub.settings.home / "reports",
                                                cache_dir=hub.settings.home / "match",
                                                part_rows=hub.settings.match_part_rows),
                what=f"matching {dataset}", what_vi=f"đối sánh {dataset}",
                action="what was published stands; the next sync matches it", action_vi="dữ liệu đã công bố vẫn "
                "giữ nguyên; lần đồng bộ sau sẽ đối sánh")
            log.info("match %s: %s", dataset, {k: v for k, v in out[dataset].items() if k != "report"})
    return out
