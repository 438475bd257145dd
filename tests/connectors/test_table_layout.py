"""Finding the table in a grid of cells: header below a title block, two-row headers, column numbers, footers."""

from __future__ import annotations

import pytest

from connectors.csv_table import detect_delimiter
from connectors.table_layout import find_table, footer_rows, header_names, is_numbering_row, is_spacer, numbering_column

TITLE = [
    ["HỘI NÔNG DÂN XÃ TÂN LẬP", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    [None, None, None, "Độc lập - Tự do - Hạnh phúc"],
    [],
    ["DANH SÁCH HỘI VIÊN NĂM 2026"],
]
HEADER = ["STT", "Họ và tên", "Ngày sinh", "Số CCCD"]


def test_the_header_is_the_row_naming_contract_fields_below_the_title_block() -> None:
    start = find_table([*TITLE, HEADER, ["1", "Nguyễn Văn An", "02/03/1985", "001085012345"]])
    assert (start.header, start.header_rows, start.skip) == (4, 1, 0)
    assert start.names == HEADER


def test_a_header_of_unknown_labels_is_found_by_its_shape() -> None:
    start = find_table([["Báo cáo tháng 3"], [], ["code", "label", "amount"], ["A1", "x", "5"], ["A2", "y", "7"]])
    assert start.header == 2 and start.usual is False
    assert find_table([["a", "b"], ["1", "2"]]).usual  # the usual file: header on row 1, data right under it


def test_column_number_rows_are_skipped_under_a_known_header_only_when_they_number() -> None:
    for numbers in (["(1)", "(2)", "(3)", "(4)"], ["1", "2", "3", "4"], ["A", "B", "1", "2"]):
        assert find_table([*TITLE, HEADER, numbers, ["1", "An", "x", "y"]]).skip == 1, numbers
    assert not is_numbering_row(["1", "Nguyễn Văn An", "3", "4"])
    assert not is_numbering_row(["2", "3", "4"])  # does not start at 1
    # under a header of unknown labels "1 2 3" may be a data row; "(1) (2) (3)" is not
    assert find_table([["a", "b", "c"], ["1", "2", "3"]]).skip == 0
    assert find_table([["a", "b", "c"], ["(1)", "(2)", "(3)"], ["x", "y", "z"]]).skip == 1


def test_two_row_merged_headers_are_flattened_parent_slash_child() -> None:
    top = ["STT", "Họ và tên", "Ngày, tháng, năm sinh", None, "Địa chỉ", None, None, None, "Số CCCD"]
    below = [None, None, "Nam", "Nữ", "Thôn/Xóm", "Xã/Phường", "Huyện", "Tỉnh", None]
    start = find_table([*TITLE, top, below, ["1", "An", "02/03/1985", None, "Thôn 1", "Tân Lập", "Tân Yên",
                                             "Bắc Giang", "001085012345"]])
    assert (start.header, start.header_rows) == (4, 2)
    assert start.names == ["STT", "Họ và tên", "Ngày, tháng, năm sinh / Nam", "Ngày, tháng, năm sinh / Nữ",
                           "Địa chỉ / Thôn/Xóm", "Địa chỉ / Xã/Phường", "Địa chỉ / Huyện", "Địa chỉ / Tỉnh",
                           "Số CCCD"]
    # a data row under a header is not a second header row, whatever its empty cells
    assert find_table([top, ["1", "An", "02/03/1985", None, "Thôn 1", None, None, None, "0010"]]).header_rows == 1
    assert header_names([["Họ và\ntên", "Ghi chú"]]) == ["Họ và tên", "Ghi chú"]  # Alt+Enter in a header cell


def test_footer_from_place_and_date_down_to_the_signatures() -> None:
    data = [["1", "An", "02/03/1985", "001085012345"], ["2", "Bình", "15/07/1990", "034190054321"]]
    footer = [[], [None, None, "Tân Lập, ngày 15 tháng 3 năm 2026"], [None, "Người lập biểu", None, "CHỦ TỊCH"],
              [None, "(Ký, ghi rõ họ tên)"], [], [None, "Nguyễn Thị Lập", None, "Trần Văn Chủ"]]
    assert footer_rows([*data, *footer], 4) == 5
    assert footer_rows([*data, ["Tổng cộng", None, "2", "2"]], 4) == 1
    assert footer_rows(data, 4) == 0
    # a sparse last row with nothing below a footer cue is data (a member with only a name)
    assert footer_rows([*data, [None, "Lê Văn Cường"]], 4) == 0


def test_stt_columns_and_spacer_rows() -> None:
    assert numbering_column(["STT", "Họ và tên"]) == 0
    assert numbering_column(["Họ và tên", "Số TT"]) == 1
    assert numbering_column(["S.T.T", "Họ và tên"]) == 0
    assert numbering_column(["Mã hội viên", "Họ và tên"]) is None
    assert is_spacer(["4", None, " "], 0) and is_spacer([None, None], None)
    assert not is_spacer(["4", "An"], 0)


@pytest.mark.parametrize(("sample", "expected"), [
    ("DANH SÁCH HỘI VIÊN\n\nSTT;Họ và tên;Địa chỉ\n1;An;Thôn 1, Xã Tân Lập\n2;Bình;Thôn 2, Xã Tân Lập\n"
     "Tân Lập, ngày 15 tháng 3 năm 2026\n(Ký, ghi rõ họ tên)\n", ";"),
    ("HỘI NÔNG DÂN;;\n;;\nSTT;Họ và tên;Số CCCD\n1;An;001\n", ";"),
    ("Danh sách\nSTT\tHọ và tên\n1\tAn, Bình\n", "\t"),
])
def test_the_delimiter_is_found_below_title_lines(sample: str, expected: str) -> None:
    assert detect_delimiter(sample) == expected
