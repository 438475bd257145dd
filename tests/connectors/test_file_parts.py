"""A large file read in bounded parts gives the whole-file reader's records, in the file's rows, re-readable alone."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.base import MEDIA_CSV, MEDIA_NDJSON
from connectors.file_parts import cut, plan_parts
from connectors.formats import file_row, read_feed, read_payload
from lienthong.errors import MalformedInput

TITLE = ["HỘI LIÊN HIỆP PHỤ NỮ XÃ TÂN LẬP;;;", ";;;", "DANH SÁCH HỘI VIÊN NĂM 2026;;;"]
HEADER = ["STT;Họ và tên;Ngày sinh;Địa chỉ", "(1);(2);(3);(4)"]
FOOTER = [";;;Tân Lập, ngày 15 tháng 3 năm 2026", ";;;Người lập biểu"]


def _rows(n: int) -> list[str]:
    """Records; every 50th has an address with a line break inside quotes (one row, two lines)."""
    return [f'{i};Nguyễn Thị Hoà {i};01/02/1985;"Thôn {i}\nTân Lập"' if i % 50 == 0 else
            f"{i};Nguyễn Thị Hoà {i};01/02/1985;Thôn {i}" for i in range(1, n + 1)]


def _whole_and_parts(path: Path, media_type: str, part_rows: int) -> tuple[pa.Table, dict, list]:
    whole, options = read_feed(path.read_bytes(), media_type, origin=str(path))
    plan = plan_parts(path, media_type, {}, part_rows=part_rows)
    assert plan is not None
    return whole, options, list(plan)


def test_a_clerks_form_read_in_parts_gives_the_whole_files_records_in_its_rows(tmp_path):
    path = tmp_path / "danh_sach.csv"
    lines = [*TITLE, *HEADER, *_rows(420), *FOOTER]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    whole, options, parts = _whole_and_parts(path, MEDIA_CSV, part_rows=100)

    assert len(parts) == 4 and [p.of for p in parts] == [4] * 4
    assert pa.concat_tables([p.records for p in parts]).equals(whole)
    # every record's row as the whole file numbers it (a quoted line break is one row, as Excel shows it)
    whole_rows = [file_row(i, MEDIA_CSV, options) for i in range(whole.num_rows)]
    part_rows = [file_row(i, MEDIA_CSV, p.read_options) for p in parts for i in range(p.records.num_rows)]
    assert part_rows == whole_rows and whole_rows[0] == 6
    assert parts[-1].read_options["table"]["footer"] == 2, "the footer is found in the last part, and only there"
    for part in parts:  # the raw zone holds each part as a file the reader reads again exactly as landed
        assert read_payload(part.payload, MEDIA_CSV, part.read_options).equals(part.records)
        assert part.read_options["part"]["number"] == part.number
    assert len({p.identity for p in parts}) == 4


def test_parts_are_cut_outside_quotes_and_keep_a_footers_worth_of_rows_last(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n" + "".join(f'{i},"x\ny"\n' for i in range(300)), encoding="utf-8")
    chunks = list(cut(path, part_rows=100, quoted=True))
    assert [c.rows_before for c in chunks] == [0, 100, 200]
    assert b"".join(c.data for c in chunks) == path.read_bytes()
    assert all(c.data.count(b'"') % 2 == 0 for c in chunks)
    assert chunks[-1].last and len(chunks[-1].data.split(b"\n")) > 30


def test_ndjson_parts_share_every_column_and_number_lines_as_the_file(tmp_path):
    path = tmp_path / "a.ndjson"
    records = [{"id": i, "name": f"Hoà {i}", **({"note": "x"} if i == 250 else {})} for i in range(300)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    whole, options, parts = _whole_and_parts(path, MEDIA_NDJSON, part_rows=100)
    assert all(p.records.column_names == ["id", "name", "note"] for p in parts)
    assert pa.concat_tables([p.records for p in parts]).num_rows == 300
    assert file_row(0, MEDIA_NDJSON, parts[2].read_options) == 201


def test_a_bad_line_far_down_refuses_the_file_before_any_part(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n" + "".join(f"{i},x\n" for i in range(250)) + "1,2,3\n" + "9,y\n" * 40,
                    encoding="utf-8")
    with pytest.raises(MalformedInput, match="line 252"):
        plan_parts(path, MEDIA_CSV, {}, part_rows=100)


def test_small_or_unfit_files_are_read_whole(tmp_path):
    small = tmp_path / "small.csv"
    small.write_text("a,b\n" + "1,x\n" * 120, encoding="utf-8")
    assert plan_parts(small, MEDIA_CSV, {}, part_rows=100) is None, "one part: the whole-file batch, as before"
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text("a,b\n" + "1,x\n" * 400, encoding="utf-16")
    assert plan_parts(utf16, MEDIA_CSV, {}, part_rows=100) is None
    late = tmp_path / "late_cp1258.csv"  # a UTF-8-clean head, legacy bytes later: the whole file decides
    late.write_bytes(b"a,b\n" + b"1,x\n" * 300 + "2,Hoà\n".encode("cp1258") * 40)
    assert plan_parts(late, MEDIA_CSV, {}, part_rows=100) is None
