"""The hub's job, composed in one place: sync sources, publish, match, write the quality report, release open data.

Every door calls these functions (STYLE.md rule 12): ``lienthong sync`` and ``lienthong demo``
(``lienthong.cli.runs``) call :func:`sync_sources` then :func:`after_publish`; each Airflow task calls exactly one
of them (``lienthong.orchestration.tasks``); a batch pushed over the API or uploaded on the web is published by a
processing worker, which then queues :func:`after_publish` for its dataset (``lienthong.api.processing``, bursts
coalesced). So the order after landing — publish → match → report → open data — is written once, here.

Each step is isolated (:class:`Steps`): a step that fails with one of the hub's errors is one line in
``problems`` and the next steps still run; once the warehouse connection is lost for good (``ConnectionLost``)
the remaining steps are skipped, each with its line. Every step is idempotent: publishing with nothing staged is a
no-op, matching takes only what was published since its last run, the report and the release are rewritten.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from lienthong.errors import ConnectionLost, HubError
from lienthong.hub import Hub
from lienthong.pipeline import BatchHook, Problem, SourceRun, match_published, publish_all, sync_source
from lienthong.registry import SourceConfig
from lienthong.warehouse.publishing import Publication
from lienthong.warehouse.queries import batches

log = logging.getLogger(__name__)
T = TypeVar("T")


class Steps:
    """Runs the steps of a job: each failure is one line in ``problems``; after a lost warehouse the rest are
    skipped, each with its line."""

    def __init__(self, problems: list[Problem] | None = None) -> None:
        self.problems: list[Problem] = problems if problems is not None else []
        self.lost = False

    def run(self, name: str, work: Callable[[], T], default: T) -> T:
        """``work()``, or ``default`` when it raised one of the hub's errors (then said in one line)."""
        if self.lost:
            self.problems.append(Problem(
                name, f"{name}: skipped, the warehouse is unreachable; run the sync again once it is back",
                f"{name}: bỏ qua vì không kết nối được kho dữ liệu; hãy chạy lại khi kho hoạt động trở lại"))
            return default
        try:
            return work()
        except HubError as exc:
            self.lost = self.lost or isinstance(exc, ConnectionLost)
            self.problems.append(Problem.of(name, exc))
            log.warning("%s failed: %s", name, exc)
            return default


@dataclass
class AfterPublish:
    """What :func:`after_publish` did; ``problems`` holds one line per step that failed or was skipped."""

    publications: list[Publication] = field(default_factory=list)
    matches: dict[str, dict] = field(default_factory=dict)  # dataset -> figures of the match stage
    report: Path | None = None
    open_data: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall seconds (the benches read them)


# --- the steps, one function each (an Airflow task calls exactly one) ------------------------------------------


def sync_sources(hub: Hub, sources: Iterable[SourceConfig], *,
                 on_source: Callable[[SourceConfig], BatchHook | None] | None = None,
                 on_done: Callable[[SourceRun], None] | None = None) -> list[SourceRun]:
    """Extract, land, process and stage each source in turn (not published); a failing source never stops the rest.

    Args:
        hub: the opened hub.
        sources: the sources to sync.
        on_source: called before each source; may return the hook called after each of its batches (progress).
        on_done: called with each source's run once it is over.

    Returns:
        One run per source; a source that stopped carries its one-line problem (``error``, ``problems``).
    """
    runs = []
    for source in sources:
        on_batch = on_source(source) if on_source else None
        try:
            run = sync_source(hub, source, on_batch=on_batch)
        except Exception as exc:  # noqa: BLE001 - one source, whatever broke it, never stops the others
            problem = Problem.of(source.id, exc, where=f"source {source.id}")
            log.info("source %s stopped: %s", source.id, problem.message,
                     exc_info=None if isinstance(exc, HubError) else exc)
            run = SourceRun(source.id, source.dataset, error=problem.message, problems=[problem])
        runs.append(run)
        if on_done:
            on_done(run)
    return runs


def publish(hub: Hub, datasets: Iterable[str], *, actor: str | None = None,
            problems: list[Problem] | None = None) -> list[Publication]:
    """Verify identities where sources ask for it, then publish every staged batch of each dataset, one atomic
    publication each (nothing staged: a no-op). ``actor`` is who triggered it (audit of the verification queries);
    a verification that could not be done is one line in ``problems``."""
    return publish_all(hub, datasets, actor=actor, problems=problems)


def match(hub: Hub, datasets: Iterable[str]) -> dict[str, dict]:
    """Resolve what was published since the last match run into entities, for each dataset of people.

    One match of a dataset at a time on this machine (a lock file under the hub's home): the CLI, the server's
    workers and Airflow may all ask at once, and two runs would link the same new records twice.
    """
    from lienthong.match import MATCHED_DATASETS

    out: dict[str, dict] = {}
    for dataset in dict.fromkeys(d for d in datasets if d in MATCHED_DATASETS):
        with exclusive(hub, f"match-{dataset}"):
            out.update(match_published(hub, [dataset]))
    return out


def write_report(hub: Hub, batch_ids: Sequence[str] | Sequence[SourceRun], *,
                 started_at: datetime | None = None) -> Path:
    """Write the HTML quality report of these batches (or of these source runs) under ``<home>/reports``."""
    from lienthong.reporting import write_run_report

    runs = [r for r in batch_ids if isinstance(r, SourceRun)] or _runs_of(hub, [str(b) for b in batch_ids])
    path = write_run_report(hub, runs, hub.settings.home / "reports", started_at=started_at or datetime.now(UTC))
    log.info("quality report written: %s", path)
    return path


def release_open_data(hub: Hub) -> list[Path]:
    """Rebuild the open-data release (aggregates, disclosure control, catalogue) from the published datasets."""
    from lienthong.open_data.build import write_open_data

    with exclusive(hub, "open-data"):
        written = write_open_data(hub.engine, hub.settings.home / "open-data", hub.code_lists,
                                  threshold=hub.settings.small_cell_threshold, base_url=hub.settings.public_base_url)
    log.info("open data: %d files written", len(written))
    return written


def after_publish(hub: Hub, datasets: Iterable[str], *, batch_ids: Sequence[str] | Sequence[SourceRun] = (),
                  started_at: datetime | None = None, steps: Steps | None = None,
                  actor: str | None = None, on_step: Callable[[str], None] | None = None) -> AfterPublish:
    """Everything after batches are staged: publish, match, the quality report of ``batch_ids``, open data.

    Args:
        hub: the opened hub.
        datasets: the datasets whose staged batches to publish and whose people to match.
        batch_ids: the batches (or source runs) the quality report is about.
        started_at: when the job started (the report's run id), now by default.
        steps: the step runner to share with the caller's earlier steps (a lost warehouse skips what is left).
        actor: who triggered the job, for the audit entries of identity verification (``cli:<user>``).
        on_step: called with each step's name as it starts (the CLI shows it: a million records take minutes).
    """
    datasets = sorted(set(datasets))
    steps = steps or Steps()
    done = AfterPublish(problems=steps.problems)

    def timed(name: str, work: Callable[[], T], default: T) -> T:
        if on_step is not None:
            on_step(name)
        started = time.perf_counter()
        try:
            return steps.run(name, work, default)
        finally:
            done.seconds[name] = time.perf_counter() - started

    done.publications = timed("publish", lambda: publish(hub, datasets, actor=actor, problems=steps.problems), [])
    done.matches = timed("match", lambda: match(hub, datasets), {})
    done.report = timed("quality report", lambda: write_report(hub, batch_ids, started_at=started_at), None)
    done.open_data = timed("open data", lambda: release_open_data(hub), [])
    return done


# --- helpers ---------------------------------------------------------------------------------------------------


def _runs_of(hub: Hub, batch_ids: list[str]) -> list[SourceRun]:
    """The batches grouped by source, in landing order, as the report takes them."""
    runs: dict[str, SourceRun] = {}
    for b in batches(hub.engine, batch_ids=batch_ids) if batch_ids else []:
        runs.setdefault(b["source_id"], SourceRun(b["source_id"], b["dataset"])).batch_ids.append(b["batch_id"])
    return list(runs.values())


@contextmanager
def exclusive(hub: Hub, name: str) -> Iterator[None]:
    """Hold the lock file ``<home>/locks/<name>.lock`` (released when the process dies, whatever happens)."""
    folder = hub.settings.home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
