"""The quality report lists each dataset's rules once, and under each batch only the rules it failed."""

from __future__ import annotations

from datetime import UTC, datetime

from quality.report import BatchReport, RunReport, render_quality_report
from quality.validate import ExpectationOutcome


def _outcome(rule: str, columns: tuple[str, ...], failing: int) -> ExpectationOutcome:
    return ExpectationOutcome(expectation_type=f"expect_{rule}", columns=columns, rule=rule, success=failing == 0,
                              element_count=100, unexpected_count=failing,
                              description_vi=f"Quy tắc {rule}", description_en=f"rule {rule}")


def test_rules_once_and_failed_ones_per_batch() -> None:
    outcomes = [_outcome("required", ("full_name",), 2), _outcome("pattern", ("phone",), 0),
                _outcome("max_length", ("address",), 0)]
    batches = [BatchReport(source_id="hnd_files", dataset="members", batch_id=f"b{i}", origin=f"f{i}.csv",
                           rows_read=100, rows_valid=98, rows_quarantined=2, outcomes=outcomes) for i in range(20)]
    page = render_quality_report(RunReport("run", datetime.now(UTC), batches))
    assert page.count("Quy tắc pattern") == 1  # passing rules: once, in the dataset's list
    assert page.count("Quy tắc required") == 21  # once in the list, and under each batch that failed it
    assert page.count("2/3 quy tắc") == 20
