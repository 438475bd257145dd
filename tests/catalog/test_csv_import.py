"""Importing a new version of a code list from a CSV file: what is accepted and every error's message."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from catalog.admin_units import WardList
from catalog.csv_io import CodeListFileError, read_code_list_csv
from lienthong.vietnamese.folding import spelling_key

META = {
    "name": "sexes", "version": "test-1", "title_vi": "Giới tính", "title_en": "Sex",
    "valid_from": date(2025, 7, 1), "basis": "test",
}


def _write(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes(text.encode(encoding))
    return path


def _error(tmp_path: Path, text: str, **kwargs: object) -> CodeListFileError:
    with pytest.raises(CodeListFileError) as info:
        read_code_list_csv(_write(tmp_path, text), **META, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_a_valid_file_is_read_in_order_with_metadata(tmp_path: Path) -> None:
    path = _write(tmp_path, "code,label_vi,label_en,parent,aliases\n1,Nam,Male,,M| Trai |\n2,Nữ,Female,,F\n")
    code_list = read_code_list_csv(path, **META)  # type: ignore[arg-type]
    assert [v.code for v in code_list.values] == ["1", "2"]
    assert code_list.values[0].aliases == ("M", "Trai")
    assert (code_list.name, code_list.version, code_list.valid_from) == ("sexes", "test-1", date(2025, 7, 1))
    assert code_list.lookup("trai") == "1"


def test_nfd_text_and_a_byte_order_mark_are_normalised(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "code,label_vi\n2,Nữ  giới\n")
    code_list = read_code_list_csv(_write(tmp_path, "\ufeff" + nfd), **META)  # type: ignore[arg-type]
    assert code_list.values[0].label_vi == "Nữ giới"
    assert unicodedata.is_normalized("NFC", code_list.values[0].label_vi)


def test_validity_dates_are_read(tmp_path: Path) -> None:
    text = 'code,label_vi,valid_from,valid_to\nA,"Đợt A, 2024",2024-09-07,2025-06-30\n'
    value = read_code_list_csv(_write(tmp_path, text), **META).values[0]  # type: ignore[arg-type]
    assert value.label_vi == "Đợt A, 2024"
    assert (value.valid_from, value.valid_to) == (date(2024, 9, 7), date(2025, 6, 30))


def test_duplicate_code(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi\n1,Nam\n2,Nữ\n1,Nam giới\n")
    assert (error.row, error.column) == (4, "code")
    assert "code '1' appears twice (first on line 2)" in str(error)
    assert "bị trùng" in error.message_vi


def test_empty_label(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi\n1,Nam\n2,  \n")
    assert (error.row, error.column) == (3, "label_vi")
    assert "empty Vietnamese label for code '2'" in str(error)


def test_empty_code(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi\n,Nam\n")
    assert (error.row, error.column) == (2, "code")


def test_missing_required_column(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label\n1,Nam\n")
    assert error.row == 1 and "missing column(s) label_vi" in str(error)


def test_unknown_column(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi,alias\n1,Nam,M\n")
    assert "unknown column(s) 'alias'" in str(error)


def test_more_cells_than_columns(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi\n1,An ninh, trật tự\n")
    assert error.row == 2 and "quote cells that contain a comma" in str(error)


def test_bad_date(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi,valid_from\nA,Đợt A,07/09/2024\n")
    assert (error.row, error.column) == (2, "valid_from") and "YYYY-MM-DD" in str(error)


def test_inverted_dates(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi,valid_from,valid_to\nA,Đợt A,2025-01-01,2024-01-01\n")
    assert error.column == "valid_to" and "before valid_from" in str(error)


def test_alias_naming_two_codes(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi,aliases\n1,Nam,Trai\n2,Nữ,trai\n")
    assert (error.row, error.column) == (3, "aliases")
    assert "also names code '1' on line 2" in str(error)


def test_alias_that_reads_as_another_code(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi,aliases\n1,Nam,2\n2,Nữ,\n")
    assert "reads as code '2'" in str(error)


def test_unknown_parent(tmp_path: Path) -> None:
    error = _error(tmp_path, "code,label_vi,parent\n00070,Phường Hoàn Kiếm,01\n00071,X,02\n", parents={"01"})
    assert (error.row, error.column) == (3, "parent")


def test_file_without_rows(tmp_path: Path) -> None:
    assert "no rows" in str(_error(tmp_path, "code,label_vi\n"))


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "code,label_vi\n2,Nữ\n", encoding="utf-16")
    with pytest.raises(CodeListFileError, match="not UTF-8"):
        read_code_list_csv(path, **META)  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CodeListFileError, match="cannot be read"):
        read_code_list_csv(tmp_path / "nope.csv", **META)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [("Hoà Bình", "Hòa Bình"), ("Thuỷ", "thủy"), ("Ea M’Droh", "ea m'droh"), ("A  –  B", "a-b"),
     ("Khoẻ", "Khỏe")],
)
def test_spelling_key_ignores_case_spacing_and_tone_placement(a: str, b: str) -> None:
    assert spelling_key(a) == spelling_key(b)


@pytest.mark.parametrize(("a", "b"), [("Văn Lăng", "Văn Lang"), ("Sơn Hà", "Sơn Hạ"), ("Ba Tơ", "Ba Tô")])
def test_spelling_key_keeps_diacritics(a: str, b: str) -> None:
    assert spelling_key(a) != spelling_key(b)


def test_an_imported_ward_list_is_a_ward_list_and_names_repeat_across_provinces(tmp_path: Path) -> None:
    text = (
        "code,label_vi,parent\n00070,Phường Hoàn Kiếm,01\n"
        "02143,Xã Văn Lang,19\n05665,Xã Văn Lăng,19\n07000,Xã Văn Lang,20\n"  # repeats in two provinces
    )
    wards = read_code_list_csv(_write(tmp_path, text), **{**META, "name": "wards"})  # type: ignore[arg-type]
    assert isinstance(wards, WardList)
    assert wards.lookup("Phường Hoàn Kiếm") is None and wards.lookup("70") == "00070"


def test_a_ward_name_repeated_within_its_province_is_an_error(tmp_path: Path) -> None:
    text = "code,label_vi,parent\n02143,Xã Văn Lang,19\n02144,Xã Văn  Lang,19\n"
    with pytest.raises(CodeListFileError, match="also names code '02143'"):
        read_code_list_csv(_write(tmp_path, text), **{**META, "name": "wards"})  # type: ignore[arg-type]
