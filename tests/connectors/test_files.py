"""FilesConnector: one batch per file, in name order, with read options that re-read it identically."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import openpyxl
import pytest

from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLSX
from connectors.files import FilesConfig, FilesConnector
from connectors.formats import read_payload
from lienthong.errors import ExtractError, MalformedInput
from lienthong.vietnamese.legacy_encodings import encode_cp1258


def _connector(folder: Path, **options: object) -> FilesConnector:
    return FilesConnector(FilesConfig(path=str(folder), **options), source_id="hoi_phu_nu_files")


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_one_batch_per_file_in_name_order(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "c.ndjson").write_text('{"id": 3}\n', encoding="utf-8")
    (tmp_path / "a.csv").write_bytes(encode_cp1258("id;họ_tên\n1;Nguyễn Thị Hoà\n"))
    (tmp_path / "b.xlsx").write_bytes(_xlsx([["id", "sđt"], [2, "0912345678"]]))
    (tmp_path / "d.json").write_text(json.dumps({"data": [{"id": 4}]}), encoding="utf-8")
    (tmp_path / "e.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "sub").mkdir()

    with caplog.at_level(logging.WARNING):
        batches = list(_connector(tmp_path, records_path="data").extract(None))

    assert [Path(b.origin).name for b in batches] == ["a.csv", "b.xlsx", "c.ndjson", "d.json"]
    assert [b.media_type for b in batches] == [MEDIA_CSV, MEDIA_XLSX, MEDIA_NDJSON, MEDIA_JSON]
    assert [b.read_options for b in batches] == [
        {"encoding": "cp1258", "delimiter": ";"},
        {"sheet": "Sheet"},
        {"encoding": "utf-8"},
        {"encoding": "utf-8", "records_path": "data"},
    ]
    assert batches[0].records.to_pylist() == [{"id": "1", "họ_tên": "Nguyễn Thị Hoà"}]
    assert batches[1].records.to_pylist() == [{"id": "2", "sđt": "0912345678"}]
    assert all(b.cursor is None for b in batches)
    assert batches[0].payload == (tmp_path / "a.csv").read_bytes()  # raw bytes: identity by content hash
    assert "e.pdf" in caplog.text and "unknown file type" in caplog.text
    for batch in batches:
        assert read_payload(batch.payload, batch.media_type, batch.read_options).equals(batch.records)


def test_pattern_and_forced_options(tmp_path: Path) -> None:
    (tmp_path / "members.tsv").write_text("id\tname|x\n1\tAn|y\n", encoding="utf-8")
    (tmp_path / "pipes.txt").write_text("id|name\n1|An\n", encoding="utf-8")
    (tmp_path / "skip.csv").write_text("id\n1\n", encoding="utf-8")

    tsv = list(_connector(tmp_path, pattern="*.tsv").extract(None))
    pipes = list(_connector(tmp_path, pattern="*.txt", delimiter="|", encoding="latin-1").extract(None))

    assert tsv[0].read_options["delimiter"] == "\t"
    assert tsv[0].records.column_names == ["id", "name|x"]
    assert pipes[0].read_options == {"encoding": "latin-1", "delimiter": "|"}
    assert pipes[0].records.to_pylist() == [{"id": "1", "name": "An"}]


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match=r"hoi_phu_nu_files: folder .*nowhere does not exist") as err:
        list(_connector(tmp_path / "nowhere").extract(None))

    assert err.value.source_id == "hoi_phu_nu_files"
    assert "thư mục" in err.value.message_vi


def test_malformed_file_names_the_file_and_source(tmp_path: Path) -> None:
    (tmp_path / "broken.xlsx").write_bytes(b"this is not a workbook")

    with pytest.raises(MalformedInput, match="broken.xlsx: not a readable Excel") as err:
        list(_connector(tmp_path).extract(None))

    assert err.value.source_id == "hoi_phu_nu_files"
