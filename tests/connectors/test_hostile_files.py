"""Hostile files: every reader refuses them with a reason (English and Vietnamese), before anything is allocated
beyond the limits, and never with an abort, a RecursionError or a crash of the process."""

from __future__ import annotations

import resource
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.files import FilesConfig, FilesConnector
from connectors.formats import read_feed, read_payload
from connectors.isolated import IsolatedReader
from connectors.limits import DEFAULT_LIMITS, LimitExceeded, ReadLimits
from lienthong.errors import FilesRefused, MalformedInput
from tests.connectors import hostile_files as hf


@pytest.mark.parametrize("name", list(hf.HOSTILE))
def test_every_hostile_file_is_refused_with_a_reason(name: str) -> None:
    data, media, filename = hf.HOSTILE[name]()

    with pytest.raises(MalformedInput) as err:
        read_feed(data, media, origin=filename)

    assert str(err.value).startswith(f"{filename}: ")
    assert err.value.message_vi.startswith(f"{filename}: ")
    assert err.value.message_vi != str(err.value)  # a Vietnamese reason for the clerk


def test_a_cell_at_xfd1048576_is_refused_before_calamine_allocates_512_gib() -> None:
    with pytest.raises(LimitExceeded) as err:
        read_payload(hf.far_cell_xlsx(), hf.MEDIA_XLSX, origin="far.xlsx")

    assert err.value.limit == "columns"
    assert "far.xlsx: columns in the sheet's used range: at least 16,384, above the limit of 1,000" in str(err.value)
    assert "16.384" in err.value.message_vi


def test_the_declared_dimension_is_held_to_the_limits_too() -> None:
    with pytest.raises(LimitExceeded, match="declared dimension"):
        read_payload(hf.huge_dimension_xlsx(), hf.MEDIA_XLSX, origin="d.xlsx")


def test_a_wide_but_legal_used_range_is_refused_by_its_area() -> None:
    data = hf.workbook(hf.sheet_xml(f'<row r="1">{hf.inline("A1", "a")}</row>'
                                    f'<row r="5000">{hf.inline("Z5000", "b")}</row>'))
    with pytest.raises(LimitExceeded) as err:
        read_payload(data, hf.MEDIA_XLSX, origin="area.xlsx", limits=ReadLimits(max_cells=100_000))
    assert err.value.limit == "cells"


def test_a_row_bomb_is_refused_by_its_compression_ratio_without_inflating_it() -> None:
    data = hf.row_bomb_xlsx()
    assert len(data) < 40_000  # 10 MB of sheet XML

    with pytest.raises(LimitExceeded) as err:
        read_payload(data, hf.MEDIA_XLSX, origin="bomb.xlsx")

    assert err.value.limit == "compression_ratio"
    assert "zip bomb" in str(err.value)


def test_rows_are_counted_while_streaming_the_sheet() -> None:
    data = hf.many_rows_xlsx(3_000)

    with pytest.raises(LimitExceeded) as err:
        read_payload(data, hf.MEDIA_XLSX, origin="rows.xlsx", limits=ReadLimits(max_rows=1_000))

    assert err.value.limit == "rows"
    assert "at least" in str(err.value)  # stopped counting at the limit: the sheet was not read to its end
    assert read_payload(data, hf.MEDIA_XLSX, origin="rows.xlsx").num_rows == 3_000


def test_a_zip_that_lies_about_its_sizes_is_measured_by_what_it_inflates_to() -> None:
    data = hf.lying_sizes_xlsx()
    lenient = ReadLimits(max_compression_ratio=1e9)

    with pytest.raises(MalformedInput, match=r"declares 300 bytes but holds \d+"):
        read_payload(data, hf.MEDIA_XLSX, origin="lying.xlsx", limits=lenient)


def test_the_unzipped_total_is_limited() -> None:
    data = hf.many_rows_xlsx(2_000)

    with pytest.raises(LimitExceeded) as err:
        read_payload(data, hf.MEDIA_XLSX, origin="big.xlsx", limits=ReadLimits(max_uncompressed_bytes=20_000))

    assert err.value.limit == "uncompressed_bytes"


def test_too_many_zip_members() -> None:
    with pytest.raises(LimitExceeded) as err:
        read_payload(hf.many_members_xlsx(50), hf.MEDIA_XLSX, origin="m.xlsx", limits=ReadLimits(max_zip_members=20))
    assert err.value.limit == "zip_members"


def test_a_huge_cell_is_refused_while_streaming() -> None:
    with pytest.raises(LimitExceeded) as err:
        read_payload(hf.big_cell_xlsx(50_000), hf.MEDIA_XLSX, origin="c.xlsx", limits=ReadLimits(max_cell_bytes=10_000))
    assert err.value.limit == "cell_bytes"


def test_shared_strings_are_counted() -> None:
    with pytest.raises(LimitExceeded, match="shared strings"):
        read_payload(hf.many_strings_xlsx(500), hf.MEDIA_XLSX, origin="s.xlsx", limits=ReadLimits(max_cells=100))


def test_hand_written_workbooks_within_limits_read_as_before() -> None:
    assert read_payload(hf.good_xlsx(), hf.MEDIA_XLSX).to_pylist() == [
        {"Mã hội viên": "HV1", "Họ và tên": "Nguyễn Thị Hoà"}]
    # cells without references are placed as calamine places them
    data = hf.workbook(hf.sheet_xml('<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t>'
                                    "</is></c></row><row><c><v>1</v></c><c><v>2</v></c></row>"))
    assert read_payload(data, hf.MEDIA_XLSX).to_pylist() == [{"a": "1", "b": "2"}]
    # a formatted but empty cell far away is not data: calamine ignores it, so does the scan
    data = hf.workbook(hf.sheet_xml(f'<row r="1">{hf.inline("A1", "a")}</row><row r="2">{hf.inline("A2", "1")}'
                                    '</row><row r="1048576"><c r="XFD1048576" s="1"/></row>'))
    assert read_payload(data, hf.MEDIA_XLSX).to_pylist() == [{"a": "1"}]


def test_a_sheet_over_several_chunks_keeps_every_row_in_order() -> None:
    table = read_payload(hf.many_rows_xlsx(70_000), hf.MEDIA_XLSX)
    assert table.num_rows == 70_000
    assert table.column("n").num_chunks == 2
    assert table.column("n")[65_536].as_py() == str(65_538 * 7919 % 100003)


def test_json_nested_a_hundred_thousand_deep_is_malformed_not_a_recursion_error() -> None:
    with pytest.raises(MalformedInput, match="nested deeper than it can be read"):
        read_payload(b"[" * 100_000, hf.MEDIA_JSON, origin="deep.json")


def test_json_and_ndjson_rows_and_keys_are_limited() -> None:
    records = b"[" + b",".join(b'{"a": %d}' % i for i in range(50)) + b"]"
    with pytest.raises(LimitExceeded, match="records: 50, above the limit of 10"):
        read_payload(records, hf.MEDIA_JSON, origin="r.json", limits=ReadLimits(max_rows=10))
    lines = b"\n".join(b'{"a": %d}' % i for i in range(50))
    with pytest.raises(LimitExceeded, match="records: at least 11"):
        read_payload(lines, hf.MEDIA_NDJSON, origin="r.ndjson", limits=ReadLimits(max_rows=10))
    wide = b'[{' + b",".join(b'"k%d": 1' % i for i in range(30)) + b"}]"
    with pytest.raises(LimitExceeded, match="distinct keys"):
        read_payload(wide, hf.MEDIA_JSON, origin="w.json", limits=ReadLimits(max_columns=10))


def test_csv_limits() -> None:
    rows = b"a;b\n" + b"1;2\n" * 20
    with pytest.raises(LimitExceeded, match="data rows: 20, above the limit of 10"):
        read_payload(rows, hf.MEDIA_CSV, origin="r.csv", limits=ReadLimits(max_rows=10))
    wide = b";".join(b"c%d" % i for i in range(30)) + b"\n" + b";".join(b"1" for _ in range(30)) + b"\n"
    with pytest.raises(LimitExceeded, match="columns: 30"):
        read_payload(wide, hf.MEDIA_CSV, origin="w.csv", limits=ReadLimits(max_columns=10))
    no_newline = b"a;" + b"x" * 300_000
    with pytest.raises(LimitExceeded, match="bytes in the header line"):
        read_payload(no_newline, hf.MEDIA_CSV, origin="l.csv")
    with pytest.raises(LimitExceeded, match="bytes in one line"):
        read_payload(b"a;b\n1;" + b"x" * 3_000_000 + b"\n", hf.MEDIA_CSV, origin="l.csv",
                     limits=ReadLimits(max_line_bytes=1_000_000))


def test_a_nul_in_a_utf16_csv_is_found_though_every_other_byte_is_0() -> None:
    """A CSV without a 0 byte skips the search for NUL in its cells; UTF-16 has 0 bytes everywhere, so it searches."""
    payload = "Mã hội viên;Họ và tên\nHV1;An\x00\n".encode("utf-16")
    with pytest.raises(MalformedInput, match="NUL"):
        read_payload(payload, hf.MEDIA_CSV, origin="nul16.csv")


def test_a_payload_larger_than_the_limit_is_refused_by_its_size() -> None:
    with pytest.raises(LimitExceeded, match="bytes: 4,000"):
        read_payload(b"a\n" * 2_000, hf.MEDIA_CSV, origin="big.csv", limits=ReadLimits(max_bytes=1_000))


def test_an_api_page_may_still_be_empty() -> None:
    """Only files must be feeds: a REST page or a re-read canonical NDJSON of no records is fine."""
    assert read_payload(b"", hf.MEDIA_NDJSON).num_rows == 0
    assert read_payload(b"[]", hf.MEDIA_JSON).num_rows == 0


@pytest.mark.parametrize("name", ["csv-header-only", "csv-duplicate-header", "xlsx-far-cell", "json-deep"])
def test_the_files_connector_refuses_them_naming_the_source(tmp_path: Path, name: str) -> None:
    data, _, filename = hf.HOSTILE[name]()
    (tmp_path / filename).write_bytes(data)
    connector = FilesConnector(FilesConfig(path=str(tmp_path)), source_id="hnd_files")

    with pytest.raises(MalformedInput) as err:
        list(connector.extract(None))

    assert err.value.source_id == "hnd_files"
    assert str(tmp_path / filename) in str(err.value)


def test_the_files_connector_refuses_a_file_by_its_size_before_reading_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "big.csv").write_bytes(b"a\n1\n" * 1000)
    monkeypatch.setattr("connectors.files.DEFAULT_LIMITS", ReadLimits(max_bytes=100))
    with pytest.raises(FilesRefused, match="big.csv: bytes: 4,000") as refusal:
        list(FilesConnector(FilesConfig(path=str(tmp_path)), source_id="s").extract(None))
    [limit] = refusal.value.refused
    assert isinstance(limit, LimitExceeded)


# --- the memory-capped worker -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def worker() -> IsolatedReader:
    reader = IsolatedReader(500 * 1024 * 1024, workers=1)
    yield reader
    reader.close()


def test_the_worker_returns_the_table_and_the_refusals(worker: IsolatedReader) -> None:
    table, options = worker.read("Mã;Tên\nHV1;An\n".encode(), hf.MEDIA_CSV, origin="ok.csv", limits=DEFAULT_LIMITS)
    assert table.to_pylist() == [{"Mã": "HV1", "Tên": "An"}] and options["delimiter"] == ";"
    assert isinstance(table, pa.Table)

    for name in hf.HOSTILE:
        data, media, filename = hf.HOSTILE[name]()
        with pytest.raises(MalformedInput) as err:
            worker.read(data, media, origin=filename, limits=DEFAULT_LIMITS)
        assert str(err.value).startswith(filename) and err.value.message_vi.startswith(filename)
        assert worker.last_peak_rss_kib < 500 * 1024  # resident memory, shared libraries included, under the cap


@pytest.mark.slow
def test_a_file_needing_more_memory_than_the_cap_is_refused_and_the_worker_replaced() -> None:
    reader = IsolatedReader(250 * 1024 * 1024, workers=1)
    try:
        # legal, within every limit, but ~1.2M cells: more than the ~90 MiB the cap leaves once pyarrow is loaded
        data = hf.workbook(hf.sheet_xml("".join(
            f'<row r="{r}">' + "".join(hf.inline(f"{c}{r}", f"Nguyễn Văn {r}{c}") for c in "ABCDEFGHIJKL")
            + "</row>" for r in range(1, 100_001))))
        with pytest.raises(LimitExceeded) as err:
            reader.read(data, hf.MEDIA_XLSX, origin="huge.xlsx", limits=DEFAULT_LIMITS)
        assert err.value.limit == "memory"
        assert "250 MiB" in str(err.value) and "250 MiB" in err.value.message_vi

        table, _ = reader.read(b"a\n1\n", hf.MEDIA_CSV, origin="small.csv", limits=DEFAULT_LIMITS)
        assert table.num_rows == 1  # the next upload is read as usual
    finally:
        reader.close()


def test_peak_memory_of_this_process_stays_bounded_by_the_refusals() -> None:
    """The in-process readers (check, normalize, sync) refuse every hostile file within a few hundred MiB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for make in hf.HOSTILE.values():
        data, media, filename = make()
        with pytest.raises(MalformedInput):
            read_feed(data, media, origin=filename)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 500 * 1024  # KiB
