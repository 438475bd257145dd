"""Phone normalisation: international forms, Excel's lost zero, the 2018 conversion, landlines, validation."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.cleaning.base import Severity
from lienthong.cleaning.phones import CONVERSION_2018, ISSUES, _valid, explain, is_valid_national, normalize_phone

# The 2018 table exactly as published (VIETNAMESE_DATA.md), written out rather than derived.
TABLE_2018 = [
    ("0162", "032"), ("0163", "033"), ("0164", "034"), ("0165", "035"), ("0166", "036"), ("0167", "037"),
    ("0168", "038"), ("0169", "039"),  # Viettel
    ("0120", "070"), ("0121", "079"), ("0122", "077"), ("0126", "076"), ("0128", "078"),  # MobiFone
    ("0123", "083"), ("0124", "084"), ("0125", "085"), ("0127", "081"), ("0129", "082"),  # Vinaphone
    ("0186", "056"), ("0188", "058"),  # Vietnamobile
    ("0199", "059"),  # Gmobile
]


def run(values: list) -> list[tuple]:
    result = normalize_phone(pa.array(values, pa.string()))
    return list(zip(result.values.to_pylist(), result.issues.to_pylist(), strict=True))


def test_conversion_table_is_the_published_one():
    assert dict(TABLE_2018) == CONVERSION_2018


@pytest.mark.parametrize(("old", "new"), TABLE_2018)
def test_every_2018_prefix_is_converted(old, new):
    number = old + "2345678"
    assert run([number, f"{old} 234 5678", "+84 " + number[1:], number[1:]]) == [
        (new + "2345678", "phone_converted_2018")] * 3 + [
        (new + "2345678", "phone_leading_zero_restored;phone_converted_2018")]


PHONE_FORMS = [
    ("0912345678", "0912345678", None),
    ("0912 345 678", "0912345678", None),
    ("0912.345.678", "0912345678", None),
    ("0912-345-678", "0912345678", None),
    ("(0912) 345678", "0912345678", None),
    ("+84912345678", "0912345678", None),
    ("+84 912 345 678", "0912345678", None),
    ("+84 (0) 912 345 678", "0912345678", None),
    ("0084 912 345 678", "0912345678", None),
    ("84912345678", "0912345678", None),
    ("912345678", "0912345678", "phone_leading_zero_restored"),  # Excel number
    ("849123456", "0849123456", "phone_leading_zero_restored"),  # VinaPhone 084, not +84
    ("0983 123 456", "0983123456", None),  # Viettel
    ("0377123456", "0377123456", None),
    ("0707123456", "0707123456", None),  # MobiFone
    ("0889123456", "0889123456", None),  # VinaPhone
    ("0871234567", "0871234567", None),  # iTel
    ("0587123456", "0587123456", None),  # Vietnamobile
    ("0599123456", "0599123456", None),  # Gmobile
    ("024 3825 6789", "02438256789", None),  # Hà Nội landline
    ("(028) 3829 5555", "02838295555", None),  # TP HCM
    ("0236 3821 234", "02363821234", None),  # Đà Nẵng
    ("0292.3820.123", "02923820123", None),  # Cần Thơ
    ("+84 24 3825 6789", "02438256789", None),
    ("2438256789", "02438256789", "phone_leading_zero_restored"),
    ("04 3825 6789", None, "phone_invalid"),  # pre-2017 Hà Nội area code: not converted
    ("1900 1234", None, "phone_invalid"),  # service number
    ("1800 599 920", None, "phone_invalid"),
    ("0912345678 / 0987654321", None, "phone_invalid"),  # two numbers in one cell
    ("091234567", None, "phone_invalid"),  # a digit short
    ("09123456789", None, "phone_invalid"),  # a digit too many
    ("0112345678", None, "phone_invalid"),
    ("113", None, "phone_invalid"),
    ("không có", None, "phone_invalid"),
    ("+1 415 555 0100", None, "phone_invalid"),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("raw", "expected", "issue"), PHONE_FORMS)
def test_normalize_phone(raw, expected, issue):
    assert run([raw]) == [(expected, issue)]


def test_one_column_of_every_form_gives_each_its_own_answer():
    # Values already canonical and values to rewrite take different paths: one column mixes them.
    assert run([raw for raw, _, _ in PHONE_FORMS]) == [(expected, issue) for _, expected, issue in PHONE_FORMS]


def test_integer_input_from_excel():
    result = normalize_phone(pa.array([912345678, 1681234567, None], pa.int64()))
    assert result.values.to_pylist() == ["0912345678", "0381234567", None]


def test_prefix_keyed_validation_agrees_with_per_number_validation():
    """The module validates one representative per (first 6 digits, length); check that against phonenumbers."""
    rng = random.Random(2018)
    numbers = [f"0{rng.randint(0, 10**9 - 1):09d}" for _ in range(3000)]
    numbers += [f"0{p:02d}{rng.randint(0, 10**7 - 1):07d}" for p in range(100) for _ in range(20)]
    numbers += [f"02{rng.randint(0, 10**9 - 1):09d}" for _ in range(3000)]
    numbers += [f"02{p:02d}{rng.randint(0, 10**7 - 1):07d}" for p in range(100) for _ in range(20)]
    keyed = _valid(pa.array(numbers)).to_pylist()
    assert keyed == [is_valid_national(n) for n in numbers]
    assert sum(keyed) > 1000  # the sample does contain valid numbers


def test_messages_mask_the_number():
    vi, en = explain("phone_invalid", "0987654321")
    assert "*******321" in vi and "*******321" in en and "0987654321" not in vi + en
    assert ISSUES["phone_invalid"].severity is Severity.REJECTED
    assert ISSUES["phone_converted_2018"].severity is Severity.CHANGED


phone_like = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=24),
    st.text(st.sampled_from("0123456789 +.-()/"), max_size=18),
    st.builds(lambda p, n, f: f(p + n), st.sampled_from([o for o, _ in TABLE_2018] + ["091", "098", "024", "0236"]),
              st.text(st.sampled_from("0123456789"), min_size=6, max_size=8),
              st.sampled_from([str, lambda s: "+84" + s[1:], lambda s: s[1:], lambda s: " ".join(s)])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), phone_like), max_size=30))
def test_never_raises_and_is_idempotent(values):
    first = normalize_phone(pa.array(values, pa.string()))
    second = normalize_phone(first.values)
    assert second.values.equals(first.values)
    assert second.issues.null_count == len(values)
    for issues in first.issues.drop_null().to_pylist():
        assert all(code in ISSUES for code in issues.split(";"))
