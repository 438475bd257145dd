"""One row numbering: the row a spreadsheet program shows, from what the reader found (connectors.formats)."""

from __future__ import annotations

import io

import openpyxl

from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLSX
from connectors.formats import FILE_ROWS, file_row, read_feed, read_payload


def _rows(payload: bytes, media: str) -> tuple[list[int], dict]:
    table, options = read_feed(payload, media)
    return [file_row(i, media, options) for i in range(table.num_rows)], options


def test_a_plain_csv_numbers_rows_by_line_and_stores_nothing() -> None:
    rows, options = _rows(b"a;b\n1;2\n3;4\n", MEDIA_CSV)
    assert rows == [2, 3]
    assert FILE_ROWS not in options  # the usual layout: batches landed before read the same


def test_blank_lines_count_as_rows_and_a_quoted_line_break_does_not() -> None:
    assert _rows(b"a,b\n1,2\n\n3,4\n\n", MEDIA_CSV)[0] == [2, 4]
    assert _rows(b'a,b\n"x\ny",2\n3,4\n', MEDIA_CSV)[0] == [2, 3]  # one row in Excel, spread over two lines
    assert _rows(b'a,b\n"x\n\ny",2\n\n3,4\n', MEDIA_CSV)[0] == [2, 4]
    assert _rows(b"a,b\r\n1,2\r\n\r\n3,4\r\n", MEDIA_CSV)[0] == [2, 4]


def test_a_workbook_numbers_rows_as_excel_does() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in ([], [], ["a", "b"], ["1", "2"], [], ["3", "4"]):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    rows, options = _rows(buf.getvalue(), MEDIA_XLSX)
    assert rows == [4, 6]
    assert options[FILE_ROWS] == {"first": 4, "skipped": [[1, 1]]}


def test_ndjson_by_line_json_by_position() -> None:
    assert _rows(b'{"a": 1}\n\n{"a": 2}\n', MEDIA_NDJSON)[0] == [1, 3]
    assert _rows(b'[{"a": 1}, {"a": 2}]', MEDIA_JSON)[0] == [1, 2]


def test_rereading_a_landed_payload_keeps_its_options_usable() -> None:
    """The stored options carry the layout; reading the payload again with them gives the same table."""
    payload = b"a,b\n1,2\n\n3,4\n"
    table, options = read_feed(payload, MEDIA_CSV)
    assert read_payload(payload, MEDIA_CSV, options).equals(table)
    assert file_row(1, MEDIA_CSV, None) == 3  # a batch landed before: the usual layout
