"""Read an uploaded file in a child process whose memory is capped, so no file can take the server down.

The limits of :mod:`connectors.limits` make the readers refuse hostile files early, but a server must survive
what no limit foresaw: a parser bug, a native abort ("memory allocation failed" kills a process outright), a
file that is legal but needs more memory than the server can give. So the API and the web pages parse uploads
in a small pool of worker processes (spawned lazily, kept for the next upload) whose data segment is capped with
``RLIMIT_DATA``. A worker answers with the table written to a temporary Arrow IPC file (memory-mapped by the
server, then unlinked), or with the refusal; one that dies is replaced, and the upload is refused with 413 and a
reason in Vietnamese. A worker left holding much memory after a big file is retired, the next upload gets a new
one.

``RLIMIT_DATA`` rather than ``RLIMIT_AS``: pyarrow's threads and allocators reserve gigabytes of address space
they never touch (reading a 2-line CSV takes 1.5 GB of virtual memory), so an address-space cap of 500 MiB
breaks every read, while the data cap counts private writable mappings. Arrow uses the system allocator in the
workers (``ARROW_DEFAULT_MEMORY_POOL=system``: mimalloc maps 1 GiB arenas), whose failures Python sees as
``MemoryError``. Loaded, pyarrow and its threads take ~160 MiB of the cap; the rest is the file's.

The CLI (``check``, ``normalize``, ``sync``) reads in-process: there the limits bound every allocation the
readers make, and one process serves one operator.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import tempfile
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from connectors.limits import LimitExceeded, ReadLimits
from lienthong.errors import MalformedInput

log = logging.getLogger(__name__)

MiB = 1024 * 1024


@dataclass(frozen=True)
class ChildRead:
    """What a worker sends back: the table (an Arrow IPC file it wrote) and read options, or the refusal."""

    ipc_path: str | None
    options: dict[str, Any]
    error: tuple[str, str, str, str | None] | None  # (class, English, Vietnamese, limit)
    peak_rss_kib: int  # the worker's peak resident memory so far (VmHWM), for measurement
    data_kib: int  # the worker's data segment after the read: what counts against its cap


class IsolatedReader:
    """A lazily started pool of reader processes, each capped at ``memory_bytes`` of data.

    Args:
        memory_bytes: ``RLIMIT_DATA`` of each worker.
        workers: processes in the pool (uploads beyond that wait their turn).
    """

    def __init__(self, memory_bytes: int, workers: int = 1) -> None:
        self.memory_bytes, self.workers = memory_bytes, workers
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self.last_peak_rss_kib = 0

    def read(self, payload: bytes, media_type: str, read_options: Mapping[str, Any] | None = None, *,
             origin: str, limits: ReadLimits) -> tuple[Any, dict[str, Any]]:
        """:func:`connectors.formats.read_feed` in a worker.

        Returns:
            The table (``pyarrow.Table``) and the resolved read options.

        Raises:
            LimitExceeded: a limit, or the worker ran out of memory or died while reading.
            MalformedInput: the file cannot be read or cannot be a feed.
        """
        args = (payload, media_type, dict(read_options or {}), origin, limits)
        executor = self._pool()
        try:
            answer = executor.submit(_read_in_child, *args).result()
        except BrokenProcessPool:
            # a worker died: this upload or another in the same pool. Replace the pool and read this one
            # again alone, so only the file that kills a worker is refused.
            self._discard(executor)
            answer = self._read_alone(args, origin)
        else:
            if answer.data_kib * 1024 > self.memory_bytes // 2:
                # the allocator keeps what a big file needed: start the next upload in a fresh worker
                self._discard(executor)
        return self._unpack(answer)

    def close(self) -> None:
        """Stop the workers (tests; a server lets them end with the process)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = self._new(self.workers)
            return self._executor

    def _new(self, workers: int) -> ProcessPoolExecutor:
        # Arrow picks its allocator once, when loaded: only the environment a worker starts with can make it the
        # system allocator (mimalloc reserves 1 GiB arenas, which a data cap counts). Set for children only in
        # effect: this process's allocator is chosen already.
        for name, value in _WORKER_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
        # spawn: the server has threads, and a forked copy of a threaded process may deadlock
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_cap_memory, initargs=(self.memory_bytes, os.getpid()))

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False)  # uploads already queued on it are still read there

    def _read_alone(self, args: tuple[Any, ...], origin: str) -> ChildRead:
        executor = self._new(1)
        try:
            return executor.submit(_read_in_child, *args).result()
        except BrokenProcessPool:
            log.warning("reading %s killed its worker process (memory cap %d MiB)", origin, self.memory_bytes // MiB)
            raise self._died(origin) from None
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    def _died(self, origin: str) -> LimitExceeded:
        mib = self.memory_bytes // MiB
        msg = (f"{origin}: reading the file needed more than the {mib} MiB of memory an upload may use, or "
               "crashed the reader; split it into smaller files, or send it as CSV")
        msg_vi = (f"{origin}: đọc tệp cần quá {mib} MiB bộ nhớ cho phép (hoặc tệp làm hỏng trình đọc); hãy chia "
                  "thành các tệp nhỏ hơn hoặc gửi dưới dạng CSV")
        return LimitExceeded(msg, message_vi=msg_vi, limit="memory")

    def _unpack(self, answer: ChildRead) -> tuple[Any, dict[str, Any]]:
        import pyarrow as pa

        self.last_peak_rss_kib = answer.peak_rss_kib
        if answer.error is not None:
            kind, message, message_vi, limit = answer.error
            if kind == "memory":
                raise LimitExceeded(message, message_vi=message_vi, limit="memory")
            if limit is not None:
                raise LimitExceeded(message, message_vi=message_vi, limit=limit)
            raise MalformedInput(message, message_vi=message_vi)
        assert answer.ipc_path is not None
        try:  # mapped, not copied: the table's buffers are the file's pages, which outlive its name
            with pa.memory_map(answer.ipc_path) as source:
                table = pa.ipc.open_file(source).read_all()
        finally:
            os.unlink(answer.ipc_path)
        return table, answer.options


_WORKER_ENVIRONMENT = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2"}
_readers: dict[tuple[int, int], IsolatedReader] = {}
_readers_lock = threading.Lock()


def isolated_reader(memory_bytes: int, workers: int = 1) -> IsolatedReader:
    """The process's reader pool for this cap and size (one per server: workers are kept between uploads)."""
    with _readers_lock:
        key = (memory_bytes, workers)
        if key not in _readers:
            _readers[key] = IsolatedReader(memory_bytes, workers)
        return _readers[key]


# --- in the worker -----------------------------------------------------------------------------------------

def exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """End this worker process once ``parent``, the server that asked for it, is gone (a killed server leaves no
    orphan).

    A watcher thread waits on a pid file descriptor of ``parent``, which becomes readable when it ends. ``parent``
    is passed by the pool's creator, not read here: a server killed while the worker was starting has already
    left it re-parented, and a worker forked by a fork server (lienthong/api/processing.py) has that server, not
    the server, as its parent. Not ``prctl(PR_SET_PDEATHSIG)``: that follows the *thread* that spawned the worker,
    and a pool spawns from whichever request thread submitted first, which may end before the server does.
    Without pid file descriptors (Linux < 5.3), ``parent`` is polled every ``every_s`` seconds.
    """
    import select
    import time

    try:
        pidfd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):  # no pidfd_open: poll
        pidfd = None

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])
        else:
            while _exists(parent):
                time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, someone else's
        return True
    return True


def _cap_memory(memory_bytes: int, parent: int) -> None:
    import resource

    import pyarrow as pa

    exit_with_parent(parent)
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    pa.set_memory_pool(pa.system_memory_pool())  # also for pyarrow's Python calls, whatever the environment
    # each thread's stack counts against the cap: Arrow's default pools have one per core, and eight for I/O
    pa.set_cpu_count(min(2, os.cpu_count() or 1))
    pa.set_io_thread_count(1)


def _read_in_child(payload: bytes, media_type: str, read_options: dict[str, Any], origin: str,
                   limits: ReadLimits) -> ChildRead:
    import resource

    import pyarrow as pa

    from connectors.formats import read_feed

    def peak() -> int:
        return _status_kib("VmHWM:")  # not ru_maxrss: that one keeps the server's peak across the spawn

    try:
        table, options = read_feed(payload, media_type, read_options, origin=origin, limits=limits)
        handle, path = tempfile.mkstemp(prefix="lienthong-read-", suffix=".arrow")
        os.close(handle)
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)  # to a file, not to memory: the worker's cap is for reading
        del table
        return ChildRead(path, options, None, peak(), _status_kib("VmData:"))
    except LimitExceeded as exc:
        return ChildRead(None, {}, ("limit", str(exc), exc.message_vi, exc.limit), peak(), _status_kib("VmData:"))
    except MalformedInput as exc:
        return ChildRead(None, {}, ("malformed", str(exc), exc.message_vi, None), peak(), _status_kib("VmData:"))
    except (MemoryError, pa.ArrowMemoryError):
        mib = resource.getrlimit(resource.RLIMIT_DATA)[0] // MiB
        msg = (f"{origin}: reading the file needed more than the {mib} MiB of memory an upload may use; split "
               "it into smaller files, or send it as CSV")
        msg_vi = f"{origin}: đọc tệp cần quá {mib} MiB bộ nhớ cho phép; hãy chia thành các tệp nhỏ hơn"
        return ChildRead(None, {}, ("memory", msg, msg_vi, "memory"), peak(), _status_kib("VmData:"))
    except Exception as exc:  # a reader bug must not become a 500: the file is refused, the cause logged
        log.exception("reading %s failed unexpectedly", origin)
        msg = f"{origin}: the file could not be read ({type(exc).__name__}); check it is a real CSV, XLSX or JSON"
        msg_vi = f"{origin}: không đọc được tệp; hãy kiểm tra đây là tệp CSV, Excel (XLSX) hoặc JSON hợp lệ"
        return ChildRead(None, {}, ("malformed", msg, msg_vi, None), peak(), _status_kib("VmData:"))


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` figure in KiB: ``VmData`` is what ``RLIMIT_DATA`` counts, ``VmHWM`` peak RSS."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
