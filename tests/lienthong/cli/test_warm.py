"""The warm process of `check` / `normalize` (lienthong/cli/warm.py): a call it serves prints, writes and exits
exactly as the cold call does; the second call is served by it; stale code or LIENTHONG_WARM=0 means cold; `warm
stop` leaves nothing behind. Real processes: the `lienthong` console script as pip writes it, a real server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Every test here starts real processes and most pay a cold start-up (~5 s of imports) or two: CI (`make test-all`)
# runs them; `make test` keeps the one that needs no server (the front door's imports).
ROOT = Path(__file__).resolve().parents[3]
SAMPLE_CLEAN = ("Họ và tên,Ngày sinh,Số CCCD,Dân tộc\nNguyễn Văn An,01/02/1990,001090012345,Kinh\n"
                "Trần Thị Bình,03/04/1991,001191012346,Tày\n")
SAMPLE_FAILING = ("Họ và tên,Ngày sinh,Số CCCD,Dân tộc\nNguyễn Văn An,01/02/1990,001090012345,Kinh\n"
                  "Lê Thị Hoa,31/02/1990,12,Kinhh\n")
# What pip writes for `[project.scripts] lienthong = "lienthong.cli.warm:main"` (sys.path[0] is its folder, not
# the caller's: every working folder reaches the same server).
CONSOLE_SCRIPT = "import sys\nfrom lienthong.cli.warm import main\nsys.exit(main())\n"


class Lienthong:
    """Runs `lienthong` as a clerk would, in a given folder and environment, with the warm process on."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        (tmp / "bin").mkdir()
        self.script = tmp / "bin" / "lienthong"
        self.script.write_text(CONSOLE_SCRIPT, encoding="utf-8")
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "COLUMNS": "120",
                    "LANG": "C.UTF-8", "LIENTHONG_HOME": str(tmp / "home"),
                    "LIENTHONG_WARM": "1", "LIENTHONG_WARM_DIR": str(tmp / "sockets")}

    def run(self, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, str(self.script), *args], capture_output=True, timeout=600,
                              cwd=cwd or self.tmp, env={**self.env, **env}, check=False)

    def status(self) -> tuple[int, int] | None:
        """(pid, commands served) of the running server, None when none answers."""
        run = self.run("warm", "status")
        if run.returncode == 1:
            return None
        m = re.search(r"warm process (\d+) since .*: (\d+) commands served", run.stdout.decode())
        assert m, run.stdout.decode() + run.stderr.decode()
        return int(m.group(1)), int(m.group(2))

    def start(self) -> int:
        run = self.run("warm", "start")
        assert run.returncode == 0, run.stdout.decode() + run.stderr.decode()
        status = self.status()
        assert status is not None
        return status[0]


@pytest.fixture(scope="module")
def lienthong() -> Iterator[Lienthong]:
    tmp = Path(tempfile.mkdtemp(prefix="ltw-", dir="/tmp"))  # short: a socket path holds at most 107 bytes
    cli = Lienthong(tmp)
    try:
        yield cli
    finally:
        cli.run("warm", "stop", "--all")
        shutil.rmtree(tmp, ignore_errors=True)


def _same_as_cold(cli: Lienthong, *args: str, cwd: Path | None = None, **env: str) -> None:
    """The call, cold then served: same exit code, stdout and stderr; the server's count says it served it."""
    before = cli.status()
    assert before is not None, "no warm server"
    cold = cli.run(*args, cwd=cwd, LIENTHONG_WARM="0", **env)
    warm = cli.run(*args, cwd=cwd, **env)
    assert cli.status() == (before[0], before[1] + 1)
    assert (warm.returncode, warm.stdout.decode(), warm.stderr.decode()) == \
           (cold.returncode, cold.stdout.decode(), cold.stderr.decode())


@pytest.mark.slow
def test_a_cold_check_starts_the_server_and_the_next_is_served(lienthong: Lienthong) -> None:
    sample = lienthong.tmp / "sach.csv"
    sample.write_text(SAMPLE_CLEAN, encoding="utf-8")
    assert lienthong.status() is None
    first = lienthong.run("check", str(sample))
    assert first.returncode == 0, first.stderr.decode()
    pid = lienthong.start()  # the server the cold check started, once it has warmed up
    assert lienthong.run("check", str(sample)).stdout == first.stdout
    assert lienthong.status() == (pid, 1)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["clean", "failing", "json", "unreadable", "no_such_file", "usage_error"])
def test_check_served_warm_is_the_cold_check(lienthong: Lienthong, case: str) -> None:
    lienthong.start()
    folder = lienthong.tmp / case
    folder.mkdir()
    (folder / "sach.csv").write_text(SAMPLE_CLEAN, encoding="utf-8")
    (folder / "loi.csv").write_text(SAMPLE_FAILING, encoding="utf-8")
    (folder / "hong.csv").write_bytes(b"\xff\xfe\x00garbage")
    args = {"clean": ["check", "sach.csv"], "failing": ["check", "loi.csv"], "json": ["check", "--json", "loi.csv"],
            "unreadable": ["check", "hong.csv"], "no_such_file": ["check", "khong_co.csv"],
            "usage_error": ["check", "--no-such-option", "sach.csv"]}[case]
    _same_as_cold(lienthong, *args, cwd=folder)  # relative paths: the caller's working folder


@pytest.mark.slow
def test_exit_codes_are_the_cold_ones(lienthong: Lienthong) -> None:
    """The cases above compare warm with cold; here what cold means: 0 clean, 1 failing rows, 2 unreadable."""
    lienthong.start()
    folder = lienthong.tmp / "codes"
    folder.mkdir()
    (folder / "sach.csv").write_text(SAMPLE_CLEAN, encoding="utf-8")
    (folder / "loi.csv").write_text(SAMPLE_FAILING, encoding="utf-8")
    (folder / "hong.csv").write_bytes(b"")
    assert [lienthong.run("check", f, cwd=folder).returncode for f in ("sach.csv", "loi.csv", "hong.csv")] == [0, 1, 2]


@pytest.mark.slow
def test_normalize_writes_where_the_caller_is(lienthong: Lienthong) -> None:
    lienthong.start()
    cold_dir, warm_dir = lienthong.tmp / "n_cold", lienthong.tmp / "n_warm"
    for folder in (cold_dir, warm_dir):
        folder.mkdir()
        (folder / "loi.csv").write_text(SAMPLE_FAILING, encoding="utf-8")
    args = ("normalize", "loi.csv", "--out", "ra/sach.csv")
    before = lienthong.status()
    cold = lienthong.run(*args, cwd=cold_dir, LIENTHONG_WARM="0")
    warm = lienthong.run(*args, cwd=warm_dir)
    assert lienthong.status()[1] == before[1] + 1
    assert warm.returncode == cold.returncode == 0, warm.stderr.decode()
    assert warm.stderr == cold.stderr
    assert warm.stdout.decode().replace(str(warm_dir), "") == cold.stdout.decode().replace(str(cold_dir), "")
    assert (warm_dir / "ra" / "sach.csv").read_bytes() == (cold_dir / "ra" / "sach.csv").read_bytes()


@pytest.mark.slow
def test_settings_are_the_callers_each_time(lienthong: Lienthong) -> None:
    """--home, LIENTHONG_HOME and LIENTHONG_SOURCES_DIR of each call, not of the server or the previous call."""
    lienthong.start()
    folder = lienthong.tmp / "settings"
    (folder / "sources").mkdir(parents=True)
    (folder / "loi.csv").write_text(SAMPLE_FAILING, encoding="utf-8")
    _same_as_cold(lienthong, "--home", str(folder / "h1"), "check", "loi.csv", cwd=folder)
    _same_as_cold(lienthong, "check", "loi.csv", cwd=folder, LIENTHONG_HOME=str(folder / "h2"))
    # a source known in the default folder, unknown in an empty one: exit 2 naming the (no) known sources
    _same_as_cold(lienthong, "check", "loi.csv", "--source", "hnd_files", cwd=folder,
                  LIENTHONG_SOURCES_DIR=str(folder / "sources"))
    _same_as_cold(lienthong, "check", "loi.csv", "--source", "hnd_files", cwd=folder)


@pytest.mark.slow
def test_switched_off_by_the_environment(lienthong: Lienthong) -> None:
    lienthong.start()
    pid, served = lienthong.status()
    sample = lienthong.tmp / "off.csv"
    sample.write_text(SAMPLE_CLEAN, encoding="utf-8")
    assert lienthong.run("check", str(sample), LIENTHONG_WARM="0").returncode == 0
    assert lienthong.status() == (pid, served)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl_c", "killed"])
def test_the_callers_end_is_its_commands_end(lienthong: Lienthong, how: str) -> None:
    """Ctrl-C in the caller interrupts the command as it would a cold one (click: exit 130); a caller killed takes
    its command with it. The command waits on a named pipe no one writes, so it is surely running."""
    lienthong.start()
    fifo = lienthong.tmp / f"{how}.csv"
    os.mkfifo(fifo)
    caller = subprocess.Popen([sys.executable, str(lienthong.script), "check", str(fifo)], cwd=lienthong.tmp,
                              env=lienthong.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _until(lambda: _running(lienthong) == 1)
    caller.send_signal(signal.SIGINT if how == "ctrl_c" else signal.SIGKILL)
    caller.communicate(timeout=120)
    assert caller.returncode == (130 if how == "ctrl_c" else -signal.SIGKILL)
    _until(lambda: _running(lienthong) == 0)


def _running(cli: Lienthong) -> int:
    m = re.search(r"(\d+) running", cli.run("warm", "status").stdout.decode())
    assert m
    return int(m.group(1))


def _until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (a state, not a duration: the bound only ends a test that would hang)."""
    for _ in range(300):
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the state was not reached")


@pytest.mark.slow
def test_stale_code_runs_cold_and_restarts(lienthong: Lienthong) -> None:
    """A file of the project changed since the server started: it leaves, the call runs cold, a new one starts."""
    old = lienthong.start()
    sample = lienthong.tmp / "stale.csv"
    sample.write_text(SAMPLE_FAILING, encoding="utf-8")
    cold = lienthong.run("check", str(sample), LIENTHONG_WARM="0")
    touched = ROOT / "lienthong" / "cli" / "warm_cmd.py"
    was = touched.stat()
    os.utime(touched, ns=(was.st_atime_ns, max(was.st_mtime_ns, time.time_ns()) + 1_000_000_000))
    try:
        stale = lienthong.run("check", str(sample))
        assert (stale.returncode, stale.stdout, stale.stderr) == (cold.returncode, cold.stdout, cold.stderr)
        new = lienthong.start()
        assert new != old
        assert lienthong.status() == (new, 0)  # the stale call was not served: it ran cold
        _same_as_cold(lienthong, "check", str(sample))
    finally:
        os.utime(touched, ns=(was.st_atime_ns, was.st_mtime_ns))


@pytest.mark.slow
def test_stop_leaves_no_server(lienthong: Lienthong) -> None:
    pid = lienthong.start()
    stopped = lienthong.run("warm", "stop")
    assert stopped.returncode == 0 and f"warm process {pid} stopped" in stopped.stdout.decode()
    assert lienthong.status() is None
    assert not list((lienthong.tmp / "sockets").glob("*.sock"))
    for _ in range(100):  # it has closed its socket; its exit follows
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_front_door_imports_no_library() -> None:
    """What every `lienthong` call pays before it is handed over: the standard library only."""
    probe = ("import json, sys; import lienthong.cli.warm; "
             "print(json.dumps(sorted(m for m in ('typer', 'click', 'rich', 'pydantic', 'yaml') if m in sys.modules)))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert run.stdout.strip() == "[]"
