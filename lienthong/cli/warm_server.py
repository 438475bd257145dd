"""The warm process of `lienthong check` / `normalize` (started by :func:`lienthong.cli.warm.start_server`).

It imports the CLI and what checking a file uses (Great Expectations above all), checks a small file once so the
suite, the code lists and the gazetteer are built, then listens. Each request is run in a fork of it: the fork
takes the caller's stdin/stdout/stderr (passed over the socket), working folder, environment, umask and argv,
resets what was derived from them at import (the rich consoles, Typer's terminal switches, the settings), and
runs the CLI's own ``main()``; this process sends back its exit code. It stays single-threaded (fork safety).

Nothing cached here depends on the caller's settings: the suite, the code lists and the gazetteer come from the
packages, and the settings are read again from the caller's environment and options by every command.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import io
import json
import os
import selectors
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import types
from pathlib import Path
from typing import Any, NoReturn

from lienthong.cli.warm import IDLE_SECONDS, MAX_MESSAGE, fingerprint

# Rows that take every cleaning path a clerk's file does (guessed labels, dates, IDs, phones, old addresses).
_WARM_UP_FILE = ("Họ và tên,Giới tính,Ngày sinh,Số CCCD,Số điện thoại,Dân tộc,Địa chỉ\n"
                 "Nguyễn Thị Hoà,Nữ,01/01/1970,001170012345,0912345678,Kinh,\"Số 1 Hàng Bạc, Hoàn Kiếm, Hà Nội\"\n"
                 "Trần Văn Nam,Nam,31/02/1971,12,09123,Kinhh,\"Xóm 2, xã Yên Sở, Hoàng Mai, Hà Nội\"\n")


def serve(path: str) -> None:
    """Serve the requests of callers of the same code on the socket ``path`` until idle, stopped or stale."""
    own = fingerprint()  # before importing anything: code changed since is code this process does not have
    sock_path = Path(path)
    lock = _lock(sock_path.with_suffix(".lock"))
    if lock is None:
        return  # another server of this code runs
    _warm_up()
    Server(sock_path, own, lock).run()


def _lock(path: Path) -> int | None:
    """The server's lock, held for its life; waits a little for a leaving server to go."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    for _ in range(50):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            time.sleep(0.1)
    os.close(fd)
    return None


def _warm_up() -> None:
    """Import what `check` and `normalize` import and build what their first batch builds, writing nothing."""
    import pyarrow.csv  # noqa: F401 - normalize writes with it
    import typer.rich_utils  # noqa: F401 - a usage error prints through it

    import lienthong.cli.app  # noqa: F401 - the commands and all they import at load
    from connectors.formats import header_summary  # noqa: F401 - the layout lines
    from lienthong.file_check import check_file
    from lienthong.normalize import normalize_table, rejected_rows
    from lienthong.spreadsheet_safety import neutralise_table  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="lienthong-warm-") as tmp:
        sample = Path(tmp) / "warm_up.csv"
        sample.write_text(_WARM_UP_FILE, encoding="utf-8")
        check_file(sample)
        result = normalize_table(check_file(sample).batch.records, None)
        rejected_rows(result)
    _single_threaded()
    gc.freeze()  # what is built so far stays out of the children's collections: fewer pages copied per fork


def _single_threaded() -> None:
    """Stop the one Python thread the warm-up leaves (tqdm's monitor, started by GX's progress bars): a fork
    copies only the thread that forks, and a lock another thread held would stay held in the child. (Arrow's,
    jemalloc's and OpenBLAS's native pools handle fork themselves.)"""
    # tqdm comes with GX, not as our own dependency: looked up among the loaded modules, never imported here.
    monitor = getattr(sys.modules.get("tqdm._monitor"), "TMonitor", None)
    for thread in threading.enumerate():
        if monitor is not None and isinstance(thread, monitor):  # the next progress bar (in a child) starts one
            thread.exit()
            thread.tqdm_cls.monitor = None
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        msg = f"threads left after the warm-up: {others}; a fork would copy their locks"
        raise RuntimeError(msg)


class Server:
    """The listening socket, the connections waiting for their child, and the children."""

    def __init__(self, path: Path, own: dict[str, Any], lock: int) -> None:
        self.path, self.own, self.lock = path, own, lock
        self.started, self.last_used, self.served = time.time(), time.monotonic(), 0
        self.leaving = False
        self.children: dict[int, socket.socket] = {}  # pid -> the caller's connection
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        path.unlink(missing_ok=True)  # a socket left by a server that died (we hold the lock)
        self.listener.bind(str(path))
        os.chmod(path, 0o600)
        self.inode = path.stat().st_ino
        self.listener.listen(16)
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.wakeup_r, wakeup_w = os.pipe()
        os.set_blocking(wakeup_w, False)
        signal.set_wakeup_fd(wakeup_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the pipe
        signal.signal(signal.SIGTERM, lambda *_: self._leave())
        self.selector.register(self.wakeup_r, selectors.EVENT_READ)

    def run(self) -> None:
        try:
            while not (self.leaving and not self.children):
                idle_left = self.last_used + IDLE_SECONDS - time.monotonic()
                if not self.children and idle_left <= 0:
                    break
                for event, _ in self.selector.select(timeout=None if self.children else idle_left):
                    if event.fileobj is self.listener:
                        self._accept()
                    elif event.fileobj == self.wakeup_r:
                        os.read(self.wakeup_r, 512)
                    else:
                        self._hung_up(event.fileobj)
                self._reap()
        finally:
            self._leave()

    def _leave(self) -> None:
        """Take no more requests (callers from now on run cold or start the next server); finish the running ones."""
        if not self.leaving:
            self.leaving = True
            self.selector.unregister(self.listener)
            self.listener.close()
            if self.path.exists() and self.path.stat().st_ino == self.inode:  # not a newer server's socket
                self.path.unlink()
            fcntl.flock(self.lock, fcntl.LOCK_UN)  # the next server may start while these children finish
            os.close(self.lock)

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[1]
        if uid != os.getuid():
            conn.close()
            return
        try:
            data, fds, _, _ = socket.recv_fds(conn, MAX_MESSAGE, 3)
            request = json.loads(data)
        except (OSError, ValueError):
            conn.close()
            return
        if "status" in request or "stop" in request:
            if "stop" in request:
                self._leave()
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"pid": os.getpid(), "served": self.served, "started": self.started,
                                      "running": len(self.children), "leaving": self.leaving}).encode())
            conn.close()
        elif request.get("fingerprint") != self.own or len(fds) != 3:
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"stale": True}).encode())
            conn.close()
            self._leave()
        else:
            self._start(conn, request, fds)
        for fd in fds:
            os.close(fd)

    def _start(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        pid = os.fork()
        if pid == 0:
            self.listener.close()
            for other in self.children.values():
                other.close()
            for fd in (self.lock, self.wakeup_r, self.selector.fileno()):
                os.close(fd)
            _run(request, fds, conn)
        self.served += 1
        self.last_used = time.monotonic()
        self.children[pid] = conn
        self.selector.register(conn, selectors.EVENT_READ)  # readable only when the caller hangs up
        with contextlib.suppress(OSError):  # a caller already gone: its hang-up ends the child
            conn.send(json.dumps({"pid": pid}).encode())

    def _hung_up(self, conn: socket.socket) -> None:
        """The caller went away (killed, its terminal closed): so goes its command."""
        self.selector.unregister(conn)
        for pid, waiting in self.children.items():
            if waiting is conn:
                _kill(pid)

    def _reap(self) -> None:
        while self.children:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            if _registered(self.selector, conn):
                self.selector.unregister(conn)
            code = os.waitstatus_to_exitcode(status)
            try:
                ended = {"exit": code} if code >= 0 else {"signal": -code}
                conn.send(json.dumps({**ended, "cpu": usage.ru_utime + usage.ru_stime}).encode())
            except OSError:
                pass
            conn.close()
            self.last_used = time.monotonic()


def _registered(selector: selectors.BaseSelector, conn: socket.socket) -> bool:
    try:
        selector.get_key(conn)
    except (KeyError, ValueError):
        return False
    return True


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def _run(request: dict[str, Any], fds: list[int], conn: socket.socket) -> NoReturn:
    """In the fork: become the caller's `lienthong` process and run the CLI's ``main()``; never returns."""
    code = 1
    try:
        conn.close()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        _become_caller(request)
        from lienthong.cli.app import main

        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        traceback.print_exc()
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:  # noqa: BLE001 - as the interpreter would: the traceback, exit 1
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()  # what the cold process runs at its exit
        finally:
            _flush()
            os._exit(code)


def _become_caller(request: dict[str, Any]) -> None:
    """The caller's working folder, umask, environment, argv and stdio; then what was read from those at import."""
    os.chdir(request["cwd"])
    os.umask(request["umask"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    main_module = types.ModuleType("__main__")  # click names the program after it (`python -m lienthong.cli`)
    main_module.__package__ = request["main_package"]
    if request["main_file"]:
        main_module.__file__ = request["main_file"]
    sys.modules["__main__"] = main_module
    stdin, stdout, stderr = request["streams"]
    sys.stdin = sys.__stdin__ = _stream(0, "r", stdin)
    sys.stdout = sys.__stdout__ = _stream(1, "w", stdout)
    sys.stderr = sys.__stderr__ = _stream(2, "w", stderr)
    _fresh_terminal_state()


def _stream(fd: int, mode: str, spec: dict[str, Any]) -> io.TextIOWrapper:
    """A text stream over ``fd`` set up as the caller's own (encoding, errors, buffering)."""
    raw = open(fd, mode + "b", closefd=False)  # noqa: SIM115 - lives as long as the process
    return io.TextIOWrapper(raw, encoding=spec["encoding"], errors=spec["errors"], newline="\n",
                            line_buffering=spec["line_buffering"], write_through=spec["write_through"])


def _fresh_terminal_state() -> None:
    """What the consoles and Typer read at import from the terminal and the environment, read again."""
    import importlib

    import typer.rich_utils

    from lienthong.console import console, err_console
    from lienthong.settings import use_settings

    # The same arguments as lienthong/console.py: width, colours and terminal detection of the caller's streams.
    console.__init__()
    err_console.__init__(stderr=True)
    importlib.reload(typer.rich_utils)
    use_settings(None)


def _exit_code(exc: SystemExit) -> int:
    """As the interpreter turns a SystemExit into an exit code (a message is printed, exit 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
