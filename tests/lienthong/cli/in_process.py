"""`lienthong …` run inside the test process: the same ``main()`` the console script calls, without paying a new
interpreter and its ~5 s of imports (Great Expectations, pandas, SQLAlchemy) per command (issue 16).

What a separate process would give the command is given to it here for the time of the call: its own environment
(``os.environ`` replaced, settings re-read), working folder, ``sys.argv``, stdin, stdout and stderr, a terminal
width (``COLUMNS``), Python's default warning filters and the last-resort logging to stderr. The result is a
``subprocess.CompletedProcess`` with the exit code a process would have had, so assertions stay as they were.
Each door keeps at least one test through a real process (tests/lienthong/test_cli.py and others say which).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: Path | str | None = None,
            ) -> subprocess.CompletedProcess[str]:
    """Run ``lienthong *args`` as ``python -m lienthong.cli *args`` would, in this process.

    Args:
        args: the command line after ``lienthong``.
        env: the whole environment of the command (default: this process's).
        cwd: its working folder (default: this process's).

    Returns:
        The exit code, stdout and stderr, as ``subprocess.run(..., capture_output=True, text=True)`` returns them.
    """
    from lienthong.cli.app import main
    from lienthong.settings import use_settings

    out, err = io.StringIO(), io.StringIO()
    with _environment(env), _folder(cwd), _argv(["lienthong", *args]), _consoles(), \
            redirect_stdout(out), redirect_stderr(err), _stdin(), _default_warnings(), _last_resort_logging():
        use_settings(None)
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - what the interpreter does with an exception main() lets through
            traceback.print_exc()
            code = 1
        finally:
            use_settings(None)
    return subprocess.CompletedProcess(["lienthong", *args], code, out.getvalue(), err.getvalue())


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # sys.exit("text"): the interpreter prints it and exits 1
    return 1


@contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _folder(cwd: Path | str | None) -> Iterator[None]:
    saved = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


@contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = saved


@contextmanager
def _stdin() -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        yield
    finally:
        sys.stdin = saved


@contextmanager
def _consoles() -> Iterator[None]:
    """The process's rich consoles take the width a new process would (COLUMNS, else 80: output is not a
    terminal); they were built once, at import, with whatever width this process had then."""
    from lienthong.console import console, err_console

    saved = [(c, c._width) for c in (console, err_console)]  # noqa: SLF001 - no public way to unset a width
    columns = os.environ.get("COLUMNS", "")
    for c, _ in saved:
        c.width = int(columns) if columns.isdigit() else 80
    try:
        yield
    finally:
        for c, width in saved:
            c._width = width  # noqa: SLF001


@contextmanager
def _default_warnings() -> Iterator[None]:
    """Warnings printed to stderr under Python's default filters, as in a new process (not pytest's capture)."""
    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001, ARG001
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.showwarning = show
        yield


@contextmanager
def _last_resort_logging() -> Iterator[None]:
    """A new process with no logging configured prints warnings and errors to stderr (logging.lastResort)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
