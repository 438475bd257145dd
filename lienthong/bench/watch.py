"""Run a command in a fresh process and measure it whole: wall time and the peak memory of its process tree.

Why a tree: `lienthong sync` parses files in spawned worker processes, so the parent's own peak (``ru_maxrss``)
would miss them. The tree's resident memory is sampled while it runs; a tree that passes ``memory_limit_mib`` or
runs past ``timeout`` is stopped and reported as not finished, so a size that does not fit (10M rows) is a line in
the benchmark, not a machine out of memory.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Watched:
    """What one watched run did. ``status`` is ``ok``, ``out of memory``, ``timed out`` or ``failed``."""

    status: str
    seconds: float
    peak_mib: float
    returncode: int | None
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def why(self) -> str:
        """One line saying how the run ended when it did not finish (empty when it did)."""
        if self.ok:
            return ""
        if self.status == "failed":
            last = next((line for line in reversed(self.stderr.strip().splitlines()) if line.strip()), "")
            return f"failed (exit code {self.returncode}): {last[:200]}"
        return f"{self.status} after {self.seconds:,.0f} s, at {self.peak_mib:,.0f} MiB"


def _psutil():  # noqa: ANN202 - the psutil module, from the bench extra
    try:
        import psutil
    except ImportError:
        msg = "the job benchmark measures memory with psutil: install the bench extra (pip install 'lienthong[bench]')"
        raise SystemExit(msg) from None
    return psutil


def _tree_rss(process) -> int:  # noqa: ANN001 - psutil.Process
    """Resident bytes of ``process`` and all its descendants (0 for those that ended meanwhile)."""
    psutil = _psutil()
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


def _stop_tree(process) -> None:  # noqa: ANN001 - psutil.Process
    psutil = _psutil()
    try:
        members = [*process.children(recursive=True), process]
    except psutil.Error:
        return
    for member in members:
        try:
            member.kill()
        except psutil.Error:
            continue


def run_watched(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
                memory_limit_mib: float = float("inf"), timeout: float = float("inf")) -> Watched:
    """Run ``command`` to its end (or its stop) and return what it did; never raises for the command's failure.

    Args:
        command: the program and its arguments.
        env: its environment (default: this process's).
        cwd: its working folder.
        memory_limit_mib: stop the tree when its resident memory passes this.
        timeout: stop the tree after this many seconds.
    """
    psutil = _psutil()
    # Output to files, not pipes: a chatty child never blocks on a full pipe while only its memory is sampled.
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=out_f, stderr=err_f)
        process = psutil.Process(child.pid)
        peak, status = 0, "ok"
        while child.poll() is None:
            peak = max(peak, _tree_rss(process))
            if peak > memory_limit_mib * 2**20:
                status = "out of memory"
            elif time.perf_counter() - started > timeout:
                status = "timed out"
            if status != "ok":
                _stop_tree(process)
                child.wait()
                break
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        if status == "ok" and child.returncode != 0:
            status = "out of memory" if child.returncode == -9 else "failed"  # SIGKILL: the kernel's OOM killer
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace")
    return Watched(status, seconds, peak / 2**20, child.returncode, stdout, stderr)
