"""`lienthong bench file-parts` writes its own section: each size read whole and in parts, with the same counts.
(The figures themselves are not asserted: they are measurements, in docs/BENCHMARKS.md.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lienthong.cli.in_process import run_cli


@pytest.mark.integration
@pytest.mark.bench
def test_the_command_measures_whole_and_parts_and_writes_only_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- bench:hub -->\n## The hub\nkept\n<!-- /bench:hub -->\n", encoding="utf-8")
    run = run_cli("bench", "file-parts", "--sizes", "450", "--part-rows", "100", "--out", str(out))  # in process
    assert run.returncode == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert "## The hub\nkept" in text and "<!-- bench:file-parts -->" in text and "| 450 |" in text
    assert "the same both ways" in text and "batches of 100 rows" in text
