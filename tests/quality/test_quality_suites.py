"""The suites generated from the contracts: what each contract rule becomes (no data involved)."""

from __future__ import annotations

import re
from dataclasses import replace

import great_expectations as gx
import pandas as pd
import pytest

from catalog.model import CodeValue
from quality.messages import RuleText
from quality.suites import (
    NOW,
    TODAY,
    build_suite,
    code_parameters,
    suite_parameters,
    without_capture_groups,
)
from schemas import CONTRACTS
from schemas.feedback import Feedback
from schemas.members import Member
from schemas.relief import Relief
from tests.quality.quality_synthetic import code_lists

LISTS = code_lists()


def _by_column(suite: gx.ExpectationSuite) -> dict[str, list]:
    out: dict[str, list] = {}
    for e in suite.expectations:
        out.setdefault(getattr(e, "column", None) or e.column_A, []).append(e)
    return out


def _types(expectations: list) -> list[str]:
    return [e.expectation_type for e in expectations]


def test_member_fields_become_the_expected_expectations():
    suite = build_suite(Member, LISTS)
    by_column = _by_column(suite)

    assert suite.name == "lienthong.members"
    assert _types(by_column["full_name"]) == [
        "expect_column_values_to_not_be_null",
        "expect_column_value_lengths_to_be_between",
    ]
    assert by_column["full_name"][1].max_value == 120
    sex = by_column["sex"][0]
    assert sex.expectation_type == "expect_column_values_to_be_in_set"
    assert sex.value_set == {"$PARAMETER": "lienthong_codes_sex"}  # the list's codes found in the batch
    id_number = by_column["id_number"][0]
    assert id_number.expectation_type == "expect_column_values_to_match_regex"
    assert Member.field("id_number").pattern == r"^(\d{9}|\d{12})$"
    assert id_number.regex == r"^(?:\d{9}|\d{12})$"  # same matches, no pandas "has match groups" warning
    assert _types(by_column["organisation"]) == [
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
    ]


def test_date_fields_run_from_january_first_of_the_minimum_year_to_today():
    by_column = _by_column(build_suite(Member, LISTS))
    (born,) = by_column["date_of_birth"]
    assert born.expectation_type == "expect_column_values_to_be_between"
    assert born.min_value == pd.Timestamp("1900-01-01")
    assert born.max_value == {"$PARAMETER": TODAY}
    joined = [e for e in by_column["joined_on"] if e.expectation_type == "expect_column_values_to_be_between"]
    assert joined[0].min_value == pd.Timestamp("1930-01-01")


def test_datetime_fields_may_not_be_in_the_future():
    by_column = _by_column(build_suite(Feedback, LISTS))
    received = by_column["received_at"]
    assert _types(received) == ["expect_column_values_to_not_be_null", "expect_column_values_to_be_between"]
    assert received[1].min_value is None
    assert received[1].max_value == {"$PARAMETER": NOW}


def test_integer_and_money_bounds_come_from_the_contract():
    satisfaction = _by_column(build_suite(Feedback, LISTS))["satisfaction"]
    assert [(e.min_value, e.max_value) for e in satisfaction] == [(1, 5)]
    amount = _by_column(build_suite(Relief, LISTS))["amount_vnd"]
    assert _types(amount) == [
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_between",  # contract: at least 1
        "expect_column_values_to_be_between",  # rules/relief.py: below 100 billion
    ]
    assert (amount[1].min_value, amount[1].max_value) == (1, None)
    assert (amount[2].max_value, amount[2].strict_max) == (100_000_000_000, True)


def test_derived_fields_are_not_checked():
    by_column = _by_column(build_suite(Member, LISTS))
    for name in ("family_name", "middle_name", "given_name", "province_code"):
        assert name not in by_column


@pytest.mark.parametrize("contract", list(CONTRACTS.values()), ids=list(CONTRACTS))
def test_every_expectation_carries_its_words_in_both_languages(contract):
    suite = build_suite(contract, LISTS)
    assert suite.expectations
    for e in suite.expectations:
        text = RuleText.from_meta(e.meta)
        assert text.rule and text.columns
        for words in (text.message_vi, text.message_en, text.description_vi, text.description_en):
            assert words.strip()
        assert set(text.columns) <= set(contract.field_names())


def test_hand_written_rules_are_in_the_suites():
    rules = {
        name: {RuleText.from_meta(e.meta).rule for e in build_suite(contract, LISTS).expectations}
        for name, contract in CONTRACTS.items()
    }
    assert "joined_after_birth" in rules["members"]
    assert {"resolved_after_received", "resolved_requires_time"} <= rules["feedback"]
    assert "amount_below_limit" in rules["relief"]


def test_resolved_status_uses_the_code_of_the_shared_list():
    statuses = replace(
        LISTS["feedback_statuses"],
        version="numeric-codes",
        values=(
            CodeValue(code="01", label_vi="Đã tiếp nhận", label_en="Received"),
            CodeValue(code="03", label_vi="Đã giải quyết", label_en="Resolved"),
        ),
    )
    suite = build_suite(Feedback, {**LISTS, "feedback_statuses": statuses})
    conditional = [e for e in suite.expectations if e.row_condition is not None]
    assert len(conditional) == 1
    assert conditional[0].row_condition.parameter == "03"
    assert "Đã giải quyết" in RuleText.from_meta(conditional[0].meta).message_vi


def test_a_missing_code_list_is_named():
    lists = {k: v for k, v in LISTS.items() if k != "ethnic_groups"}
    with pytest.raises(KeyError, match="ethnic_groups.*members.ethnicity_code"):
        build_suite(Member, lists)


def test_a_code_field_takes_the_codes_of_its_list_found_in_its_column():
    """Same answer for every row as the whole list (a value is in the list iff among these), without GX
    carrying 3,321 ward codes through every expectation of every batch."""
    ward = sorted(LISTS["wards"].codes)[7]
    columns = {f.name: pd.Series([None, None, None], dtype="object") for f in Member.fields() if f.code_list}
    frame = pd.DataFrame({**columns, "ward_code": pd.Series([ward, "99999", None]).astype("category"),
                          "sex": ["2", "Nữ", "2"]})
    params = code_parameters(Member, LISTS, frame)
    assert params["lienthong_codes_ward_code"] == [ward] and params["lienthong_codes_sex"] == ["2"]
    assert params["lienthong_codes_ethnicity_code"] == []  # an empty column: no code needed


def test_suite_parameters_are_vietnam_time():
    params = suite_parameters(pd.Timestamp("2025-06-30T20:30:00Z").to_pydatetime())
    assert params[NOW] == pd.Timestamp("2025-07-01T03:30:00")
    assert params[TODAY] == pd.Timestamp("2025-07-01")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^(\d{9}|\d{12})$", r"^(?:\d{9}|\d{12})$"),
        (r"^0\d{9,10}$", r"^0\d{9,10}$"),
        (r"^\(x\)[(]([a-z])(?:y)(?P<n>z)$", r"^\(x\)[(](?:[a-z])(?:y)(?P<n>z)$"),
        (r"[]()](a)[^]()](b)", r"[]()](?:a)[^]()](?:b)"),
        (r"(a)\1", r"(a)\1"),  # a back-reference needs its group
    ],
)
def test_capturing_groups_become_non_capturing(pattern, expected):
    assert without_capture_groups(pattern) == expected
    samples = ["123456789", "(x)(a", "a", "aa", "]b", "0912345678"]
    assert [bool(re.search(pattern, s)) for s in samples] == [bool(re.search(expected, s)) for s in samples]
