"""Date parsing in every accepted form, day/month order by column, two-digit years, precision, and age checks."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.cleaning.base import Severity
from lienthong.cleaning.dates import ISSUES, DateResult, check_age, explain, format_dates, parse_dates

D = dt.date


def run(values: list, **options) -> list[tuple]:
    result = parse_dates(pa.array(values, pa.string()), century_pivot=25, **options)
    return list(zip(format_dates(result).to_pylist(), result.issues.to_pylist(), strict=True))


@pytest.mark.parametrize(("raw", "canonical", "issue"), [
    ("25/03/1990", "1990-03-25", None),
    ("5/3/1990", "1990-03-05", None),  # alone in its column: Vietnamese day-first
    ("05/03/1990", "1990-03-05", None),
    ("25-03-1990", "1990-03-25", None),
    ("25.03.1990", "1990-03-25", None),
    ("25-03-90", "1990-03-25", "date_two_digit_year"),
    ("25/3/05", "2005-03-25", "date_two_digit_year"),
    ("1990-03-25", "1990-03-25", None),
    ("1990/3/5", "1990-03-05", None),
    ("19900325", "1990-03-25", None),
    ("1990-03-25T00:00:00", "1990-03-25", None),
    ("25/03/1990 00:00:00", "1990-03-25", None),  # a date-time from an Excel export
    (" 25/03/1990 ", "1990-03-25", None),
    ("32957", "1990-03-25", "date_excel_serial"),
    ("32957.0", "1990-03-25", "date_excel_serial"),
    ("45839", "2025-07-01", "date_excel_serial"),
    ("ngày 25 tháng 3 năm 1990", "1990-03-25", None),
    ("Ngày 05 tháng 03 năm 1990", "1990-03-05", None),
    ("03/1990", "1990-03", "date_month_only"),
    ("3-1990", "1990-03", "date_month_only"),
    ("tháng 3/1990", "1990-03", "date_month_only"),
    ("T3/1990", "1990-03", "date_month_only"),
    ("1990-03", "1990-03", "date_month_only"),
    ("1985", "1985", "date_year_only"),
    ("năm 1985", "1985", "date_year_only"),
    ("1985.0", "1985", "date_year_only"),
    ("12/31/1990", "1990-12-31", "date_month_first"),  # only readable month-first
    ("31/02/1990", None, "date_invalid"),
    ("30/02/2000", None, "date_invalid"),
    ("31/04/1990", None, "date_invalid"),
    ("00/01/1990", None, "date_invalid"),
    ("13/13/1990", None, "date_invalid"),
    ("1990-13-01", None, "date_invalid"),
    ("13/1990", None, "date_invalid"),
    ("0000", None, "date_invalid"),
    ("abc", None, "date_format"),
    ("25/03", None, "date_format"),  # no year: nothing is invented
    ("1/2/3/4", None, "date_format"),
    ("", None, None),
    (None, None, None),
])
def test_every_accepted_form(raw, canonical, issue):
    assert run([raw]) == [(canonical, issue)]


@pytest.mark.parametrize(("raw", "ok"), [
    ("29/02/2000", True), ("29/02/2024", True), ("29/02/1996", True), ("29/02/1988", True),
    ("29/02/1900", False), ("29/02/2023", False), ("29/02/2100", False), ("29/02/1999", False),
    ("2024-02-29", True), ("2023-02-29", False), ("29.02.2000", True), ("29-02-00", True), ("29-02-01", False),
])
def test_29_february_in_leap_and_common_years(raw, ok):
    (canonical, issue), = run([raw])
    assert (canonical is not None) is ok
    assert (issue == "date_invalid") is not ok


def test_two_digit_years_pivot():
    assert [c for c, _ in run(["01/01/00", "01/01/25", "01/01/26", "01/01/99"])] == [
        "2000-01-01", "2025-01-01", "1926-01-01", "1999-01-01"]
    this_year = dt.date.today().year % 100
    default = parse_dates(pa.array([f"01/01/{this_year:02d}", f"01/01/{(this_year + 1) % 100:02d}"]))
    assert [d.year for d in default.values.to_pylist()] == [2000 + this_year, 1900 + (this_year + 1) % 100]


def test_day_first_column_reads_ambiguous_values_day_first():
    column = ["25/03/1990", "15/11/1985", "03/04/1990", "5/6/1970"]
    assert run(column) == [("1990-03-25", None), ("1985-11-15", None), ("1990-04-03", None), ("1970-06-05", None)]


def test_month_first_column_is_established_by_its_values():
    column = ["03/25/1990", "11/15/1985", "03/04/1990", "5/5/1970"]
    assert run(column) == [
        ("1990-03-25", "date_month_first"), ("1985-11-15", "date_month_first"),
        ("1990-03-04", "date_month_first"), ("1970-05-05", None)]  # 5/5 reads the same either way


def test_without_evidence_dayfirst_decides():
    assert run(["03/04/1990"], dayfirst=False) == [("1990-03-04", "date_month_first")]
    assert run(["03/04/1990"], dayfirst=True) == [("1990-04-03", None)]


def test_mixed_column_refuses_the_genuinely_ambiguous():
    column = ["25/03/1990", "12/31/1990", "03/04/1990", "04/04/1990"]
    assert run(column) == [
        ("1990-03-25", None), ("1990-12-31", "date_month_first"), (None, "date_ambiguous"), ("1990-04-04", None)]
    assert ISSUES["date_ambiguous"].severity is Severity.REJECTED


def test_a_stray_month_first_value_does_not_poison_a_day_first_column():
    column = [f"{d}/{m}/1990" for d in range(13, 29) for m in range(1, 13)]  # 192 day-first values
    result = run([*column, "12/31/1990", "03/04/1990"])
    assert result[-2:] == [("1990-12-31", "date_month_first"), ("1990-04-03", None)]


def test_precision_fields():
    result = parse_dates(pa.array(["25/03/1990", "03/1990", "1985", "x", None]))
    assert isinstance(result, DateResult)
    assert result.precision.to_pylist() == ["day", "month", "year", None, None]
    assert result.year.to_pylist() == [1990, 1990, 1985, None, None]
    assert result.month.to_pylist() == [3, 3, None, None, None]
    assert result.values.to_pylist() == [D(1990, 3, 25), None, None, None, None]
    assert result.values.type == pa.date32()


def test_date_arrays_pass_through():
    dates = pa.array([D(1990, 3, 25), None], pa.date32())
    result = parse_dates(dates)
    assert result.values.equals(dates) and result.issues.null_count == 2


def test_repeated_values_are_parsed_consistently():
    column = ["25/03/1990", "1985", "25/03/1990", "31/02/1990", "1985"] * 1000
    result = parse_dates(pa.array(column))
    assert format_dates(result).to_pylist()[:5] == ["1990-03-25", "1985", "1990-03-25", None, "1985"]
    assert len(result.values) == 5000


AS_OF = D(2025, 7, 1)


def ages(values: list, **options) -> list:
    return check_age(parse_dates(pa.array(values, pa.string())), as_of=AS_OF, **options).issues.to_pylist()


def test_age_rules():
    # 110 is plausible, 111 is not; a bare year is refused only if even its 31 December is too old.
    assert ages(["02/07/2025", "01/07/2025", "02/07/1914", "01/07/1914", "1913", "1914", "2026"]) == [
        "age_future", None, None, "age_implausible", "age_implausible", None, "age_future"]
    assert ages(["01/07/2007", "02/07/2007", "2007", "2008", "07/2007", "08/2007"], min_age=18) == [
        None, "age_below_minimum", None, "age_below_minimum", None, "age_below_minimum"]
    assert ISSUES["age_future"].severity is Severity.REJECTED
    assert ISSUES["age_implausible"].severity is Severity.REJECTED
    assert ISSUES["age_below_minimum"].severity is Severity.FLAGGED


def test_born_on_29_february():
    leapling = pa.array([D(2004, 2, 29)], pa.date32())
    assert check_age(leapling, as_of=D(2022, 2, 28), min_age=18).issues.to_pylist() == ["age_below_minimum"]
    assert check_age(leapling, as_of=D(2022, 3, 1), min_age=18).issues.to_pylist() == [None]


def test_check_age_keeps_the_input_kind_and_nulls_rejections():
    dates = pa.array([D(1990, 1, 1), D(2030, 1, 1), D(2010, 1, 1), None], pa.date32())
    result = check_age(dates, as_of=AS_OF, min_age=18)
    assert result.values.to_pylist() == [D(1990, 1, 1), None, D(2010, 1, 1), None]
    assert result.issues.to_pylist() == [None, "age_future", "age_below_minimum", None]
    parsed = check_age(parse_dates(pa.array(["1900", "1990"])), as_of=AS_OF)
    assert isinstance(parsed, DateResult) and format_dates(parsed).to_pylist() == [None, "1990"]


def test_messages():
    vi, en = explain("date_invalid", "31/02/1990")
    assert "31/02/1990" in vi and "31/02/1990" in en
    for code, issue in ISSUES.items():
        assert issue.code == code and issue.message_vi and issue.message_en


date_like = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=24),
    st.text(st.sampled_from("0123456789/.-: T"), max_size=20),
    st.builds(lambda d, m, y, sep, yy: f"{d}{sep}{m}{sep}{y % 100 if yy else y}",
              st.integers(0, 40), st.integers(0, 15), st.integers(1850, 2100), st.sampled_from("/.-"), st.booleans()),
    st.integers(0, 99999).map(str),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), date_like), max_size=30), st.booleans())
def test_never_raises_and_is_idempotent(values, dayfirst):
    first = parse_dates(pa.array(values, pa.string()), dayfirst=dayfirst)
    canonical = format_dates(first)
    second = parse_dates(canonical, dayfirst=dayfirst)
    for name in ("values", "year", "month", "precision"):
        assert getattr(second, name).equals(getattr(first, name)), name
    assert format_dates(second).equals(canonical)
    assert set(second.issues.drop_null().to_pylist()) <= {"date_month_only", "date_year_only"}
    checked = check_age(first, as_of=AS_OF, min_age=18)
    assert check_age(checked, as_of=AS_OF, min_age=18).values.equals(checked.values)
    for issues in first.issues.drop_null().to_pylist() + checked.issues.drop_null().to_pylist():
        assert all(code in ISSUES for code in issues.split(";"))


def test_the_day_month_order_is_decided_by_rows_not_by_distinct_values():
    # A million rows of day-first birth dates have ~30,000 distinct values; 2,000 distinct month-first typos
    # would be 6% of the distinct values but are 0.2% of the rows: the column stays day-first.
    good = [f"{d:02d}/{m:02d}/{y}" for y in range(1950, 2000) for m in range(1, 13) for d in range(1, 29)] * 60
    typos = [f"{m:02d}/{d}/19{y:02d}" for y in range(50, 90) for m in range(1, 13) for d in (13, 20, 25, 28)] * 1
    result = parse_dates(pa.array(good + typos + ["05/04/1990"]))
    assert result.values[-1].as_py() == dt.date(1990, 4, 5), "05/04 stays 5 April: the column is day-first"
    assert "date_ambiguous" not in set(filter(None, result.issues.to_pylist()))
