"""`lienthong bench rules` writes its own section of the benchmarks file, one row per step, other sections kept.
(The figures themselves are not asserted: they are measurements, in docs/BENCHMARKS.md.)"""

from __future__ import annotations

from pathlib import Path

from lienthong.bench.rules import measure, render
from tests.lienthong.cli.in_process import run_cli

STEPS = ["generate_members", "read_payload (CSV: detect encoding + parse)", "normalize_text",
         "normalize_tone_placement", "fix_case", "fix_column_encoding (Unicode)", "fix_column_encoding (tcvn3)",
         "fix_column_encoding (vni)", "fix_column_encoding (viqr)", "split_names", "reversed_order",
         "name_match_key", "normalize_phone", "parse_dates", "check_age", "normalize_id_number", "check_cccd",
         "load_code_lists (uncached: manifest, CSVs, vietnam-provinces; once)"]


def test_every_rule_is_measured_on_the_rows_asked_for() -> None:
    figures = measure(500)
    assert list(figures["seconds"]) == STEPS
    assert all(s > 0 for s in figures["seconds"].values())
    table = render(figures)
    assert all(f"| {step} |" in table for step in STEPS) and "--rows 500" in table


def test_the_command_writes_only_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- bench:hub -->\n## The hub\nkept\n<!-- /bench:hub -->\n", encoding="utf-8")
    run = run_cli("bench", "rules", "--rows", "300", "--out", str(out))  # the command's main(), in this process
    assert run.returncode == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert "## The hub\nkept" in text and "<!-- bench:rules -->" in text and "| check_cccd |" in text
