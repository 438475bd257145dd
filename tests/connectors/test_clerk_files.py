"""The files clerks really have (tests/connectors/clerk_files.py) read without a mapping: the table below its title
block, its rows numbered as the clerk's spreadsheet shows them, every person's fields right once cleaned."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from connectors.base import MEDIA_XLS, MEDIA_XLSX
from connectors.files import FilesConfig, FilesConnector
from connectors.formats import header_summary, read_feed, read_payload, row_label
from connectors.limits import LimitExceeded, ReadLimits
from lienthong.errors import MalformedInput
from lienthong.normalize import normalize_table
from tests.connectors import clerk_files as cf

SEX_CODES = {"Nam": "1", "Nữ": "2"}
ONE_ROW_HEADER = [name for name in cf.FORMS if name != "two-row-header-xlsx"]  # its Nam/Nữ columns: task B's


@pytest.mark.parametrize("form", cf.FORMS)
def test_each_form_is_read_below_its_title_block_and_above_its_footer(form: str) -> None:
    f = cf.FORMS[form]()

    table, options = read_feed(f.payload, f.media_type, origin=f.name)

    assert table.column_names == f.columns
    assert table.num_rows == len(f.people)
    assert [row_label(i, f.media_type, options) for i in range(table.num_rows)] == f.rows
    assert header_summary(options, f.media_type) == f.header
    # the options land with the payload: read again with them, the same table
    assert read_payload(f.payload, f.media_type, options, origin=f.name).equals(table)


@pytest.mark.parametrize("form", ONE_ROW_HEADER)
def test_each_form_normalizes_every_persons_fields_right(form: str) -> None:
    f = cf.FORMS[form]()
    table, _ = read_feed(f.payload, f.media_type, origin=f.name)

    out = normalize_table(table).table.to_pylist()

    for row, person in zip(out, f.people, strict=True):
        assert row["full_name"].replace("Hòa", "Hoà") == person.full_name  # one tone placement (docs/cleaning.md)
        assert row["sex"] == SEX_CODES[person.sex]
        assert row["date_of_birth"] == person.born.isoformat()
        assert row["id_number"] == person.id_number
        assert row["phone"] == person.phone


def test_cccd_typed_as_numbers_keeps_its_digits_and_dates_come_as_excel_dates_or_text() -> None:
    f = cf.title_block_xlsx()
    table, _ = read_feed(f.payload, f.media_type)
    ids = table.column("Số CCCD").to_pylist()
    # stored as 3.4190054321E+10 by Excel: the exact digits, no ".0", no exponent (the zero is the cleaner's)
    assert ids == ["001085012345", *(str(int(p.id_number)) for p in f.people[1:])]
    assert table.column("Ngày sinh").to_pylist()[:2] == ["1985-03-02", "15/07/1990"]


def test_two_row_header_names() -> None:
    table, options = read_feed(*_file(cf.two_row_header_xlsx()))
    assert table.column_names == cf.MERGED_COLUMNS  # "<parent> / <child>"; STT dropped
    assert table.column("Ngày, tháng, năm sinh / Nữ").to_pylist()[:2] == [None, "15/07/1990"]
    assert options["table"] == {"header": 5, "header_rows": 2, "skip": 0, "footer": 0}


def test_every_branch_sheet_is_read_and_named_and_the_rest_reported() -> None:
    f = cf.sheets_per_branch_xlsx()
    table, options = read_feed(f.payload, f.media_type)
    assert options["sheets"] == ["Chi đoàn thôn 1", "Chi đoàn thôn 2"]  # not the cover, not the hidden lists
    assert table.column("Chi hội").to_pylist() == ["Chi đoàn thôn 1"] * 3 + ["Chi đoàn thôn 2"] * 3
    assert table.column("Ghi chú").to_pylist() == [None] * 4 + ["mới", None]  # aligned by name, union
    assert table.column("Số CCCD").to_pylist() == [p.id_number for p in f.people]


def test_a_workbook_with_its_own_branch_column_gets_no_sheet_column() -> None:
    header = ["Họ và tên", "Chi hội", "Số CCCD"]
    payload = _workbook({"Thôn 1": [header, ["An", "Chi hội 1", "001"]],
                         "Thôn 2": [header, ["Bình", "Chi hội 2", "002"]]})
    table, options = read_feed(payload, MEDIA_XLSX)
    assert table.column_names == header and "sheet_column" not in options


def test_a_named_sheet_is_read_alone() -> None:
    f = cf.sheets_per_branch_xlsx()
    table, options = read_feed(f.payload, f.media_type, {"sheet": "Chi đoàn thôn 2"})
    assert table.num_rows == 3 and "Chi hội" not in table.column_names
    assert [row_label(i, f.media_type, options) for i in range(3)] == ["5", "6", "7"]


def test_xls_is_read_by_its_bytes_and_guarded() -> None:
    f = cf.tcvn3_xls()
    with pytest.raises(LimitExceeded, match="rows in the sheet"):
        read_feed(f.payload, MEDIA_XLS, origin="big.xls", limits=ReadLimits(max_rows=3))
    with pytest.raises(MalformedInput, match="really a web page"):
        read_feed(b"<html><table><tr><td>x</td></tr></table></html>", MEDIA_XLS, origin="export.xls")
    with pytest.raises(MalformedInput, match=r"not a readable Excel 97-2003 \(\.xls\)"):
        read_feed(cf.OLE2_HEADER + b"\0" * 600, MEDIA_XLS, origin="cut.xls")
    # a clerk renamed the file: an .xlsx sent as .xls (and back) is read as what it is
    xlsx = cf.title_block_xlsx()
    assert read_feed(xlsx.payload, MEDIA_XLS)[0].num_rows == len(xlsx.people)
    assert read_feed(f.payload, MEDIA_XLSX)[0].num_rows == len(f.people)


def test_the_files_connector_reads_xls(tmp_path: Path) -> None:
    f = cf.tcvn3_xls()
    (tmp_path / f.name).write_bytes(f.payload)
    connector = FilesConnector(FilesConfig(path=str(tmp_path)), source_id="hnd_files")
    [batch] = list(connector.extract(None))
    assert batch.media_type == MEDIA_XLS and batch.records.num_rows == len(f.people)


def _file(f: cf.ClerkFile) -> tuple[bytes, str]:
    return f.payload, f.media_type


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_docs_show_what_the_reader_prints() -> None:
    """docs/cleaning.md "Files as clerks make them": each form's printed header line, and the two-row names."""
    doc = (Path(__file__).parents[2] / "docs" / "cleaning.md").read_text(encoding="utf-8")
    section = doc.split("## Files as clerks make them")[1].split("\n## ")[0]
    shown = 0
    for line in section.splitlines():
        if line.startswith("| ") and "`Dòng tiêu đề" in line:
            builders = [b.strip("` ") for b in line.split("|")[2].split(",")]
            printed = line.split("|")[3].strip().strip("`")
            for builder in builders:
                assert getattr(cf, builder)().header == printed, builder
                shown += 1
    assert shown == 6
    names = ", ".join(f"`{name}`" for name in cf.MERGED_COLUMNS)
    assert names in " ".join(section.split()).replace("→ ", "")


def test_a_guide_sheet_beside_a_member_list_is_not_read() -> None:
    """The hub's own template: "Dữ liệu" and a "Hướng dẫn" table of the columns (no member labels in its header)."""
    header = ["Họ và tên", "Số CCCD"]
    payload = _workbook({"Dữ liệu": [header, ["An", "001085012345"]],
                         "Hướng dẫn": [["Cột", "Ý nghĩa", "Bắt buộc"], ["Họ và tên", "Họ và tên", "Có"],
                                       ["Số CCCD", "Số căn cước", "Không"]]})
    table, options = read_feed(payload, MEDIA_XLSX)
    assert table.column_names == header and options["sheet"] == "Dữ liệu"
