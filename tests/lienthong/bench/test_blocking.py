"""`lienthong bench blocking` writes its own section: pairs and reachable true pairs of the rules now and before.
(The figures are measurements, in docs/BENCHMARKS.md; what is asserted is what the command computes.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from lienthong.bench.blocking import RULES_BEFORE, _count, _features
from lienthong.bench.job import write_members
from lienthong.match.model import _BLOCKING
from tests.lienthong.cli.in_process import run_cli


@pytest.mark.bench
def test_the_command_writes_only_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- bench:hub -->\n## The hub\nkept\n<!-- /bench:hub -->\n", encoding="utf-8")
    run = run_cli("bench", "blocking", "--sizes", "3000", "--out", str(out))  # in process
    assert run.returncode == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert "## The hub\nkept" in text and "<!-- bench:blocking -->" in text and "pairs at 3,000" in text
    assert "| now: family, given, dob |" in text and "| before: given, dob |" in text


def test_pairs_are_counted_per_block_and_true_pairs_by_any_shared_key(tmp_path: Path) -> None:
    csv_path, truth = write_members(tmp_path, 3_000)
    features = _features(csv_path, tmp_path / "features")
    now, before = _count(features, truth, _BLOCKING), _count(features, truth, RULES_BEFORE)
    assert now["true_pairs"] == before["true_pairs"] > 30  # the generator's re-registrations
    assert now["pairs"] < before["pairs"] and now["reached"] > 0.99
    assert "email" not in now["per_rule"] and "given, family, postcode" not in now["per_rule"]  # empty columns
    assert now["pairs"] == sum(now["per_rule"].values())
