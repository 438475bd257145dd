"""Names: splitting, reversed order, match keys."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.cleaning.names import ISSUES, family_names, name_match_key, reversed_order, split_names
from tests.lienthong.cleaning.test_legacy_encodings import GIVEN, MIDDLE, vietnamese_names


def test_family_list_is_data() -> None:
    names = family_names()
    assert 100 <= len(names) <= 150  # the ~100 commonest, and minority family names written first
    assert {"nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "đặng", "ngô"} <= names


def test_split_names() -> None:
    result = split_names(pa.array(["Nguyễn Văn An", "Trần  Thị Bích\u00a0Ngọc ", "An", None, "Lê Hà", ""]))
    assert result.to_pylist() == [
        {"family": "Nguyễn", "middle": "Văn", "given": "An"},
        {"family": "Trần", "middle": "Thị Bích", "given": "Ngọc"},
        {"family": None, "middle": None, "given": "An"},
        {"family": None, "middle": None, "given": None},
        {"family": "Lê", "middle": None, "given": "Hà"},
        {"family": None, "middle": None, "given": None},
    ]


@pytest.mark.parametrize(("raw", "expected"), [
    ("An Nguyễn Văn", "Nguyễn Văn An"),  # Western first name + last name
    ("AN NGUYEN VAN", "NGUYEN VAN AN"),
    ("Lan Tran Thi", "Tran Thi Lan"),
    ("Bình An Nguyễn Văn", "Nguyễn Văn Bình An"),
    ("An Văn Nguyễn", "Nguyễn Văn An"),  # fully reversed
    ("Lan Trần", "Trần Lan"),
    ("hùng  trần văn", "trần văn hùng"),
    ("Hoàng Nguyễn Văn", "Nguyễn Văn Hoàng"),  # Văn is never a given name
    ("Sơn Phạm Đức", "Phạm Đức Sơn"),  # Sơn is a (rare) family name too, but Phạm Đức then Sơn reads far better
    ("Anh Nguyễn Thị Mai", "Nguyễn Thị Mai Anh"),
])
def test_reversed_names_are_reordered(raw: str, expected: str) -> None:
    result = reversed_order(pa.array([raw]))
    assert result.values.to_pylist() == [expected]
    assert result.issues.to_pylist() == ["name_reversed"]
    assert ISSUES["name_reversed"].severity == "changed"


@pytest.mark.parametrize("name", [
    "Nguyễn Văn Lê",  # starts with a family name: Lê is a given name here
    "Nguyễn Văn An", "NGUYEN VAN AN",
    "Hoàng Nguyễn Minh", "Đoàn Nguyễn Minh Châu",  # double family names (Hoàng, Đoàn are also given names)
    "Lê Hoàng", "Quang Lê", "H'Hen Niê", "Y Moan Ênuôl", "An", "Thị Nguyễn",
    "An Bình Nguyễn",  # Nguyễn Bình An or Nguyễn An Bình: no single best reading
    "Nguyễn Mai Vân", "Phan Thị Lý",  # Vân is not Văn; Lý is a given name too
])
def test_names_left_alone(name: str) -> None:
    result = reversed_order(pa.array([name, None]))
    assert result.values.to_pylist() == [name, None]
    assert result.issues.to_pylist() == [None, None]


def test_generated_correct_names_are_never_reordered() -> None:
    rng = random.Random(5)
    families = sorted(f.title() for f in family_names())
    names = [f"{rng.choice(families)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}" for _ in range(5000)]
    assert reversed_order(pa.array(names)).issues.null_count == 5000
    reversed_ = [" ".join([n.split()[-1], *n.split()[:-1]]) for n in names]
    result = reversed_order(pa.array(reversed_))
    fixed = sum(a == b for a, b in zip(result.values.to_pylist(), names, strict=True))
    wrong = sum(a not in (b, r) for a, b, r in zip(result.values.to_pylist(), names, reversed_, strict=True))
    print(f"\nreversed names re-ordered: {fixed / 5000:.1%}, wrongly: {wrong}")
    assert wrong == 0
    assert fixed / 5000 > 0.6


def test_match_key() -> None:
    keys = name_match_key(pa.array(["NGUYỄN  Thị Hoà", "Nguyen Thi Hòa", " nguyễn thị hoà ", "Đặng Ðức", None, " "]))
    assert keys.to_pylist() == ["nguyen thi hoa"] * 3 + ["dang duc", None, None]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(), vietnamese_names()), max_size=20))
def test_name_rules_never_raise(values: list) -> None:
    arr = pa.array(values, pa.string())
    keys = name_match_key(arr)
    assert name_match_key(keys).equals(keys)
    assert len(split_names(arr)) == len(arr)
    once = reversed_order(arr).values
    assert len(once) == len(arr)


def test_given_names_that_are_also_middle_names_before_a_common_family_name_are_reordered() -> None:
    names = pa.array(["Anh Nguyễn Phương", "Minh Trần Văn", "Rmah Quang Anh", "Puih Văn Lâm", "Anh Tuấn"])
    assert reversed_order(names).values.to_pylist() == [
        "Nguyễn Phương Anh", "Trần Văn Minh", "Rmah Quang Anh", "Puih Văn Lâm", "Anh Tuấn",
    ]
