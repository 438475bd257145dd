"""Row-level validation through real GX suites: every rule fires on a crafted bad row and only there."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from quality import validate as validate_module
from quality.reasons import mask_value
from quality.validate import ExpectationOutcome, validate_frame
from schemas.base import Privacy
from schemas.feedback import Feedback
from schemas.members import Member
from schemas.relief import Relief
from tests.quality.quality_synthetic import code_lists, feedback, members, relief

# GX's fixed cost per batch grows with the value sets (mostly the 3,321 wards): 50 wards keep the tests fast.
LISTS = code_lists(ward_count=50)
NOW = datetime(2025, 7, 1, 12, 0)  # validate "as of" this Vietnam time, so tests do not depend on the clock
TOMORROW = pd.Timestamp("2025-07-02")
CONTRACT = {"members": Member, "feedback": Feedback, "relief": Relief}


def good(dataset: str, n: int = 4) -> pd.DataFrame:
    """``n`` rows of ``dataset`` that pass every rule."""
    if dataset == "members":
        return members(n, bad_share=0, ward_count=50)[0]
    return feedback(n) if dataset == "feedback" else relief(n)


def _with(dataset: str, changes: dict[str, object], row: int = 1) -> pd.DataFrame:
    frame = good(dataset)
    for column, value in changes.items():
        frame.loc[row, column] = value
    return frame


def _only_reasons(result) -> list[tuple[int, str, str]]:
    return [(row, r.rule, r.column) for row, rs in result.reasons.items() for r in rs]


@pytest.mark.parametrize("dataset", list(CONTRACT))
def test_good_rows_pass_every_expectation(dataset):
    result = validate_frame(good(dataset), CONTRACT[dataset], LISTS, now=NOW)
    assert result.reasons == {}
    assert result.outcomes and all(o.success for o in result.outcomes)
    assert result.valid_mask().all()


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# (dataset, changes to one good row, the one (rule, column) expected to fire on it)
CASES = [
    ("members", {"member_id": None}, ("required", "member_id")),
    ("members", {"member_id": "x" * 65}, ("max_length", "member_id")),
    ("members", {"full_name": None}, ("required", "full_name")),
    ("members", {"full_name": "Nguyễn " * 20}, ("max_length", "full_name")),
    ("members", {"sex": "3"}, ("in_code_list", "sex")),
    (
        "members",
        {"date_of_birth": _ts("1899-12-31"), "joined_on": _ts("1950-01-01")},
        ("date_range", "date_of_birth"),
    ),
    ("members", {"date_of_birth": TOMORROW, "joined_on": pd.NaT}, ("date_range", "date_of_birth")),
    ("members", {"id_number": "12345678901"}, ("pattern", "id_number")),
    ("members", {"phone": "84912345678"}, ("pattern", "phone")),
    ("members", {"ethnicity_code": "Kinhh"}, ("in_code_list", "ethnicity_code")),
    ("members", {"religion_code": "99"}, ("in_code_list", "religion_code")),
    ("members", {"ward_code": "99999"}, ("in_code_list", "ward_code")),
    ("members", {"address": "x" * 301}, ("max_length", "address")),
    ("members", {"organisation": None}, ("required", "organisation")),
    ("members", {"organisation": "HCT"}, ("in_code_list", "organisation")),
    ("members", {"branch": "x" * 201}, ("max_length", "branch")),
    (
        "members",
        {"date_of_birth": _ts("1910-01-01"), "joined_on": _ts("1929-12-31")},
        ("date_range", "joined_on"),
    ),
    ("members", {"joined_on": TOMORROW}, ("date_range", "joined_on")),
    ("members", {"status": "expelled"}, ("in_code_list", "status")),
    (
        "members",
        {"date_of_birth": _ts("1980-05-01"), "joined_on": _ts("1980-05-01")},
        ("joined_after_birth", "joined_on"),
    ),
    ("feedback", {"feedback_id": None}, ("required", "feedback_id")),
    (
        "feedback",
        {"received_at": pd.NaT, "resolved_at": pd.NaT, "status": "processing"},
        ("required", "received_at"),
    ),
    (
        "feedback",
        {"received_at": _ts("2025-07-01T12:30"), "resolved_at": pd.NaT, "status": "processing"},
        ("not_in_future", "received_at"),
    ),
    ("feedback", {"channel": "fax"}, ("in_code_list", "channel")),
    ("feedback", {"category": None}, ("required", "category")),
    ("feedback", {"ward_code": "1"}, ("in_code_list", "ward_code")),
    ("feedback", {"status": "lost"}, ("in_code_list", "status")),
    ("feedback", {"status": "resolved", "resolved_at": _ts("2030-01-01")}, ("not_in_future", "resolved_at")),
    ("feedback", {"satisfaction": 6}, ("range", "satisfaction")),
    ("feedback", {"satisfaction": 0}, ("range", "satisfaction")),
    (
        "feedback",
        {
            "status": "resolved",
            "received_at": _ts("2024-05-02T09:00"),
            "resolved_at": _ts("2024-05-02T08:59"),
        },
        ("resolved_after_received", "resolved_at"),
    ),
    ("feedback", {"status": "resolved", "resolved_at": pd.NaT}, ("resolved_requires_time", "resolved_at")),
    ("relief", {"record_id": None}, ("required", "record_id")),
    ("relief", {"campaign": "2099-future"}, ("in_code_list", "campaign")),
    ("relief", {"role": None}, ("required", "role")),
    ("relief", {"party_name": "x" * 201}, ("max_length", "party_name")),
    ("relief", {"id_number": "1234567890"}, ("pattern", "id_number")),
    ("relief", {"amount_vnd": None}, ("required", "amount_vnd")),
    ("relief", {"amount_vnd": 0}, ("range", "amount_vnd")),
    ("relief", {"amount_vnd": 100_000_000_000}, ("amount_below_limit", "amount_vnd")),
    ("relief", {"transaction_date": _ts("1999-12-31")}, ("date_range", "transaction_date")),
    ("relief", {"transaction_date": TOMORROW}, ("date_range", "transaction_date")),
]


@pytest.fixture(scope="module")
def crafted() -> dict[str, tuple[object, dict[int, tuple[str, str]]]]:
    """One validation per dataset: row 0 stays good, row i+1 has the changes of the dataset's i-th case."""
    out = {}
    for dataset in CONTRACT:
        cases = [(changes, expected) for d, changes, expected in CASES if d == dataset]
        frame = good(dataset, len(cases) + 1)
        for row, (changes, _) in enumerate(cases, start=1):
            for column, value in changes.items():
                frame.loc[row, column] = value
        result = validate_frame(frame, CONTRACT[dataset], LISTS, now=NOW)
        out[dataset] = (result, {row: expected for row, (_, expected) in enumerate(cases, start=1)})
    return out


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{d}-{e[1]}-{e[0]}" for d, _, e in CASES])
def test_each_rule_fires_on_its_bad_row_only(crafted, case):
    dataset, _, expected = CASES[case]
    result, _ = crafted[dataset]
    same_dataset = [i for i, c in enumerate(CASES) if c[0] == dataset]
    row = same_dataset.index(case) + 1

    assert [(r.rule, r.column) for r in result.reasons.get(row, [])] == [expected]
    assert 0 not in result.reasons


@pytest.mark.parametrize("dataset", list(CONTRACT))
def test_outcomes_count_exactly_the_crafted_rows(crafted, dataset):
    result, expected_by_row = crafted[dataset]
    wanted = Counter(expected_by_row.values())
    counted = {(o.rule, o.columns[0]): o.unexpected_count for o in result.outcomes}
    assert {k: v for k, v in counted.items() if v} == dict(wanted)
    assert all(o.success == (o.unexpected_count == 0) for o in result.outcomes)
    assert sorted(result.reasons) == sorted(expected_by_row)


def test_boundaries_are_inclusive():
    frame = _with(
        "members", {"date_of_birth": pd.Timestamp("1900-01-01"), "joined_on": pd.Timestamp("2025-07-01")}
    )
    frame.loc[2, "joined_on"] = pd.Timestamp("1930-01-01")
    frame.loc[2, "date_of_birth"] = pd.Timestamp("1915-01-01")
    assert validate_frame(frame, Member, LISTS, now=NOW).reasons == {}

    amounts = relief(2)
    amounts["amount_vnd"] = pd.array([1, 99_999_999_999], dtype="Int64")
    assert validate_frame(amounts, Relief, LISTS, now=NOW).reasons == {}


def test_a_row_with_several_problems_gets_every_reason_in_suite_order():
    frame = _with(
        "members",
        {
            "full_name": None,
            "ethnicity_code": "Kinhh",
            "id_number": "12345",
            "date_of_birth": pd.Timestamp("1990-01-01"),
            "joined_on": pd.Timestamp("1989-12-31"),
        },
    )
    frame.loc[3, "sex"] = "0"

    result = validate_frame(frame, Member, LISTS, now=NOW)

    assert _only_reasons(result) == [
        (1, "required", "full_name"),
        (1, "pattern", "id_number"),
        (1, "in_code_list", "ethnicity_code"),
        (1, "joined_after_birth", "joined_on"),
        (3, "in_code_list", "sex"),
    ]
    assert result.quarantined_rows == [1, 3]


def test_messages_tell_the_clerk_what_is_wrong_in_vietnamese():
    frame = _with("members", {"full_name": None, "ethnicity_code": "Kinhh", "id_number": "12345"})
    by_rule = {r.rule: r for r in validate_frame(frame, Member, LISTS, now=NOW).reasons[1]}

    assert by_rule["required"].message_vi.startswith("Thiếu Họ và tên — bắt buộc phải có")
    assert (
        "Giá trị 'Kinhh' của Dân tộc không có trong danh mục dùng chung" in by_rule["in_code_list"].message_vi
    )
    assert by_rule["pattern"].message_vi.startswith("Số CCCD/CMND phải gồm 9 hoặc 12 chữ số")
    assert "ethnicity_code" in by_rule["in_code_list"].message_en


def test_dates_in_messages_are_written_the_vietnamese_way():
    frame = _with(
        "members", {"date_of_birth": pd.Timestamp("1990-03-15"), "joined_on": pd.Timestamp("1985-11-02")}
    )
    (reason,) = validate_frame(frame, Member, LISTS, now=NOW).reasons[1]
    assert reason.value == "1985-11-02"
    assert "(02/11/1985) phải sau Ngày sinh (15/03/1990)" in reason.message_vi
    assert "(1985-11-02)" in reason.message_en


def test_direct_identifiers_are_masked_in_values_and_messages():
    frame = _with("members", {"id_number": "0123456789", "phone": "12345678", "full_name": "Trần Văn " * 20})
    frame.loc[2, "ethnicity_code"] = "Kinhh"  # sensitive, not an identifier: shown so the clerk can fix it
    result = validate_frame(frame, Member, LISTS, now=NOW)
    by_column = {r.column: r for r in result.reasons[1]}

    assert by_column["id_number"].value == "*******789"  # a number keeps its last 3 from 9 characters up
    assert by_column["phone"].value == "********"
    assert by_column["full_name"].value == mask_value("Trần Văn " * 20, Privacy.DIRECT_IDENTIFIER)
    assert by_column["full_name"].value.startswith("T*** V** T***")  # words keep their first letter
    for reason in result.reasons[1]:
        for raw in ("0123456789", "12345678", "Trần Văn"):
            assert raw not in reason.message_vi and raw not in reason.message_en
    assert "'*******789'" in by_column["id_number"].message_vi
    assert result.reasons[2][0].value == "Kinhh"


@pytest.mark.parametrize("flavour", ["object", "arrow", "python-dates"])
def test_other_frame_dtypes_give_the_same_reasons(flavour):
    canonical = _with(
        "members",
        {"ethnicity_code": "Kinhh", "date_of_birth": pd.Timestamp("2030-01-01"), "joined_on": pd.NaT},
    )
    expected = validate_frame(canonical, Member, LISTS, now=NOW).reasons
    if flavour == "object":
        frame = canonical.astype({c: object for c in canonical.columns if canonical[c].dtype == "str"})
    elif flavour == "arrow":
        frame = pa.Table.from_pandas(canonical, preserve_index=False).to_pandas(types_mapper=pd.ArrowDtype)
    else:
        frame = canonical.copy()
        for c in ("date_of_birth", "joined_on"):
            frame[c] = pd.Series([None if pd.isna(v) else v.date() for v in canonical[c]], dtype=object)
    assert validate_frame(frame, Member, LISTS, now=NOW).reasons == expected


def test_a_date_outside_the_pandas_nanosecond_range_still_fails():
    frame = good("members")
    frame["date_of_birth"] = pd.Series(
        [date(1980, 1, 1), date(1, 1, 1), date(1980, 1, 1), None], dtype=object
    )
    frame["joined_on"] = pd.Series([None] * 4, dtype=object)
    (reason,) = validate_frame(frame, Member, LISTS, now=NOW).reasons[1]
    assert (reason.rule, reason.value) == ("date_range", "0001-01-01")


def test_aware_datetimes_are_compared_and_shown_in_vietnam_time():
    frame = good("feedback")
    utc = frame["received_at"].dt.tz_localize("UTC")
    frame["received_at"] = utc
    frame["resolved_at"] = frame["resolved_at"].dt.tz_localize("UTC")
    frame["status"] = pd.Series(["processing"] * 4, dtype="str")
    frame["resolved_at"] = pd.Series([pd.NaT] * 4, dtype="datetime64[us, UTC]")
    # 05:30 UTC is 12:30 in Hà Nội: half an hour after NOW
    frame.loc[1, "received_at"] = pd.Timestamp("2025-07-01T05:30Z")
    frame.loc[2, "received_at"] = pd.Timestamp("2025-07-01T04:30Z")
    result = validate_frame(frame, Feedback, LISTS, now=NOW)
    assert _only_reasons(result) == [(1, "not_in_future", "received_at")]
    assert result.reasons[1][0].value == "2025-07-01 12:30:00"
    assert "01/07/2025 12:30" in result.reasons[1][0].message_vi


def test_integers_may_come_as_float_from_arrow():
    frame = good("relief")
    frame["amount_vnd"] = pd.Series([5.0, 0.0, np.nan, 250_000_000_000.0])
    result = validate_frame(frame, Relief, LISTS, now=NOW)
    assert _only_reasons(result) == [
        (1, "range", "amount_vnd"),
        (2, "required", "amount_vnd"),
        (3, "amount_below_limit", "amount_vnd"),
    ]
    assert result.reasons[1][0].value == "0"
    assert "250.000.000.000" in result.reasons[3][0].message_vi


def test_an_empty_batch_passes():
    result = validate_frame(good("members").iloc[0:0].reset_index(drop=True), Member, LISTS, now=NOW)
    assert result.reasons == {} and result.rows == 0
    assert all(o.success and o.unexpected_count == 0 for o in result.outcomes)


def test_the_frame_must_be_positional_and_complete():
    frame = good("members")
    with pytest.raises(ValueError, match="RangeIndex"):
        validate_frame(frame.iloc[1:], Member, LISTS, now=NOW)
    with pytest.raises(ValueError, match="lacks contract column.*phone"):
        validate_frame(frame.drop(columns=["phone"]), Member, LISTS, now=NOW)
    # derived and extra columns are optional / ignored
    slim = frame.drop(columns=["family_name", "middle_name", "given_name", "province_code"]).assign(extra=1)
    assert validate_frame(slim, Member, LISTS, now=NOW).reasons == {}


def test_the_suite_and_context_are_built_once_per_code_list_versions():
    validate_frame(good("members"), Member, LISTS, now=NOW)
    first = validate_module._runner(Member, LISTS)
    validate_frame(good("members"), Member, LISTS, now=NOW)
    assert validate_module._runner(Member, LISTS) is first

    newer = dict(LISTS)
    newer["sexes"] = type(LISTS["sexes"])(**{**_fields(LISTS["sexes"]), "version": "test-2"})
    assert validate_module._runner(Member, newer) is not first


def _fields(code_list) -> dict:
    return {
        k: getattr(code_list, k)
        for k in ("name", "version", "title_vi", "title_en", "valid_from", "basis", "values")
    }


def test_outcomes_round_trip_through_json_dicts():
    result = validate_frame(_with("members", {"sex": "3"}), Member, LISTS, now=NOW)
    dicts = [o.to_dict() for o in result.outcomes]
    assert [ExpectationOutcome.from_dict(d) for d in dicts] == result.outcomes
    assert dicts[0]["columns"] == ["member_id"]


def test_every_planted_bad_row_is_caught_and_no_good_row_is():
    frame, bad = members(20_000, bad_share=0.05, seed=7, ward_count=50)
    result = validate_frame(frame, Member, LISTS, now=NOW)
    assert result.quarantined_rows == bad.tolist()
    assert all(len(rs) == 1 for rs in result.reasons.values())
