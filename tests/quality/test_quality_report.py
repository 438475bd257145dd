"""The HTML quality report: renders offline, Vietnamese first, every value escaped."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from quality.reasons import Reason
from quality.report import (
    BatchReport,
    RunReport,
    render_quality_report,
    summarise_reasons,
    write_quality_report,
)
from quality.validate import validate_frame
from schemas.members import Member
from tests.quality.quality_synthetic import code_lists, members

LISTS = code_lists(ward_count=50)
NOW = datetime(2025, 7, 1, 12, 0)


@pytest.fixture(scope="module")
def run() -> RunReport:
    frame = members(30, bad_share=0, ward_count=50)[0]
    frame.loc[1, "full_name"] = None
    frame.loc[2, "ethnicity_code"] = "Kinhh"
    frame.loc[3, "ethnicity_code"] = "Kinhh"
    frame.loc[4, "ethnicity_code"] = "<script>alert('x')</script>"
    frame.loc[4, "id_number"] = "0123456789"
    result = validate_frame(frame, Member, LISTS, now=NOW)
    batch = BatchReport.from_validation(
        result,
        source_id="hpn-ha-noi",
        dataset="members",
        batch_id="b-0001",
        origin="uploads/<img src=x onerror=alert(1)>.csv",
        rows_published=26,
    )
    return RunReport(run_id="run-42", started_at=datetime(2025, 7, 1, 8), batches=[batch])


def test_batch_counts_come_from_the_validation(run):
    (batch,) = run.batches
    counts = (batch.rows_read, batch.rows_valid, batch.rows_quarantined, batch.rows_published)
    assert counts == (30, 26, 4, 26)
    assert (batch.top_reasons[0].column, batch.top_reasons[0].rows) == ("ethnicity_code", 3)  # one rule, 3 rows
    assert batch.top_reasons[0].message_vi.startswith("Giá trị 'Kinhh' của Dân tộc")


def test_the_page_is_vietnamese_first_and_self_contained(run):
    page = render_quality_report(run)

    assert page.startswith("<!doctype html>")
    assert '<html lang="vi">' in page
    assert "Báo cáo chất lượng dữ liệu" in page
    assert page.index("Báo cáo chất lượng dữ liệu") < page.index("Data quality report")
    assert 'lang="en"' in page
    assert "Thiếu Họ và tên — bắt buộc phải có" in page
    assert "Giá trị &#39;Kinhh&#39; của Dân tộc không có trong danh mục dùng chung" in page
    assert "Số CCCD/CMND phải gồm 9 hoặc 12 chữ số" in page
    assert "Hội viên, đoàn viên" in page  # the dataset's title
    assert "✗ Không đạt" in page and "✓ Đạt" in page
    assert '<th scope="col"' in page and "<caption>" in page
    assert not re.search(r"<(script|link|iframe|img)\b", page, re.IGNORECASE)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_every_value_is_escaped(run):
    page = render_quality_report(run)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "uploads/&lt;img src=x onerror=alert(1)&gt;.csv" in page


def test_personal_values_stay_masked_in_the_page(run):
    page = render_quality_report(run)
    assert "0123456789" not in page
    assert "*******789" in page


def test_the_report_is_written_as_utf8(run, tmp_path):
    path = write_quality_report(run, tmp_path / "reports" / "run-42.html")
    assert path == tmp_path / "reports" / "run-42.html"
    text = path.read_text(encoding="utf-8")
    assert "Lần chạy" in text and "run-42" in text
    assert "26" in text


def test_an_empty_run_renders():
    page = render_quality_report(RunReport(run_id="empty", started_at=datetime(2025, 7, 1), batches=[]))
    assert "Không có lô nào trong lần chạy này" in page


def test_a_batch_built_from_stored_data_renders():
    stored = {7: [Reason("required", "full_name", None, "Thiếu Họ và tên — bắt buộc phải có.", "missing")]}
    top, samples = summarise_reasons(stored)
    batch = BatchReport(
        source_id="hnd",
        dataset="unknown-dataset",
        batch_id="b-2",
        origin="db",
        rows_read=10,
        rows_valid=9,
        rows_quarantined=1,
        top_reasons=top,
        samples=samples,
    )
    page = render_quality_report(RunReport(run_id="r", started_at=datetime(2025, 7, 1), batches=[batch]))
    assert "chưa công bố" in page  # rows_published is None
    assert ">8<" in page  # row 7 (0-based) is shown as row 8


def test_reasons_are_ranked_and_samples_capped():
    reasons = {
        row: [Reason("in_code_list", "sex", "3", "Giới tính sai", "bad sex")]
        + ([Reason("required", "full_name", None, "Thiếu Họ và tên", "missing")] if row % 3 == 0 else [])
        for row in range(40)
    }
    top, samples = summarise_reasons(reasons, top=5, samples=20)
    assert [(t.message_vi, t.rows) for t in top] == [("Giới tính sai", 40), ("Thiếu Họ và tên", 14)]
    assert len(samples) == 20
    assert [s.row for s in samples[:3]] == [0, 0, 1]


def test_extra_reasons_from_earlier_stages_are_counted():
    frame = members(3, bad_share=0, ward_count=50)[0]
    result = validate_frame(frame, Member, LISTS, now=NOW)
    early = {2: [Reason("date_format", "joined_on", "31/02/2020", "Ngày vào hội không đúng", "bad date")]}
    batch = BatchReport.from_validation(
        result, source_id="s", dataset="members", batch_id="b", origin="o", extra_reasons=early
    )
    assert (batch.rows_valid, batch.rows_quarantined) == (2, 1)
    assert batch.samples[0].value == "31/02/2020"


def test_top_reasons_count_a_rule_once_whatever_values_it_quotes():
    reasons = {
        row: [Reason("in_code_list", "ward_code", f"9999{row}", f"Mã '9999{row}' không có", f"'9999{row}' unknown")]
        for row in range(6)
    }
    top, _ = summarise_reasons(reasons)
    assert [(t.rule, t.column, t.rows) for t in top] == [("in_code_list", "ward_code", 6)]
    assert top[0].message_vi == "Mã '99990' không có"
