"""`lienthong bench startup` writes its own section: check, normalize and --help timed in fresh interpreters (check
and normalize cold and served by the warm process), the imports by package, the in-process split. (The figures
are measurements, in docs/BENCHMARKS.md, not asserted here.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


# A benchmark run end to end (~20 fresh interpreters: 43 s of a worker): `make test-all` and CI, as `bench job`'s
# own test (tests/lienthong/bench/test_job.py).
@pytest.mark.bench
def test_the_command_writes_its_section_with_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- bench:hub -->\n## The hub\nkept\n<!-- /bench:hub -->\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "lienthong.cli", "bench", "startup", "--runs", "1", "--out",
                          str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert "## The hub\nkept" in text and "<!-- bench:startup -->" in text
    for command in ("check", "normalize"):
        for how in ("cold", "warm"):
            assert re.search(rf"\| `lienthong {command}` \(15 rows\), {how} \| [\d.]+ s \| [\d.]+ s \|", text)
    assert "2 of 2 warm calls served by it" in text  # the warm rows measured warm calls, not cold ones
    assert re.search(r"great_expectations [\d.]+ s", text), "the import profile names GX"
    assert re.search(r"checking the file [\d.]+ s .* checking it again [\d.]+ s", text, re.S)
