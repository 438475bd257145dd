"""The clean stage applies the Vietnamese rules of lienthong.cleaning to a mapped batch, and says what it did."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from catalog import load_code_lists
from lienthong.cleaning.addresses import legacy_ward_table
from lienthong.stages.clean import clean_batch
from lienthong.vietnamese.legacy_encodings import encode_tcvn3
from schemas import Member

LISTS = load_code_lists()


def batch(**columns: list) -> pa.Table:
    """A mapped members batch: the given columns, the other mappable fields empty."""
    n = len(next(iter(columns.values())))
    return pa.table({
        spec.name: pa.array(columns.get(spec.name, [None] * n), pa.string())
        for spec in Member.fields() if not spec.derived
    })


def test_names_are_reordered_cased_and_given_one_tone_placement() -> None:
    cleaned = clean_batch(batch(full_name=["An Nguyễn Văn", "TRẦN thị  hoà", "Lê Văn Hùng"]), Member, LISTS)
    rows = cleaned.table.select(["full_name", "family_name", "middle_name", "given_name", "issues"]).to_pylist()
    assert rows == [
        {"full_name": "Nguyễn Văn An", "family_name": "Nguyễn", "middle_name": "Văn", "given_name": "An",
         "issues": "name_reversed"},
        {"full_name": "Trần Thị Hòa", "family_name": "Trần", "middle_name": "Thị", "given_name": "Hòa",
         "issues": None},
        {"full_name": "Lê Văn Hùng", "family_name": "Lê", "middle_name": "Văn", "given_name": "Hùng",
         "issues": None},
    ]
    assert cleaned.reasons == {}


def test_a_tcvn3_batch_is_converted_column_by_column() -> None:
    names = ["Nguyễn Thị Hoà", "Trần Văn Đức", "Phạm Thị Lụa", "Lê Văn Tú"]
    cleaned = clean_batch(batch(full_name=[encode_tcvn3(v) for v in names],
                                ethnicity_code=[encode_tcvn3("Mường")] * 4), Member, LISTS)
    assert cleaned.table.column("full_name").to_pylist() == ["Nguyễn Thị Hòa", "Trần Văn Đức", "Phạm Thị Lụa",
                                                             "Lê Văn Tú"]
    assert cleaned.table.column("ethnicity_code").to_pylist() == ["04"] * 4  # Mường, read back from TCVN3
    assert cleaned.encodings == {"full_name": "tcvn3", "ethnicity_code": "tcvn3"}
    assert all("legacy_encoding_tcvn3" in v for v in cleaned.table.column("issues").to_pylist())


def test_a_birth_year_alone_is_kept_not_quarantined() -> None:
    cleaned = clean_batch(batch(full_name=["Lê Thị Mai", "Lê Thị Lan"], date_of_birth=["1985", "12/03/1990"]),
                          Member, LISTS)
    assert cleaned.table.column("date_of_birth").to_pylist() == [None, dt.date(1990, 3, 12)]
    assert cleaned.table.column("birth_year").to_pylist() == [1985, 1990]
    assert cleaned.table.column("issues").to_pylist() == ["date_year_only", None]
    assert cleaned.reasons == {}


def test_an_unreadable_date_gets_a_reason() -> None:
    cleaned = clean_batch(batch(full_name=["Lê Thị Mai"], date_of_birth=["31/02/1990"]), Member, LISTS)
    [reason] = cleaned.reasons[0]
    assert reason.column == "date_of_birth"
    assert "31/02/1990" in reason.message_vi


def test_an_address_gives_the_2025_ward_when_the_source_sent_no_ward_code() -> None:
    cleaned = clean_batch(batch(
        full_name=["Lê Thị Mai", "Lê Thị Lan"],
        address=["P. Phúc Xá, Q. Ba Đình, TP. Hà Nội", "Số 5 Hàng Bạc, Hà Nội"],
        ward_code=[None, "00070"],
    ), Member, LISTS)
    assert cleaned.table.column("ward_code").to_pylist() == ["00097", "00070"]  # the code sent is kept
    assert cleaned.table.column("province_code").to_pylist() == ["01", "01"]
    assert cleaned.table.column("issues").to_pylist() == ["address_legacy_converted", None]


@pytest.mark.parametrize("take", [0, 1, 2])
def test_a_split_old_ward_is_flagged_with_its_candidates_never_guessed(take: int) -> None:
    table = legacy_ward_table()
    split = [r for r in table.to_pylist() if r["split"] and not r["sources_disagree"]][take * 100]
    address = f"{split['legacy_ward']}, {split['legacy_district']}, {split['legacy_province']}"
    cleaned = clean_batch(batch(full_name=["Lê Thị Mai"], address=[address]), Member, LISTS)
    assert cleaned.table.column("ward_code").to_pylist() == [None]
    assert cleaned.table.column("issues").to_pylist() == ["address_ward_split"]
    assert sorted(cleaned.ward_candidates.to_pylist()[0]) == sorted(split["ward_codes"])
    assert cleaned.reasons == {}  # flagged for a person to choose, not refused


def test_cccd_digits_must_agree_with_sex_and_birth_year() -> None:
    cleaned = clean_batch(batch(full_name=["Lê Thị Mai"], sex=["Nữ"], date_of_birth=["1985"],
                                id_number=["001090012345"]), Member, LISTS)  # digit 4 "0": a man born 19xx
    assert cleaned.table.column("id_number").to_pylist() == [None]
    rules = {r.rule for r in cleaned.reasons[0]}
    assert "cccd_sex_mismatch" in rules
    assert all("001090012345" not in r.value for r in cleaned.reasons[0])  # never a full ID number in a reason


def test_a_member_younger_than_the_charter_admits_is_flagged_not_refused() -> None:
    cleaned = clean_batch(batch(full_name=["Lê Thị Mai", "Lê Thị Lan", "Lê Văn Hùng", "Lê Văn Nam"],
                                organisation=["HLHPN", "HLHPN", "HNCT", "HCCB"],
                                date_of_birth=["01/02/2019", "01/02/1990", "1990", "01/02/2019"]), Member, LISTS)
    assert cleaned.table.column("issues").to_pylist() == [
        "age_below_minimum",  # 7 years old in the Women's Union (18+)
        None,
        "date_year_only;age_below_minimum",  # born in 1990: not yet 60 for the Elderly Association
        None,  # the Veterans' Association has no age in its charter here
    ]
    assert cleaned.reasons == {}
