"""Headers as clerks write them, matched to contract fields (or parts of fields) by a scored match."""

from __future__ import annotations

import pytest

from lienthong.errors import MalformedInput
from lienthong.vietnamese.header_labels import clean_header, header_field, match_headers
from lienthong.vietnamese.legacy_encodings import encode_tcvn3


@pytest.mark.parametrize(("header", "field", "guessed"), [
    ("Họ và tên", "full_name", False),
    ("HỌ VÀ TÊN", "full_name", False),
    ("Họ tên", "full_name", False),
    ("Họ và tên hội viên", "full_name", False),
    ("Họ và tên (*)", "full_name", False),  # the mark of a required column
    ("Họ và tên\nhội viên", "full_name", False),  # a line break inside the cell
    ("Họ và tên¹", "full_name", False),  # a footnote mark
    ("Ho va ten", "full_name", False),
    ("Họ, tên", "full_name", True),  # other punctuation: guessed
    ("Họ và tê", "full_name", True),  # a typo: guessed
    ("Số CCCD/CMND", "id_number", False),
    ("Số định danh cá nhân", "id_number", False),
    ("CCCD", "id_number", False),
    ("Số CCCD của hội viên", "id_number", True),  # a label inside a longer header: guessed
    ("SĐT", "phone", False),
    ("Điện thoại", "phone", False),
    ("Nơi thường trú", "address", False),
    ("Chỗ ở hiện nay", "address", False),
    ("Năm sinh", "date_of_birth", False),
    ("Ngày sinh (dd/mm/yyyy)", "date_of_birth", True),
    ("Chi hội", "branch", False),
    ("Nam", "date_of_birth_male", False),
    ("Nữ", "date_of_birth_female", False),
    ("Ngày, tháng, năm sinh / Nam", "date_of_birth_male", False),
    ("Ngày, tháng, năm sinh / Nữ", "date_of_birth_female", False),
    ("Năm sinh / Nữ", "date_of_birth_female", False),
    ("Giới tính / Nam", "date_of_birth_male", False),
    ("Địa chỉ / Thôn/Xóm", "address_hamlet", False),
    ("Địa chỉ / Xã/Phường", "address_ward", False),
    ("Xã/Phường", "address_ward", False),
    ("Tổ dân phố", "address_hamlet", False),
    ("Huyện/Quận/Thị xã/Thành phố", "address_district", False),
    ("Tỉnh/Thành phố", "address_province", False),
    ("Nơi ở hiện nay / Xã, phường, thị trấn", "address_ward", False),
    (encode_tcvn3("Họ và tên"), "full_name", False),  # typed in a legacy font
])
def test_a_header_in_its_many_spellings(header: str, field: str, guessed: bool) -> None:
    found = match_headers(["STT", header, "Ghi chú"])
    assert found.fields == {field: header}
    assert (field in found.guessed) is guessed


def test_the_year_column_is_not_the_male_column() -> None:
    # Folded, "Năm" (year) is "Nam" (male): the sex columns are compared with their diacritics.
    assert match_headers(["Họ và tên", "Năm"]).fields == {"full_name": "Họ và tên"}


def test_a_label_lost_in_a_long_header_is_not_taken() -> None:
    assert match_headers(["Họ và tên", "Ghi chú của chi hội về hội viên"]).fields == {"full_name": "Họ và tên"}


def test_the_best_match_wins_and_no_column_is_claimed_twice() -> None:
    found = match_headers(["Họ tên cha", "Họ và tên", "Số CCCD của cha", "Số CCCD"])
    assert found.fields == {"full_name": "Họ và tên", "id_number": "Số CCCD"}, "exact labels beat contained ones"
    assert found.guessed == {}
    found = match_headers(["Quê quán / Xã", "Nơi ở hiện nay / Xã", "Mã xã"])
    assert found.fields == {"address_ward": "Nơi ở hiện nay / Xã", "ward_code": "Mã xã"}, "the home, not the birthplace"


def test_the_sex_columns_stand_instead_of_a_sex_column() -> None:
    found = match_headers(["Họ và tên", "Ngày sinh / Nam", "Ngày sinh / Nữ", "Giới tính"])
    assert set(found.fields) == {"full_name", "date_of_birth_male", "date_of_birth_female"}
    found = match_headers(["Họ và tên", "Ngày sinh", "Giới tính / Nam", "Giới tính / Nữ"])  # ticks, and a date
    assert set(found.fields) == {"full_name", "date_of_birth", "date_of_birth_male", "date_of_birth_female"}


def test_an_explicit_mapping_wins_field_by_field() -> None:
    columns = ["Họ, tên", "Tên gọi khác", "Ngày sinh", "Ghi chú"]
    found = match_headers(columns, {"full_name": "Tên gọi khác", "date_of_birth": None})
    assert found.fields == {"full_name": "Tên gọi khác"}, "a field mapped to nothing is not read"
    assert found.guessed == {}
    with pytest.raises(MalformedInput, match="Số thẻ"):
        match_headers(columns, {"id_number": "Số thẻ"})


def test_header_field_tells_a_header_row_from_a_title() -> None:
    assert header_field("HỌ VÀ TÊN (*)") == "full_name"
    assert header_field("Số CMND/CCCD") == "id_number"
    assert header_field("DANH SÁCH HỘI VIÊN NĂM 2026") is None
    assert header_field("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") is None


def test_clean_header() -> None:
    assert clean_header("\ufeffHọ và tên\n(*)") == "Họ và tên"
    assert clean_header("Ngày sinh (3)") == "Ngày sinh"
