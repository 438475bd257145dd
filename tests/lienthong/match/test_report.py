"""The match report: Vietnamese first with English under it, m/u per level and what they mean."""

from __future__ import annotations

from lienthong.match.report import level_vi, meaning, weight_checks, write_match_report


def test_report_is_vietnamese_with_an_english_switch(matched, tmp_path):
    path = write_match_report(tmp_path / "match.html", matched.model, matched.stats, "Thử nghiệm")
    text = path.read_text(encoding="utf-8")
    assert '<html lang="vi">' in text and 'id="show-en"' in text
    assert "Báo cáo ghép bản ghi" in text and '<span class="en" lang="en">Match report</span>' in text
    assert "Trùng khớp hoàn toàn" in text and "Exact match on given" in text
    assert "Cứ 100 cặp bản ghi của cùng một người" in text and "times more likely" in text


def test_levels_and_meanings_in_plain_words():
    assert level_vi("Jaro-Winkler distance of given >= 0.92") == "Gần giống (Jaro-Winkler ≥ 0.92)"
    assert level_vi("day and month swapped") == "Đảo ngày và tháng"
    vi, en = meaning({"m": 0.9, "u": 0.01, "weight": 6.49})
    assert "90 cặp" in vi and "tăng 89.9 lần" in vi and "1 in 100 pairs of two random people" in en
    vi, en = meaning({"m": 0.01, "u": 0.5, "weight": -5.64})
    assert "giảm" in vi and "less likely" in en


def test_checks_speak_both_languages():
    weights = [{"comparison": "given", "level": "Exact match on given", "m": 0.1, "u": 0.2, "weight": -1.0},
               {"comparison": "sex", "level": "All other comparisons", "m": 0.6, "u": 0.5, "weight": 0.3}]
    checks = weight_checks(weights)
    assert checks[0] == ("Tên: trùng khớp hoàn toàn lại bị tính là bằng chứng chống (-1.0)",
                         "given: an exact match counts against a match (-1.0)")
    assert "disagreement counts for a match" in checks[1][1]
