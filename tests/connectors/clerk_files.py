"""Member lists as commune-level clerks make them, generated with their truth.

Each builder returns a :class:`ClerkFile`: the bytes, media type and file name, the people it holds (in order),
the header row a clerk sees, and the sheet-qualified row of each person. The forms: a title block with the
national motto above the header, a column-number row under it, spacer rows and a footer of place, date and
signature; a two-row merged header ("Ngày, tháng, năm sinh" over "Nam | Nữ", "Địa chỉ" over its parts); one sheet
per branch beside a cover sheet and a hidden list; an old ``.xls`` typed in TCVN3 (.VnTime); CSV as Excel writes
it in a Vietnamese locale (``;``, title lines, BOM or not, cp1258, UTF-16 "Unicode text"); CCCD stored as numbers
and dates as Excel dates beside text.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import openpyxl
import xlwt

from connectors.base import MEDIA_CSV, MEDIA_XLS, MEDIA_XLSX
from connectors.spreadsheet import OLE2_MAGIC as OLE2_HEADER  # noqa: F401 - for tests of cut .xls files
from lienthong.vietnamese.legacy_encodings import encode_cp1258, encode_tcvn3, encode_vni


@dataclass(frozen=True)
class Person:
    full_name: str
    sex: str  # "Nam" / "Nữ"
    born: dt.date
    id_number: str  # 12 digits, leading zero kept
    phone: str
    hamlet: str
    ward: str


PEOPLE = [
    Person("Nguyễn Văn An", "Nam", dt.date(1985, 3, 2), "001085012345", "0912345678", "Thôn 1", "Xã Tân Lập"),
    Person("Trần Thị Bình", "Nữ", dt.date(1990, 7, 15), "034190054321", "0987654321", "Thôn 1", "Xã Tân Lập"),
    Person("Lê Văn Cường", "Nam", dt.date(1978, 11, 20), "123078111222", "0903111222", "Thôn 2", "Xã Tân Lập"),
    Person("Phạm Thị Dung", "Nữ", dt.date(2000, 1, 3), "001300098765", "0911000111", "Thôn 2", "Xã Tân Lập"),
    Person("Hoàng Văn Em", "Nam", dt.date(1969, 5, 30), "036069000555", "0977888999", "Thôn 3", "Xã Tân Lập"),
    Person("Đỗ Thị Hoà", "Nữ", dt.date(1995, 12, 1), "001195004321", "0358123456", "Thôn 3", "Xã Tân Lập"),
]

TITLE = [
    ["HỘI NÔNG DÂN XÃ TÂN LẬP", None, None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    [None, None, None, None, "Độc lập - Tự do - Hạnh phúc"],
    [],
    ["DANH SÁCH HỘI VIÊN NĂM 2026"],
]
HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Số điện thoại", "Địa chỉ"]
FOOTER = [
    [],
    [None, None, None, None, "Tân Lập, ngày 15 tháng 3 năm 2026"],
    [None, "Người lập biểu", None, None, "TM. BAN CHẤP HÀNH"],
    [None, "(Ký, ghi rõ họ tên)", None, None, "CHỦ TỊCH"],
    [],
    [None, "Nguyễn Thị Lập", None, None, "Trần Văn Chủ"],
]


@dataclass(frozen=True)
class ClerkFile:
    payload: bytes
    media_type: str
    name: str
    people: list[Person]
    header: str  # what `check` and `normalize` say: "Dòng tiêu đề: …"
    rows: list[str]  # row_label of each person, in order
    columns: list[str]  # the table's columns, in order


def _row(i: int, p: Person, *, dates_as: str = "text", id_as: str = "text") -> list[object]:
    born: object = p.born.strftime("%d/%m/%Y") if dates_as == "text" else p.born
    id_number: object = float(p.id_number) if id_as == "number" else p.id_number
    return [i, p.full_name, born, p.sex, id_number, p.phone, f"{p.hamlet}, {p.ward}"]


def _xlsx(sheets: list[tuple[str, list[list[object]], list[str]]], hidden: tuple[str, ...] = ()) -> bytes:
    """Sheets of rows; each sheet's merged ranges (e.g. "C6:D6") as Excel stores them: value in the first cell."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows, merged in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cells in merged:
            sheet.merge_cells(cells)
        if title in hidden:
            sheet.sheet_state = "hidden"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def title_block_xlsx() -> ClerkFile:
    """The issue's commune list: title block, header on row 5, "(1) (2) …" under it, a spacer row holding only
    its STT, a blank row, a footer; CCCD typed as numbers in Excel (1.23E+11), dates as Excel dates and text."""
    rows: list[list[object]] = [*TITLE, HEADER, [f"({i})" for i in range(1, 8)]]
    for i, p in enumerate(PEOPLE[:3], start=1):
        rows.append(_row(i, p, dates_as="date" if i % 2 else "text", id_as="number" if i != 1 else "text"))
    rows.append([4])  # a spacer holding only its STT
    rows.append([])
    for i, p in enumerate(PEOPLE[3:], start=5):
        rows.append(_row(i, p, dates_as="date", id_as="number"))
    rows.extend(FOOTER)
    payload = _xlsx([("Danh sách", rows, ["A4:G4"])])
    return ClerkFile(payload, MEDIA_XLSX, "danh_sach.xlsx", PEOPLE, "Dòng tiêu đề: dòng 5 (trang 'Danh sách')",
                     ["7", "8", "9", "12", "13", "14"], HEADER[1:])


MERGED_TOP = ["STT", "Họ và tên", "Ngày, tháng, năm sinh", None, "Địa chỉ", None, None, None, "Số CCCD"]
MERGED_BELOW = [None, None, "Nam", "Nữ", "Thôn/Xóm", "Xã/Phường", "Huyện", "Tỉnh", None]
MERGED_COLUMNS = ["Họ và tên", "Ngày, tháng, năm sinh / Nam", "Ngày, tháng, năm sinh / Nữ", "Địa chỉ / Thôn/Xóm",
                  "Địa chỉ / Xã/Phường", "Địa chỉ / Huyện", "Địa chỉ / Tỉnh", "Số CCCD"]


def two_row_header_xlsx() -> ClerkFile:
    """"Ngày, tháng, năm sinh" merged over "Nam | Nữ" (the date stands in the column of the person's sex),
    "Địa chỉ" over its four parts; STT, name and CCCD merged down over both rows."""
    rows: list[list[object]] = [*TITLE, MERGED_TOP, MERGED_BELOW]
    for i, p in enumerate(PEOPLE, start=1):
        born = p.born.strftime("%d/%m/%Y")
        rows.append([i, p.full_name, born if p.sex == "Nam" else None, born if p.sex == "Nữ" else None,
                     p.hamlet, p.ward, "Huyện Tân Yên", "Tỉnh Bắc Giang", p.id_number])
    merged = ["C5:D5", "E5:H5", "A5:A6", "B5:B6", "I5:I6"]
    payload = _xlsx([("Sheet1", rows, merged)])
    return ClerkFile(payload, MEDIA_XLSX, "hai_dong.xlsx", PEOPLE, "Dòng tiêu đề: dòng 5–6 (trang 'Sheet1')",
                     [str(7 + i) for i in range(len(PEOPLE))], MERGED_COLUMNS)


def sheets_per_branch_xlsx() -> ClerkFile:
    """A cover sheet, one sheet per branch (the second with its columns in another order and a note column), and
    a hidden sheet of code lists: the branches are read, aligned by column name, named in ``Chi hội``."""
    cover = [["BÁO CÁO DANH SÁCH HỘI VIÊN"], ["Xã Tân Lập, năm 2026"]]
    first: list[list[object]] = [[None, "CHI ĐOÀN THÔN 1"], [], HEADER]
    first += [_row(i, p) for i, p in enumerate(PEOPLE[:3], start=1)]
    second_header = ["STT", "Số CCCD", "Họ và tên", "Giới tính", "Ngày sinh", "Số điện thoại", "Địa chỉ", "Ghi chú"]
    second: list[list[object]] = [[None, "CHI ĐOÀN THÔN 2"], [], [], second_header]
    for i, p in enumerate(PEOPLE[3:], start=1):
        second.append([i, p.id_number, p.full_name, p.sex, p.born.strftime("%d/%m/%Y"), p.phone,
                       f"{p.hamlet}, {p.ward}", "mới" if i == 2 else None])
    lists = [["Giới tính", "Dân tộc"], ["Nam", "Kinh"], ["Nữ", "Tày"]]
    payload = _xlsx([("Bìa", cover, []), ("Chi đoàn thôn 1", first, []), ("Chi đoàn thôn 2", second, []),
                     ("DM", lists, [])], hidden=("DM",))
    rows = [f"Chi đoàn thôn 1, dòng {4 + i}" for i in range(3)] + [f"Chi đoàn thôn 2, dòng {5 + i}" for i in range(3)]
    return ClerkFile(payload, MEDIA_XLSX, "chi_doan.xlsx", PEOPLE,
                     "Dòng tiêu đề: dòng 3 (trang 'Chi đoàn thôn 1'), dòng 4 (trang 'Chi đoàn thôn 2')", rows,
                     [*HEADER[1:], "Ghi chú", "Chi hội"])


def tcvn3_xls(font: str = "tcvn3") -> ClerkFile:
    """An Excel 97-2003 file typed in the .VnTime font (or a VNI font): every Vietnamese letter stored as its
    TCVN3 byte (VNI: letter + modifier), which Excel keeps as Western characters (what the font drew as
    Vietnamese)."""
    encode = encode_tcvn3 if font == "tcvn3" else encode_vni
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Chi hoi 1")
    date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    rows: list[list[object]] = [[encode(c) if isinstance(c, str) else c for c in row] for row in TITLE]
    rows.append([encode(c) for c in HEADER])
    for i, p in enumerate(PEOPLE, start=1):
        rows.append([i, encode(p.full_name), p.born, encode(p.sex), float(p.id_number), p.phone,
                     encode(f"{p.hamlet}, {p.ward}")])
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date)
            else:
                sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return ClerkFile(out.getvalue(), MEDIA_XLS, f"danh_sach_{font}.xls", PEOPLE,
                     "Dòng tiêu đề: dòng 5 (trang 'Chi hoi 1')", [str(6 + i) for i in range(len(PEOPLE))],
                     [encode(c) for c in HEADER[1:]])


def _csv_lines(delimiter: str, *, padded: bool) -> list[str]:
    """Excel writes every row of the used range with all its delimiters (``padded``); a hand-made file has bare
    title and footer lines, without any."""
    def table_line(cells: list[object]) -> str:
        texts = ["" if c is None else str(c) for c in cells]
        texts += [""] * (len(HEADER) - len(texts))
        return delimiter.join(f'"{t}"' if delimiter in t else t for t in texts)

    def text_line(cells: list[object]) -> str:
        return table_line(cells) if padded else "    ".join(str(c) for c in cells if c is not None)

    lines = [text_line(row) for row in TITLE] + [table_line(HEADER)]
    lines += [table_line(_row(i, p)) for i, p in enumerate(PEOPLE, start=1)]
    return lines + [text_line(row) for row in FOOTER]


def semicolon_csv(encoding: str = "utf-8-sig", *, padded: bool = True) -> ClerkFile:
    """CSV as Excel saves it in a Vietnamese locale: ``;`` separators, the title block above the header (every
    row padded with delimiters, or bare title lines of a hand-made file), the footer below; UTF-8 with or without
    BOM, or cp1258."""
    text = "\r\n".join(_csv_lines(";", padded=padded)) + "\r\n"
    payload = encode_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    return ClerkFile(payload, MEDIA_CSV, f"danh_sach_{encoding}.csv", PEOPLE, "Dòng tiêu đề: dòng 5",
                     [str(6 + i) for i in range(len(PEOPLE))], HEADER[1:])


def unicode_text_csv() -> ClerkFile:
    """Excel's "Unicode text": UTF-16 with BOM, tab-separated, title block included."""
    text = "\r\n".join(_csv_lines("\t", padded=True)) + "\r\n"
    return ClerkFile(text.encode("utf-16"), MEDIA_CSV, "danh_sach.txt", PEOPLE, "Dòng tiêu đề: dòng 5",
                     [str(6 + i) for i in range(len(PEOPLE))], HEADER[1:])


FORMS = {
    "title-block-xlsx": title_block_xlsx,
    "two-row-header-xlsx": two_row_header_xlsx,
    "sheets-per-branch-xlsx": sheets_per_branch_xlsx,
    "tcvn3-xls": tcvn3_xls,
    "vni-xls": lambda: tcvn3_xls("vni"),
    "semicolon-csv-bom": semicolon_csv,
    "semicolon-csv-no-bom-bare-titles": lambda: semicolon_csv("utf-8", padded=False),
    "semicolon-csv-cp1258": lambda: semicolon_csv("cp1258"),
    "unicode-text-utf16": unicode_text_csv,
}
