"""Payload readers: CSV, XLSX, JSON, NDJSON into string tables; malformed input named by origin and line."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pyarrow as pa
import pytest

from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLSX
from connectors.formats import (
    detect_delimiter,
    read_payload,
    records_to_table,
    resolve_read_options,
    to_ndjson,
)
from lienthong.errors import MalformedInput
from lienthong.vietnamese.legacy_encodings import encode_cp1258

# --- CSV ---------------------------------------------------------------------------------------------------


def test_csv_semicolon_bom_leading_zeros_and_empty_cells() -> None:
    data = "\ufeffmã;họ_tên;sđt;ghi_chú\n007;Nguyễn Thị Hoà;0912345678;\n008;Trần Văn Đức;;\"a;b\"\n".encode()

    table = read_payload(data, MEDIA_CSV)

    assert table.column_names == ["mã", "họ_tên", "sđt", "ghi_chú"]  # no BOM glued to the first name
    assert all(t == pa.string() for t in table.schema.types)
    assert table.to_pylist() == [
        {"mã": "007", "họ_tên": "Nguyễn Thị Hoà", "sđt": "0912345678", "ghi_chú": None},
        {"mã": "008", "họ_tên": "Trần Văn Đức", "sđt": None, "ghi_chú": "a;b"},
    ]


def test_csv_cp1258_is_decoded_and_composed() -> None:
    data = encode_cp1258("họ_tên,sđt\nNguyễn Thị Hoà,0912345678\nLê Thị Hường,0901234567\n")

    options = resolve_read_options(data, MEDIA_CSV)
    table = read_payload(data, MEDIA_CSV, options)

    assert options == {"encoding": "cp1258", "delimiter": ","}
    assert table.column("họ_tên").to_pylist() == ["Nguyễn Thị Hoà", "Lê Thị Hường"]


def test_csv_utf16_tab_separated_as_excel_saves_unicode_text() -> None:
    data = "họ_tên\tsđt\r\nNguyễn Thị Hoà\t0912345678\r\n".encode("utf-16")

    table = read_payload(data, MEDIA_CSV)

    assert table.to_pylist() == [{"họ_tên": "Nguyễn Thị Hoà", "sđt": "0912345678"}]


def test_csv_quoted_newlines_and_header_only() -> None:
    data = b'id,address\n1,"12 Hang Bac\nHoan Kiem"\n'

    assert read_payload(data, MEDIA_CSV).column("address").to_pylist() == ["12 Hang Bac\nHoan Kiem"]
    assert read_payload(b"id,phone\n", MEDIA_CSV).column_names == ["id", "phone"]
    assert read_payload(b"id;phone;\n1;0912;\n", MEDIA_CSV).to_pylist() == [{"id": "1", "phone": "0912"}]
    assert read_payload(b"", MEDIA_CSV).num_rows == 0


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ('name;note\n"x, y";1\n"p, q";2\n', ";"),
        ("single_column\n1\n", ","),
    ],
)
def test_detect_delimiter(sample: str, expected: str) -> None:
    assert detect_delimiter(sample) == expected


def test_ragged_csv_names_origin_and_line() -> None:
    data = b"id;name;phone\n1;An;0912\n2;Binh\n3;Chi;0913\n"

    with pytest.raises(MalformedInput) as err:
        read_payload(data, MEDIA_CSV, origin="drop/members.csv")

    assert "drop/members.csv: line 3 has 2 fields but the header has 3" in str(err.value)
    assert "dòng 3" in err.value.message_vi


# --- XLSX --------------------------------------------------------------------------------------------------


def _xlsx(*sheets: tuple[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_numbers_dates_and_empty_cells_become_strings() -> None:
    data = _xlsx(("Hội viên", [
        ["họ_tên", "sđt", "ngày_sinh", "điểm", "đã_nộp", "cập_nhật", None],
        ["Nguyễn Thị Hoà", 912345678, dt.date(1990, 5, 17), 7.5, True, dt.datetime(2025, 1, 2, 3, 4), None],
        ["Trần Văn Đức", "0987654321", None, 10, False, dt.datetime(2025, 1, 2), None],
        [None, None, None, None, None, None, None],
    ]), ("Khác", [["x"], [1]]))

    options = resolve_read_options(data, MEDIA_XLSX)
    table = read_payload(data, MEDIA_XLSX, options)

    assert options == {"sheet": "Hội viên"}
    assert all(t == pa.string() for t in table.schema.types)
    assert table.to_pylist() == [
        {"họ_tên": "Nguyễn Thị Hoà", "sđt": "912345678", "ngày_sinh": "1990-05-17", "điểm": "7.5",
         "đã_nộp": "true", "cập_nhật": "2025-01-02T03:04:00"},
        {"họ_tên": "Trần Văn Đức", "sđt": "0987654321", "ngày_sinh": None, "điểm": "10",
         "đã_nộp": "false", "cập_nhật": "2025-01-02"},
    ]


def test_xlsx_named_sheet_and_unknown_sheet() -> None:
    data = _xlsx(("Tổng hợp", [["n"], [3]]), ("Chi tiết", [["id", "sđt"], [1, "0912"]]))

    assert read_payload(data, MEDIA_XLSX, {"sheet": "Chi tiết"}).to_pylist() == [{"id": "1", "sđt": "0912"}]
    with pytest.raises(MalformedInput, match="no sheet 'Danh sách'; the workbook has Tổng hợp, Chi tiết"):
        read_payload(data, MEDIA_XLSX, {"sheet": "Danh sách"}, origin="b.xlsx")


@pytest.mark.parametrize("data", [b"not a zip at all", b"PK\x03\x04broken"], ids=["not-zip", "broken-zip"])
def test_xlsx_that_is_not_a_workbook(data: bytes) -> None:
    with pytest.raises(MalformedInput, match=r"report\.xlsx: not a readable Excel \(\.xlsx\) workbook"):
        read_payload(data, MEDIA_XLSX, origin="report.xlsx")


# --- JSON / NDJSON -----------------------------------------------------------------------------------------


def test_json_list_with_nested_values_and_numbers() -> None:
    data = json.dumps([
        {"id": 1, "phone": "0912", "tags": ["a", "b"], "address": {"ward": "070"}, "score": 2.0, "ok": True},
        {"id": 2, "extra": None},
    ]).encode()

    table = read_payload(data, MEDIA_JSON)

    assert table.to_pylist() == [
        {"id": "1", "phone": "0912", "tags": '["a", "b"]', "address": '{"ward": "070"}', "score": "2",
         "ok": "true", "extra": None},
        {"id": "2", "phone": None, "tags": None, "address": None, "score": None, "ok": None, "extra": None},
    ]


def test_json_records_path() -> None:
    data = b'{"result": {"items": [{"id": "A1"}], "count": 1}}'

    assert read_payload(data, MEDIA_JSON, {"records_path": "result.items"}).to_pylist() == [{"id": "A1"}]
    with pytest.raises(MalformedInput, match="no 'rows' in the JSON for records_path 'result.rows'"):
        read_payload(data, MEDIA_JSON, {"records_path": "result.rows"})
    with pytest.raises(MalformedInput, match="set records_path"):
        read_payload(data, MEDIA_JSON)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "expected JSON but got HTML"),
        (b'[{"id": 1},\n {"id": ]', "invalid JSON at line 2"),
        (b'[{"id": 1}, 2]', "record 2 is a JSON int, not an object"),
    ],
    ids=["html", "invalid", "not-objects"],
)
def test_malformed_json(data: bytes, message: str) -> None:
    with pytest.raises(MalformedInput, match=message) as err:
        read_payload(data, MEDIA_JSON, origin="https://api.example/members?page=2")

    assert str(err.value).startswith("https://api.example/members?page=2: ")


def test_ndjson_and_its_bad_line() -> None:
    good = b'{"id": 1, "name": "An"}\n\n{"id": 2}\n'

    expected = [{"id": "1", "name": "An"}, {"id": "2", "name": None}]
    assert read_payload(good, MEDIA_NDJSON).to_pylist() == expected
    with pytest.raises(MalformedInput, match="members.ndjson: invalid JSON at line 3"):
        read_payload(b'{"id": 1}\n{"id": 2}\n{"id": \n', MEDIA_NDJSON, origin="members.ndjson")
    with pytest.raises(MalformedInput, match="line 1 is not a JSON object"):
        read_payload(b"[1, 2]\n", MEDIA_NDJSON)


def test_canonical_ndjson_round_trip_keeps_column_order() -> None:
    records = [{"z": "Hoà", "a": 1, "n": {"y": 1, "x": [1]}}, {"a": 2, "new": None}]

    payload = to_ndjson(records)
    table = read_payload(payload, MEDIA_NDJSON, {"columns": ["z", "a", "n", "new"]})

    assert payload.decode().splitlines()[0] == '{"a": 1, "n": {"x": [1], "y": 1}, "z": "Hoà"}'
    assert table.equals(records_to_table(records))


def test_unknown_media_type() -> None:
    with pytest.raises(MalformedInput, match="no reader for media type 'application/pdf'"):
        read_payload(b"%PDF", "application/pdf", origin="x.pdf")
