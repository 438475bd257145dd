"""Fields spread over columns put back together: the date in the column of the person's sex, split addresses."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lienthong.cleaning.addresses import map_addresses
from lienthong.cleaning.columns import date_and_sex, join_address
from lienthong.errors import ConfigError
from lienthong.registry import load_source
from tests.lienthong.conftest import file_source


def test_the_date_in_the_column_of_the_persons_sex() -> None:
    male = pa.array(["12/03/1985", None, "  ", "01/01/1970", None, "x", "1990"])
    female = pa.array([None, "1992", "", "02/02/1971", None, None, " "])
    date, sex = date_and_sex(male, female)
    assert date.to_pylist() == ["12/03/1985", "1992", None, None, None, None, "1990"]
    assert sex.values.to_pylist() == ["Nam", "Nữ", None, None, None, "Nam", "Nam"]  # a tick gives the sex alone
    assert sex.issues.to_pylist() == [None, None, "dob_in_no_sex_column", "dob_in_both_sex_columns",
                                      "dob_in_no_sex_column", None, None]


def test_a_list_with_only_one_of_the_two_columns() -> None:
    date, sex = date_and_sex(None, pa.array(["1992", None]))
    assert date.to_pylist() == ["1992", None] and sex.values.to_pylist() == ["Nữ", None]


def _joined(*parts: tuple[str, str, list]) -> list:
    return join_address([(part, header, pa.array(values, pa.string())) for part, header, values in parts]).to_pylist()


def test_an_address_split_over_columns_is_joined_most_precise_first() -> None:
    assert _joined(("address_street", "Số nhà", ["Số 12", None, None]),
                   ("address_hamlet", "Địa chỉ / Thôn/Xóm", ["Tổ 5", "Đông", None]),
                   ("address_ward", "Địa chỉ / Xã", ["Tân Lập", "Xã Hải Anh", None]),
                   ("address_district", "Địa chỉ / Huyện", ["Đan Phượng", "H. Hải Hậu", None]),
                   ("address_province", "Địa chỉ / Tỉnh", ["Hà Nội", "Nam Định", None])) == [
        "Số 12, Tổ 5, Xã Tân Lập, Huyện Đan Phượng, Hà Nội",
        "Thôn Đông, Xã Hải Anh, H. Hải Hậu, Nam Định",  # a typed value keeps its own type
        None,
    ]


@pytest.mark.parametrize(("header", "value", "joined"), [
    ("Xã", "Tân Lập", "Xã Tân Lập"),
    ("Phường", "5", "Phường 5"),
    ("Thị trấn", "Phùng", "Thị trấn Phùng"),
    ("Xã/Phường", "Tân Lập", "Tân Lập"),  # ambiguous: the mapper resolves the bare name
    ("Xã, phường, thị trấn", "Tân Lập", "Tân Lập"),
    ("Xã", "Phường Trúc Bạch", "Phường Trúc Bạch"),  # says its type: kept
    ("Xã", "P. Trúc Bạch", "P. Trúc Bạch"),
    ("Xã", "Xa Tan Lap", "Xa Tan Lap"),
    ("Xã/Phường", "5", "Phường 5"),  # only phường are numbered
])
def test_a_bare_ward_gets_the_one_type_its_header_names(header: str, value: str, joined: str) -> None:
    assert _joined(("address_ward", header, [value])) == [joined]


@pytest.mark.parametrize(("part", "header", "value", "joined"), [
    ("address_district", "Huyện/Quận", "Đan Phượng", "Huyện Đan Phượng"),  # a level word, lest it be a ward
    ("address_district", "Huyện/Quận", "3", "Quận 3"),
    ("address_hamlet", "Thôn/Xóm", "Tân Lập", "Thôn Tân Lập"),
    ("address_hamlet", "Tổ dân phố", "5", "Tổ dân phố 5"),
    ("address_province", "Tỉnh", "Hà Nội", "Hà Nội"),
])
def test_a_bare_hamlet_or_district_gets_a_level_word(part: str, header: str, value: str, joined: str) -> None:
    assert _joined((part, header, [value])) == [joined]


def test_a_hamlet_is_never_taken_for_a_ward() -> None:
    # Đan Phượng (Hà Nội) had a Xã Tân Lập and a Xã Tân Hội; a hamlet named Tân Lập lies in Tân Hội.
    hamlets = ["Tân Lập", "Thôn Tân Lập", "Tân Lập", "Tân Lập"]
    wards = ["Tân Hội", "Tân Hội", "Xã Tân Hội", None]
    text = join_address([("address_hamlet", "Thôn/Xóm", pa.array(hamlets)),
                         ("address_ward", "Xã/Phường", pa.array(wards)),
                         ("address_district", "Huyện/Quận", pa.array(["Đan Phượng"] * 4)),
                         ("address_province", "Tỉnh/Thành phố", pa.array(["Hà Nội"] * 4))])
    wards_2025 = map_addresses(text).values.to_pylist()
    tan_hoi = map_addresses(pa.array(["Xã Tân Hội, Huyện Đan Phượng, Hà Nội"])).values[0].as_py()
    tan_lap = map_addresses(pa.array(["Xã Tân Lập, Huyện Đan Phượng, Hà Nội"]))
    assert tan_hoi is not None
    assert wards_2025[:3] == [tan_hoi] * 3
    assert wards_2025[3] is None, "with no ward column filled, the hamlet's name is not read as a ward"
    assert tan_hoi not in (tan_lap.candidates[0].as_py() or []) or tan_lap.values[0].as_py() != tan_hoi


def test_a_source_maps_parts_of_fields(tmp_path) -> None:  # noqa: ANN001
    import yaml

    mapping = {"member_id": "Mã", "full_name": "Họ và tên", "date_of_birth_male": "Nam",
               "date_of_birth_female": "Nữ", "address_ward": "Xã", "address_province": "Tỉnh"}
    path = tmp_path / "s.yml"
    path.write_text(yaml.safe_dump(file_source(tmp_path, mapping=mapping), allow_unicode=True), encoding="utf-8")
    assert load_source(path).mapping == mapping
    path.write_text(yaml.safe_dump(file_source(tmp_path, mapping={**mapping, "sex": "Giới tính"}),
                                   allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="map either them or sex"):
        load_source(path)
