"""Processing pushed batches away from the threads that serve requests: a small pool of worker processes.

Processing is CPU-bound Python (clean, validate): on threads of the server it holds the GIL the request threads
need, and one thread drains a burst slowly (issue 12: reads at p99 4-6 s and pushes waiting minutes). So each
pushed batch goes, by id, to one of ``LIENTHONG_API_PROCESSING_WORKERS`` processes (forked from a fork server that
imported the processing code once; each with its own hub opened from the server's settings, at a lower CPU priority
than the server), which takes the batch (``claim_processing``: one worker per batch), reads the payload from the
raw zone, processes and publishes it.
Whatever it raises marks the batch ``failed`` with its reason. A worker that dies (SIGKILL, out of memory) breaks
its pool: the pool is replaced, and the batches it held are given back and tried once more; a second death marks
the batch failed. The server lives on. With ``AIRFLOW_API_URL`` set, the source's sync DAG is triggered instead
(on a thread: it is one HTTP call). With 0 workers the batch is processed on one thread of the server process.

Once a batch is published, the rest of the job — match, quality report, open data (``lienthong.jobs.after_publish``)
— is queued on the same workers, never run inside a request, and *single-flight* (:class:`AfterPublishQueue`):
while one runs, every batch published meanwhile joins one follow-up run, so fifty pushes in a minute cost one or
two matches, not fifty. With Airflow, its publish and open-data DAGs do this instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from connectors.isolated import exit_with_parent
from lienthong.errors import HubError, MalformedInput
from lienthong.hub import Hub
from lienthong.settings import Settings
from lienthong.warehouse.landing import (
    claim_processing,
    landed_status,
    mark_failed,
    release_processing,
    sweep_stuck,
)
from lienthong.warehouse.queries import batches

log = logging.getLogger(__name__)
ATTEMPTS = 2  # a batch whose worker died is tried once more in a fresh worker, then marked failed

INTERNAL_EN = ("processing stopped on an internal error of the hub (details are in the server log). Send the file "
               "again to retry; if it fails again, tell the hub's operators the batch id.")
INTERNAL_VI = ("Xử lý lô dữ liệu bị dừng do lỗi nội bộ của hệ thống (chi tiết trong nhật ký máy chủ). Hãy gửi lại "
               "tệp; nếu vẫn lỗi, báo mã lô cho bộ phận vận hành.")
CRASH_EN = ("the worker processing this batch stopped twice (crashed or ran out of memory). Check the file (size, "
            "hidden sheets) and send it again; if it fails again, tell the hub's operators the batch id.")
CRASH_VI = ("Tiến trình xử lý lô dữ liệu này bị dừng đột ngột hai lần (lỗi hoặc hết bộ nhớ). Hãy kiểm tra tệp (kích "
            "thước, trang ẩn) rồi gửi lại; nếu vẫn lỗi, báo mã lô cho bộ phận vận hành.")


@dataclass(frozen=True)
class Outcome:
    """Where a batch ended after a processing attempt; ``error`` says whose fault a failure was."""

    batch_id: str
    status: str | None
    error: str | None = None  # "input" (the file: 422 to a waiting client) | "hub" | "internal" | "crash"
    message_en: str | None = None
    message_vi: str | None = None


def process_pushed(hub: Hub, source_id: str, batch_id: str) -> Outcome:
    """Take, process and publish one landed batch; a failure marks it failed with its reason (never raises)."""
    stale = timedelta(minutes=hub.settings.batch_stuck_minutes)
    try:
        if not claim_processing(hub.engine, batch_id, stale_after=stale):  # done, failed, or another worker's
            return Outcome(batch_id, landed_status(hub.engine, batch_id))
        from lienthong.pipeline import process_received

        problems: list = []
        process_received(hub, hub.source(source_id), batch_id, problems=problems)
        for problem in problems:  # identity verification could not be done: published unverified, or held back
            log.warning("%s | %s", problem.message, problem.message_vi)
    except MalformedInput as exc:
        return _failed(hub, batch_id, "input", str(exc), exc.message_vi)
    except HubError as exc:
        return _failed(hub, batch_id, "hub", str(exc), exc.message_vi)
    except Exception:
        log.exception("processing pushed batch %s of %s failed", batch_id, source_id)
        return _failed(hub, batch_id, "internal", INTERNAL_EN, INTERNAL_VI)
    return Outcome(batch_id, landed_status(hub.engine, batch_id))


def _failed(hub: Hub, batch_id: str, error: str, message_en: str, message_vi: str) -> Outcome:
    try:
        mark_failed(hub.engine, batch_id, message_en, message_vi)
    except Exception:  # the warehouse is gone too: the sweeper marks the batch when it is back
        log.exception("could not mark batch %s failed", batch_id)
    return Outcome(batch_id, "failed", error, message_en, message_vi)


def run_after_publish(hub: Hub, datasets: list[str], batch_ids: list[str]) -> dict:
    """``jobs.after_publish`` for pushed batches: what it did, as a small dict (it crosses processes)."""
    from lienthong.jobs import after_publish

    done = after_publish(hub, datasets, batch_ids=batch_ids)
    for problem in done.problems:
        log.warning("after publishing %s: %s", ", ".join(datasets), problem.message)
    return {"datasets": datasets, "batches": len(batch_ids), "report": str(done.report) if done.report else None,
            "matches": {d: {k: v for k, v in m.items() if isinstance(v, int | float | str)}
                        for d, m in done.matches.items()},
            "open_data": len(done.open_data), "problems": [p.message for p in done.problems]}


class AfterPublishQueue:
    """Single flight for ``after_publish``: one run at a time; what is asked meanwhile joins one follow-up run.

    Args:
        start: starts a run for (datasets, batch ids) and returns its future.
    """

    def __init__(self, start: Callable[[list[str], list[str]], Future]) -> None:
        self._start = start
        self._lock = threading.Lock()
        self._datasets: dict[str, None] = {}
        self._batch_ids: dict[str, None] = {}
        self._running = False
        self._idle = threading.Event()
        self._idle.set()
        self.runs = 0  # runs started (for operations and tests)
        self.requests = 0
        self.last: dict | None = None  # the last run's summary (or its error)

    def request(self, datasets: list[str], batch_ids: list[str]) -> None:
        """Ask for a run covering ``datasets`` and ``batch_ids``: now if none runs, else in the follow-up run."""
        with self._lock:
            self.requests += 1
            self._datasets.update(dict.fromkeys(datasets))
            self._batch_ids.update(dict.fromkeys(batch_ids))
            if self._running:
                return
            self._running = True
            self._idle.clear()
        self._launch()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no run is under way or waiting; False when ``timeout`` passed first."""
        return self._idle.wait(timeout)

    def _launch(self) -> None:
        with self._lock:
            datasets, batch_ids = list(self._datasets), list(self._batch_ids)
            self._datasets, self._batch_ids = {}, {}
            self.runs += 1
        try:
            future = self._start(datasets, batch_ids)
        except RuntimeError as exc:  # shutting down: the batches are published; the next run matches them
            log.info("after-publish for %s not started: %s", ", ".join(datasets), exc)
            self._settle()
            return
        except Exception:
            log.exception("could not start after-publish for %s", ", ".join(datasets))
            self._settle()
            return
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        try:
            self.last = future.result()
        except BaseException as exc:  # noqa: BLE001 - logged; the next run picks up what this one missed
            log.error("after-publish run failed: %s", exc)
            self.last = {"error": f"{type(exc).__name__}: {exc}"}
        self._settle()

    def _settle(self) -> None:
        with self._lock:
            again = bool(self._datasets)
            if not again:
                self._running = False
                self._idle.set()
        if again:
            self._launch()


# --- in a worker process ---------------------------------------------------------------------------------------
_worker_hub: Hub | None = None


WORKER_NICENESS = 10  # processing yields the CPU to the server's request threads: readers stay fast


def _open_worker(settings: Settings, server: int, environment: dict[str, str]) -> None:
    global _worker_hub  # noqa: PLW0603 - one hub per worker process, opened once
    # The fork server's environment is the one of the moment it started; a worker takes its server's, as a child
    # process does (a source's credentials are read from environment variables when a batch is verified).
    os.environ.clear()
    os.environ.update(environment)
    exit_with_parent(server)
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    _worker_hub = Hub.open(settings)
    _ = _worker_hub.code_lists, _worker_hub.sources  # loaded now, not on the first batch


def _in_worker(source_id: str, batch_id: str) -> Outcome:
    assert _worker_hub is not None
    return process_pushed(_worker_hub, source_id, batch_id)


def _after_publish_in_worker(datasets: list[str], batch_ids: list[str]) -> dict:
    assert _worker_hub is not None
    return run_after_publish(_worker_hub, datasets, batch_ids)


# --- in the server ---------------------------------------------------------------------------------------------
# What a worker imports to process a batch (pandas, pyarrow, Great Expectations: ~6 s of CPU in a new interpreter).
WORKER_IMPORTS = ["lienthong.api.processing", "lienthong.pipeline", "lienthong.jobs", "quality.validate"]


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fork server that imported :data:`WORKER_IMPORTS` once, when the first pool started.

    A new worker is then ready in a fraction of a second (it opens its hub), not after a new interpreter's imports:
    a pool replaced after a worker died is back at once, and its workers share the imported code's memory. Not
    plain fork: the server has threads, and a forked copy of a threaded process may deadlock; the fork server
    runs no Python thread. It ends with the server (its pipe closes), and so do its workers (``exit_with_parent``).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_IMPORTS)  # read when the fork server starts; later calls change nothing
    return context


class ProcessingPool:
    """Pushed batches by id → worker processes (or Airflow, or one thread); one job per batch at a time."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.workers = 0 if hub.settings.airflow_api_url else hub.settings.api_processing_workers
        self._lock = threading.Lock()
        self._jobs: dict[str, Future[Outcome]] = {}
        self._closed = False
        self._executor = self._new_executor()
        # Airflow's publish and open-data DAGs run the rest of the job there; here, the workers do.
        self.after_publish = (AfterPublishQueue(self._start_after_publish)
                              if hub.settings.api_after_publish and not hub.settings.airflow_api_url else None)

    def _start_after_publish(self, datasets: list[str], batch_ids: list[str]) -> Future:
        with self._lock:
            if self._closed:
                msg = "the server is stopping"
                raise RuntimeError(msg)
            executor = self._executor
        try:
            if self.workers == 0:
                return executor.submit(run_after_publish, self.hub, datasets, batch_ids)
            return executor.submit(_after_publish_in_worker, datasets, batch_ids)
        except BrokenProcessPool:
            self._replace(executor)
            return self._start_after_publish(datasets, batch_ids)

    def _new_executor(self) -> Executor:
        if self.workers == 0:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="lienthong-process")
        # Workers start with the first batches, not with the server: a server that only serves reads never pays
        # for them.
        return ProcessPoolExecutor(self.workers, mp_context=_worker_context(), initializer=_open_worker,
                                   initargs=(self.hub.settings, os.getpid(), dict(os.environ)))

    def submit(self, source_id: str, batch_id: str) -> Future[Outcome]:
        """Process (or hand to Airflow) a landed batch; the job already under way when it is queued."""
        with self._lock:
            job = self._jobs.get(batch_id)
            if job is not None:
                return job
            job = self._jobs[batch_id] = Future()
        self._start(job, source_id, batch_id, attempt=1)
        return job

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for operations and tests)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return [p.pid for p in list(processes.values()) if p.is_alive()]

    def resume(self) -> int:
        """Queue the pushed batches a previous server left landed (stopped before processing them)."""
        waiting = [b for b in batches(self.hub.engine) if b["status"] == "landed" and b["origin"].startswith("api:")
                   and b["source_id"] in self.hub.sources]
        for b in waiting:
            self.submit(b["source_id"], b["batch_id"])
        return len(waiting)

    def close(self) -> None:
        """Finish the batches being processed; those only queued stay landed and are resumed at next start."""
        with self._lock:
            self._closed = True
            executor = self._executor
        executor.shutdown(wait=True, cancel_futures=True)

    def _start(self, job: Future[Outcome], source_id: str, batch_id: str, attempt: int) -> None:
        with self._lock:
            executor = self._executor
        try:
            if self.hub.settings.airflow_api_url:
                inner = executor.submit(_hand_to_airflow, self.hub, source_id, batch_id)
            elif self.workers == 0:
                inner = executor.submit(process_pushed, self.hub, source_id, batch_id)
            else:
                inner = executor.submit(_in_worker, source_id, batch_id)
        except BrokenProcessPool:
            self._replace(executor)
            self._start(job, source_id, batch_id, attempt)
            return
        except RuntimeError:  # shut down: the server is stopping, the batch stays landed
            self._finish(job, Outcome(batch_id, "landed"))
            return
        inner.add_done_callback(partial(self._finished, job, source_id, batch_id, attempt, executor))

    def _finished(self, job: Future[Outcome], source_id: str, batch_id: str, attempt: int, executor: Executor,
                  inner: Future[Outcome]) -> None:
        try:
            outcome = inner.result()
        except BrokenProcessPool:
            log.error("the worker processing batch %s stopped (attempt %d of %d)", batch_id, attempt, ATTEMPTS)
            self._replace(executor)
            release_processing(self.hub.engine, batch_id)
            if attempt < ATTEMPTS and not self._closed:
                self._start(job, source_id, batch_id, attempt + 1)
                return
            outcome = _failed(self.hub, batch_id, "crash", CRASH_EN, CRASH_VI)
        except CancelledError:
            outcome = Outcome(batch_id, "landed")
        except Exception:  # the job could not even run (e.g. the worker could not open the warehouse)
            log.exception("processing batch %s could not run", batch_id)
            outcome = _failed(self.hub, batch_id, "internal", INTERNAL_EN, INTERNAL_VI)
        if outcome.status == "published" and self.after_publish is not None and not self._closed:
            self.after_publish.request([self.hub.source(source_id).dataset], [batch_id])
        self._finish(job, outcome)

    def _finish(self, job: Future[Outcome], outcome: Outcome) -> None:
        with self._lock:
            self._jobs.pop(outcome.batch_id, None)
        job.set_result(outcome)

    def _replace(self, broken: Executor) -> None:
        """A new pool in place of a broken one (once, however many of its jobs report it)."""
        with self._lock:
            if self._executor is not broken or self._closed:
                return
            self._executor = self._new_executor()
        broken.shutdown(wait=False, cancel_futures=True)


def _hand_to_airflow(hub: Hub, source_id: str, batch_id: str) -> Outcome:
    """Trigger the source's sync DAG, which processes its landed batches; the batch stays landed until then."""
    from lienthong.orchestration.airflow_trigger import trigger_via_airflow

    try:
        trigger_via_airflow(source_id, api_url=hub.settings.airflow_api_url, conf={"batch_id": batch_id},
                            note=f"pushed batch {batch_id} (HTTP API)")
    except Exception as exc:
        log.exception("could not trigger Airflow for batch %s of %s", batch_id, source_id)
        return _failed(hub, batch_id, "hub", f"could not hand the batch to Airflow ({type(exc).__name__}); send "
                       "the file again to retry", "Không chuyển được lô dữ liệu cho Airflow xử lý; hãy gửi lại tệp")
    return Outcome(batch_id, landed_status(hub.engine, batch_id))


class Sweeper:
    """Marks failed, every so often, the batches stuck in ``landed`` (``LIENTHONG_BATCH_STUCK_MINUTES``)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.older_than = timedelta(minutes=hub.settings.batch_stuck_minutes)
        self.every_s = min(60.0, max(0.5, self.older_than.total_seconds() / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lienthong-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                sweep_stuck(self.hub.engine, older_than=self.older_than)
            except Exception:  # the warehouse may be briefly unreachable: try again next time
                log.exception("sweeping stuck batches failed")
