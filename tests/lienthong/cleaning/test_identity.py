"""CCCD/CMND normalisation and consistency, with numbers built from the CCCD structure (VIETNAMESE_DATA.md)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.cleaning.base import Severity
from lienthong.cleaning.identity import ISSUES, check_cccd, explain, normalize_id_number, place_codes

LEGACY_PROVINCES = ["01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22", "24", "25",
                    "26", "27", "30", "31", "33", "34", "35", "36", "37", "38", "40", "42", "44", "45", "46", "48",
                    "49", "51", "52", "54", "56", "58", "60", "62", "64", "66", "67", "68", "70", "72", "74", "75",
                    "77", "79", "80", "82", "83", "84", "86", "87", "89", "91", "92", "93", "94", "95", "96"]


def cccd(place: str, sex: str, year: int, serial: int = 123456) -> str:
    """A CCCD from its parts: place "001", sex "1"/"2", birth year, 6 random digits."""
    century = (year - 1900) // 100
    return f"{place}{century * 2 + (sex == '2')}{year % 100:02d}{serial:06d}"


def run(values: list) -> list[tuple]:
    result = normalize_id_number(pa.array(values, pa.string()))
    return list(zip(result.values.to_pylist(), result.issues.to_pylist(), strict=True))


def test_place_codes_are_the_63_old_provinces_zero_padded():
    assert place_codes() == {"0" + code for code in LEGACY_PROVINCES}
    assert len(place_codes()) == 63


ID_FORMS = [
    ("001185012345", "001185012345", None),
    ("001 185 012 345", "001185012345", None),
    ("001.185.012.345", "001185012345", None),
    ("001-185-012-345", "001185012345", None),
    ("\u00a0079190123456 ", "079190123456", None),  # no-break space from Word/Excel
    ("'001185012345", "001185012345", None),  # Excel's text marker
    ("123456789", "123456789", "id_cmnd_legacy"),
    ("025 123 456", "025123456", "id_cmnd_legacy"),
    ("79190123456", "079190123456", "id_leading_zero_restored"),  # Excel dropped the 0 of TP HCM's 079
    ("1185012345", "001185012345", "id_leading_zero_restored"),  # Hà Nội's 001 lost two zeros
    ("1090012345.0", "001090012345", "id_leading_zero_restored"),  # …and came back as a float's text
    ("1.23457E+11", None, "id_excel_scientific"),
    ("7.9190123456e+10", "079190123456", "id_leading_zero_restored"),  # a program's notation keeps every digit
    ("1.2345678901E+11", "123456789010", None),  # (a 12-digit number, then judged as any other)
    ("012345678901.0", "012345678901", None),  # a float's text of a 12-digit number
    ("1,23457E+11", None, "id_excel_scientific"),  # Vietnamese Excel's decimal comma
    ("99190123456", None, "id_length"),  # 0 + 99… is no place code: not restored
    ("79990123456", None, "id_length"),  # 0 + 79 9…: century 2300–2399 is impossible
    ("79399123456", None, "id_length"),  # born 2099: in the future
    ("12345678", "012345678", "id_leading_zero_restored"),  # a CMND that lost its 0 (01 Hà Nội … 09)
    ("01234567", None, "id_length"),  # 8 digits that kept a leading 0 lost something else: not invented
    ("0011850123456", None, "id_length"),
    ("B1234567", None, "id_format"),  # a passport number
    ("001185O12345", None, "id_format"),  # letter O for zero
    ("", None, None),
    ("   ", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("raw", "expected", "issue"), ID_FORMS)
def test_normalize_id_number(raw, expected, issue):
    assert run([raw]) == [(expected, issue)]


def test_one_column_of_every_form_gives_each_its_own_answer():
    # Values already canonical and values to rewrite take different paths: one column mixes them.
    assert run([raw for raw, _, _ in ID_FORMS]) == [(expected, issue) for _, expected, issue in ID_FORMS]


def test_integer_input_from_excel_gets_its_zeros_back():
    result = normalize_id_number(pa.array([79190123456, 1185012345, None], pa.int64()))
    assert result.values.to_pylist() == ["079190123456", "001185012345", None]


def test_every_place_code_is_restored_after_losing_its_leading_zero():
    numbers = [cccd(place, "1", 1985) for place in sorted(place_codes())]
    result = normalize_id_number(pa.array([n.lstrip("0") for n in numbers]))
    assert result.values.to_pylist() == numbers
    assert set(result.issues.to_pylist()) == {"id_leading_zero_restored"}


def check(ids, sexes=None, dobs=None):
    sex = None if sexes is None else pa.array(sexes, pa.string())
    dob = None if dobs is None else pa.array(dobs, pa.date32())
    result = check_cccd(pa.array(ids, pa.string()), sex, dob)
    return list(zip(result.values.to_pylist(), result.issues.to_pylist(), strict=True))


@pytest.mark.parametrize("place", LEGACY_PROVINCES)
@pytest.mark.parametrize(("sex", "year"), [("1", 1950), ("2", 1950), ("1", 1999), ("2", 2000), ("1", 2007)])
def test_consistent_cccd_passes(place, sex, year):
    number = cccd("0" + place, sex, year)
    assert check([number], [sex], [dt.date(year, 6, 15)]) == [(number, None)]


@pytest.mark.parametrize(("number", "sex", "dob", "issues"), [
    (cccd("001", "1", 1985), "2", dt.date(1985, 1, 1), "cccd_sex_mismatch"),
    (cccd("001", "2", 1985), "1", dt.date(1985, 1, 1), "cccd_sex_mismatch"),
    (cccd("079", "1", 1985), "1", dt.date(1986, 1, 1), "cccd_birth_year_mismatch"),
    (cccd("079", "1", 2005), "1", dt.date(1905, 1, 1), "cccd_century_mismatch"),
    (cccd("079", "2", 1905), "2", dt.date(2005, 1, 1), "cccd_century_mismatch"),
    (cccd("099", "1", 1985), "1", dt.date(1985, 1, 1), "cccd_place_code"),  # 99 is no province
    (cccd("003", "1", 1985), "1", dt.date(1985, 1, 1), "cccd_place_code"),  # 03 was never used
    (cccd("001", "1", 1985), "2", dt.date(1986, 1, 1), "cccd_sex_mismatch;cccd_birth_year_mismatch"),
    (cccd("099", "2", 2001), "1", dt.date(1999, 1, 1),
     "cccd_place_code;cccd_sex_mismatch;cccd_century_mismatch;cccd_birth_year_mismatch"),
])
def test_each_mismatch_is_its_own_rejection(number, sex, dob, issues):
    assert check([number], [sex], [dob]) == [(None, issues)]
    for code in issues.split(";"):
        assert ISSUES[code].severity is Severity.REJECTED


def test_missing_sex_or_date_skips_that_comparison():
    number = cccd("001", "2", 1985)
    assert check([number, number], [None, "3"], [None, None]) == [(number, None), (number, None)]
    assert check([number], None, None) == [(number, None)]
    assert check([number], ["1"], [None]) == [(None, "cccd_sex_mismatch")]


def test_birth_year_from_integer_years_and_year_only_dates():
    from lienthong.cleaning.dates import parse_dates

    number = cccd("001", "2", 1985)
    years = check_cccd(pa.array([number, number]), pa.array(["2", "2"]), pa.array([1985, 1986]))
    assert years.issues.to_pylist() == [None, "cccd_birth_year_mismatch"]
    parsed = parse_dates(pa.array(["1985", "1986"]))  # birth year only: still checked
    result = check_cccd(pa.array([number, number]), pa.array(["2", "2"]), parsed)
    assert result.issues.to_pylist() == [None, "cccd_birth_year_mismatch"]


def test_a_year_encoded_in_the_future_is_refused_without_a_date_of_birth():
    future = f"0013{(dt.date.today().year + 1) % 100:02d}123456"  # century digit 3: female, 2000–2099
    assert check([future]) == [(None, "cccd_birth_year_future")]


def test_cmnd_and_unknown_abroad_prefixes():
    abroad = "179185012345"  # not "0…": maybe a country code for a birth registered abroad
    assert check(["123456789", abroad, None]) == [
        ("123456789", None), (abroad, "cccd_place_abroad"), (None, None)]
    assert ISSUES["cccd_place_abroad"].severity is Severity.FLAGGED


def test_messages_are_exact_and_masked():
    number = cccd("001", "1", 1985, 12345)  # 001085012345
    vi, en = explain("cccd_sex_mismatch", number, sex_code="2", birth_year=1985)
    assert number not in vi and number not in en
    assert "*********345" in vi and "số thứ 4 = 0: nam, sinh 1900–1999" in vi and "Nữ" in vi
    assert "record says female" in en
    vi, en = explain("id_length", "0011850123")
    assert "có 10 chữ số" in vi and "has 10 digits" in en
    vi, _ = explain("cccd_birth_year_mismatch", number, birth_year=1986)
    assert "số thứ 5–6 = 85" in vi and "1986" in vi
    for code in ISSUES:
        vi, en = explain(code, number, sex_code="1", birth_year=1985)
        assert number not in vi + en


def test_issue_catalogue_is_complete():
    for code, issue in ISSUES.items():
        assert issue.code == code and issue.message_vi and issue.message_en


id_like = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.text(st.sampled_from("0123456789 .-E+e,'"), max_size=16),
    st.builds(lambda p, s, y, n: cccd(p, s, y, n).lstrip("0"), st.sampled_from(sorted(place_codes())),
              st.sampled_from("12"), st.integers(1900, 2020), st.integers(0, 999_999)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), id_like), max_size=30))
def test_never_raises_and_is_idempotent(values):
    first = normalize_id_number(pa.array(values, pa.string()))
    second = normalize_id_number(first.values)
    assert second.values.equals(first.values)
    assert set(second.issues.drop_null().to_pylist()) <= {"id_cmnd_legacy"}
    checked = check_cccd(first.values, pa.array(["1"] * len(values), pa.string()), None)
    assert check_cccd(checked.values, pa.array(["1"] * len(values), pa.string()), None).values.equals(
        checked.values)
    for issues in first.issues.drop_null().to_pylist() + checked.issues.drop_null().to_pylist():
        assert all(code in ISSUES for code in issues.split(";"))


def test_a_nine_digit_cmnd_has_no_sex_digit_to_contradict():
    result = check_cccd(pa.array(["123618610", "024521333"]), pa.array(["2", "1"]),
                        pa.array([dt.date(1999, 5, 4), dt.date(1981, 5, 1)], pa.date32()))
    assert result.values.to_pylist() == ["123618610", "024521333"]
    assert result.issues.to_pylist() == [None, None]
