"""A split old ward, as a clerk meets it: its province is kept (certain), its candidates are named."""

from __future__ import annotations

import pyarrow as pa
import pytest

from catalog import get_code_list, load_code_lists
from lienthong.cleaning.addresses import legacy_ward_table
from lienthong.normalize import normalize_table
from lienthong.stages.clean import clean_batch
from schemas import Member
from tests.lienthong.stages.test_clean import batch

LISTS = load_code_lists()


def _split(take: int) -> dict:
    return [r for r in legacy_ward_table().to_pylist() if r["split"]][take * 100]


@pytest.mark.parametrize("take", [0, 1, 2])
def test_a_split_ward_keeps_its_certain_province(take: int) -> None:
    split = _split(take)
    address = f"{split['legacy_ward']}, {split['legacy_district']}, {split['legacy_province']}"
    cleaned = clean_batch(batch(full_name=["Lê Thị Mai"], address=[address]), Member, LISTS)
    assert cleaned.table.column("ward_code").to_pylist() == [None]
    provinces = {get_code_list("wards").parents_of(pa.array([c])).to_pylist()[0] for c in split["ward_codes"]}
    assert cleaned.table.column("province_code").to_pylist() == [split["province_code"]]
    assert provinces == {split["province_code"]}


def test_normalize_names_the_candidates() -> None:
    split = _split(0)
    address = f"{split['legacy_ward']}, {split['legacy_district']}, {split['legacy_province']}"
    result = normalize_table(pa.table({"Họ và tên": ["Lê Thị Mai"], "Địa chỉ": [address]}))
    shown = result.table.column("ward_candidates").to_pylist()[0]
    wards = get_code_list("wards")
    for code in split["ward_codes"]:
        assert f"{wards.label(code)} ({code})" in shown
    assert " hoặc " in shown
    assert result.table.column("province_code").to_pylist() == [split["province_code"]]
