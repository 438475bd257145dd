"""The `lienthong` command's front door: `check` and `normalize` handed to a warm process when one is listening.

A clerk's `check` of a 15-row file spends most of its seconds importing Great Expectations (and what it imports:
scipy, altair, SQLAlchemy, pyspark), not checking. So, as dmypy, the Gradle daemon or Nailgun do, the first
`check` or `normalize` runs as usual ("cold") and then starts a server in the background that has the same code
imported and its suite, code lists and gazetteer built (:mod:`lienthong.cli.warm_server`); the next calls connect
to it, hand over their argv, working folder, environment and their stdin/stdout/stderr themselves, and exit with
the exit code of the CLI's own ``main()`` run in a fresh fork of that server. The output is the cold run's.

This module is what runs before anything else, so it imports only the standard library. It reads its own switches
from the environment here, not through :mod:`lienthong.settings` (importing pydantic would cost what it saves):
``LIENTHONG_WARM=0`` turns it off; ``LIENTHONG_WARM_DIR`` moves the socket folder (tests, benchmarks).

The server is only reached over a Unix socket in a folder of mode 0700 owned by the user, and it checks the
caller's uid (SO_PEERCRED). It serves only callers running the same code: same interpreter, ``sys.path`` and
flags (the socket's name), and the same files of the project packages (the fingerprint); a caller whose
fingerprint differs makes it exit, runs cold and starts a new one. It exits after :data:`IDLE_SECONDS` unused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess
    from typing import Any

WARM_COMMANDS = frozenset({"check", "normalize"})
IDLE_SECONDS = 15 * 60
MAX_MESSAGE = 1 << 20  # a request holds the caller's environment; a packet of a SOCK_SEQPACKET socket is bounded
_GLOBAL_OPTIONS = ("--home", "--database-url")  # the app's options before the command (lienthong.cli.app._global)
_PACKAGES = ("lienthong", "connectors", "schemas", "catalog", "quality")
# What a process fixes at start-up from its environment (encodings, locale, time zone, switches of the libraries
# read when they are imported): a caller whose values differ is not served by a process started with others.
_STARTUP_VARIABLES = ("PYTHON", "LC_", "LANG", "TZ", "TYPER_", "_TYPER_", "GX_", "GE_", "HOME")


def main() -> None:
    """The `lienthong` command (pyproject ``[project.scripts]``, ``python -m lienthong.cli``)."""
    args = sys.argv[1:]
    warm = enabled() and command_of(args) in WARM_COMMANDS
    if warm:
        code = hand_over()
        if code is not None:
            raise SystemExit(code)
    from lienthong.cli.app import main as cold_main

    try:
        cold_main()
    finally:
        if warm:
            start_server()


def enabled() -> bool:
    """Whether this process may use (and start) a warm server: not switched off, and a Linux socket API."""
    switched_off = os.environ.get("LIENTHONG_WARM", "1").strip().lower() in ("0", "false", "no", "off")
    return not switched_off and hasattr(socket, "SO_PEERCRED") and hasattr(socket, "send_fds")


def command_of(args: list[str]) -> str | None:
    """The command of `lienthong *args`, after the global options (``--home X check f.csv`` → ``check``)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_OPTIONS:
            i += 2
        elif arg == "--debug" or arg.startswith(tuple(f"{o}=" for o in _GLOBAL_OPTIONS)):
            i += 1
        else:
            return arg
    return None


def folder() -> Path:
    """The per-user folder of the sockets: ``$LIENTHONG_WARM_DIR``, ``$XDG_RUNTIME_DIR/lienthong`` or
    ``/tmp/lienthong-<uid>``; created with mode 0700, refused when another user owns it or can enter it."""
    given = os.environ.get("LIENTHONG_WARM_DIR")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(given) if given else Path(runtime) / "lienthong" if runtime else Path(f"/tmp/lienthong-{os.getuid()}")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077 or not path.is_dir() or path.is_symlink():
        msg = f"{path}: not a private folder of this user (mode 0700); the warm process is not used"
        raise PermissionError(msg)
    return path


def key() -> str:
    """What names this code's server: the interpreter, its flags and ``sys.path`` (each checkout its own)."""
    identity = [sys.executable, sys.path, list(sys.flags), sorted(sys._xoptions.items())]
    return hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()[:16]


def socket_path() -> Path:
    return folder() / f"warm-{key()}.sock"


def fingerprint() -> dict[str, Any]:
    """What a server and its caller must share beyond :func:`key`: the version, the newest change to a file of the
    project packages (code, code lists, templates; a deleted file changes its folder), the start-up variables."""
    import lienthong

    root = Path(lienthong.__file__).resolve().parents[1]
    newest = 0
    for package in _PACKAGES:
        for here, dirs, files in os.walk(root / package):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            newest = max(newest, os.stat(here).st_mtime_ns, *(os.stat(os.path.join(here, f)).st_mtime_ns
                                                              for f in files if not f.endswith(".pyc")))
    variables = {k: v for k, v in os.environ.items() if k.startswith(_STARTUP_VARIABLES)}
    return {"key": key(), "version": lienthong.__version__, "newest_file_ns": newest, "variables": variables}


def _request() -> dict[str, Any]:
    main_module = sys.modules["__main__"]
    umask = os.umask(0)
    os.umask(umask)
    streams = [{"encoding": s.encoding, "errors": s.errors, "line_buffering": s.line_buffering,
                "write_through": s.write_through} for s in (sys.stdin, sys.stdout, sys.stderr)]
    return {"fingerprint": fingerprint(), "argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ),
            "umask": umask, "streams": streams, "main_package": getattr(main_module, "__package__", None),
            "main_file": getattr(main_module, "__file__", None)}


def hand_over() -> int | None:
    """Run this command in the warm server; its exit code, or None when no server takes it (then run cold)."""
    try:
        conn = connect()
    except OSError:
        return None
    with conn:
        try:
            request = json.dumps(_request()).encode()
            socket.send_fds(conn, [request], [0, 1, 2])
            reply = receive(conn)
        except (OSError, ValueError, AttributeError):  # a closed stdio, a vanished cwd, a server going away
            return None
        if "pid" not in reply:  # {"stale": true}: that server is leaving; this call runs cold
            return None
        return _wait(conn, reply["pid"])


def _wait(conn: socket.socket, pid: int) -> int:
    """The child's exit code; Ctrl-C here is Ctrl-C there (the child is not in this terminal's process group)."""
    while True:
        try:
            reply = receive(conn)
        except KeyboardInterrupt:
            _signal(pid, signal.SIGINT)
            continue
        except (OSError, ValueError):
            return 1  # the server went away mid-run
        if "signal" in reply:  # as the cold process would have ended: killed by that signal
            signal.signal(reply["signal"], signal.SIG_DFL)
            os.kill(os.getpid(), reply["signal"])
        return int(reply.get("exit", 1))


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def connect(path: Path | None = None) -> socket.socket:
    """A connection to the server of this code (OSError when none listens)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(str(path or socket_path()))
    except OSError:
        conn.close()
        raise
    return conn


def receive(conn: socket.socket) -> dict[str, Any]:
    data = conn.recv(MAX_MESSAGE)
    if not data:
        msg = "the warm server closed the connection"
        raise ConnectionError(msg)
    return json.loads(data)


def ask(message: dict[str, Any], path: Path | None = None) -> dict[str, Any] | None:
    """The answer to ``{"status": true}`` or ``{"stop": true}`` of this code's server (or of the one at ``path``);
    None when none listens."""
    try:
        conn = connect(path)
    except OSError:
        return None
    with conn:
        conn.send(json.dumps(message).encode())
        try:
            return receive(conn)
        except (OSError, ValueError):
            return None


def start_server() -> subprocess.Popen | None:
    """Start this code's server in the background (its own session, no terminal), for the next call.

    It takes the folder's lock for its socket first: when a server already runs, the new one leaves at once.
    """
    import subprocess

    try:
        path = socket_path()
    except OSError:
        return None
    serve = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); from lienthong.cli.warm_server import serve; "
             "serve(sys.argv[2])")
    with open(path.with_suffix(".log"), "ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, *subprocess._args_from_interpreter_flags(), "-c", serve, json.dumps(sys.path),
             str(path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, cwd="/", start_new_session=True)
