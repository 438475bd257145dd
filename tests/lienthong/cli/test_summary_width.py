"""The sync summary table fits an 80-column terminal, numbers whole, for the demo's sources."""

from __future__ import annotations

from rich.console import Console

from lienthong.cli.runs import RunOutcome, summary_table
from lienthong.pipeline import SourceRun


def test_the_sync_summary_fits_80_columns() -> None:
    outcome = RunOutcome(matches={"members": {"records": 123_456, "entities_created": 98_765, "merges": 1_234,
                                              "review_pairs": 56}})
    for sid, ds in (("hlhpn_api", "members"), ("hnd_files", "members"), ("dtn_db", "members"),
                    ("feedback_247", "feedback"), ("relief_campaigns", "relief")):
        outcome.runs.append(SourceRun(sid, ds, rows_read=1_234_567, rows_valid=1_234_000, rows_quarantined=567,
                                      rows_published=1_234_000, batches_seen=12, seconds=1234.5))
    console = Console(width=80, record=True, color_system=None)
    console.print(summary_table(outcome))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "1,234,567" in text and "relief_campaigns" in text and "1234.5" in text and "12 seen" in text
