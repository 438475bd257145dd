"""`lienthong check` and `lienthong normalize`: a file put through the pipeline's own stages, nothing written.

A file is read as the files connector reads it (:func:`connectors.formats.read_feed`, the source's read options),
its columns are checked as a sync checks them (:func:`lienthong.stages.map.check_columns`) and its rows go through
:func:`lienthong.stages.process.check_records` — map, clean, validate, duplicate keys — the very function that
decides what a load quarantines. So the rows ``check`` reports are, by construction, the rows loading the file
would quarantine, with the same reasons and the same row numbers (:func:`connectors.formats.file_row`).

Without a source, the file is checked against a files source built from its headers: each contract field (or
part of one: the "Nam | Nữ" columns of a date of birth, the levels of an address) is found by name or by one of
the usual Vietnamese labels (:func:`lienthong.vietnamese.header_labels.match_headers`, the one matching of every
door); the columns taken by anything but an exact label are reported as guessed, and ``--mapping`` overrides them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog import load_code_lists
from catalog.model import CodeList
from connectors.base import MEDIA_CSV, MEDIA_JSON, MEDIA_NDJSON, MEDIA_XLS, MEDIA_XLSX, Batch
from connectors.files import MEDIA_BY_SUFFIX, FilesConfig, media_type_of, read_limited
from connectors.formats import file_row, file_sheet, header_summary, read_feed, shown_row
from connectors.limits import DEFAULT_LIMITS
from lienthong.errors import MalformedInput
from lienthong.registry import SourceConfig
from lienthong.stages.map import check_columns
from lienthong.stages.process import Checked, check_records
from lienthong.vietnamese.header_labels import COLUMN_PARTS, ColumnMatch, match_headers

CHECK_SOURCE_ID = "tep_kiem_tra"  # the source a file is checked against when none is named
ROW_ID_COLUMN = "(số dòng)"  # a file without member ids: each row is told apart by its row number


@dataclass(frozen=True)
class FailingRow:
    """A row loading the file would quarantine: its row as the file shows it, and every reason."""

    row: int
    column: str | None  # the file's column of the first reason (None: the row as a whole, e.g. a duplicate)
    reasons: list[dict[str, Any]]  # as quarantined: rule, column, value (masked if personal), message_vi/en
    sheet: str | None = None  # the row's sheet, when the workbook was read from several

    @property
    def label(self) -> str:
        """``"14"``, or ``"Chi đoàn thôn 2, dòng 14"``."""
        return str(shown_row(self.sheet, self.row))


@dataclass(frozen=True)
class FileCheck:
    """What loading ``batch`` through ``source`` would do, computed without writing anything."""

    source: SourceConfig
    batch: Batch
    checked: Checked
    guessed: dict[str, str] = field(default_factory=dict)  # field -> column taken by a guess, not an exact label

    @property
    def rows(self) -> int:
        return self.batch.records.num_rows

    def row_of(self, row_no: int) -> int:
        """The file's row number of record ``row_no`` (in its sheet)."""
        return file_row(row_no, self.batch.media_type, self.batch.read_options)

    @property
    def header(self) -> str | None:
        """Which row was taken as the header, for the clerk (``"Dòng tiêu đề: dòng 5 (trang '…')"``)."""
        return header_summary(self.batch.read_options, self.batch.media_type)

    @property
    def failing(self) -> list[FailingRow]:
        columns, batch = self.source.mapping, self.batch
        return [FailingRow(self.row_of(q.row_no), _column_of(q.reasons, columns), q.reasons,
                           file_sheet(q.row_no, batch.media_type, batch.read_options))
                for q in self.checked.rejected]

    def to_json(self) -> dict[str, Any]:
        """``{"rows": N, "header": ..., "failing": [{"row": R, "column": ..., "reasons": [...]}], "guessed": {field:
        column}}`` for ``check --json``; a row of a workbook read from several sheets also has ``"sheet"``."""
        return {"rows": self.rows, "header": self.header, "failing": [
            {"row": f.row, **({"sheet": f.sheet} if f.sheet else {}), "column": f.column, "reasons": f.reasons}
            for f in self.failing], "guessed": self.guessed}


def read_file(path: Path, source: SourceConfig | None = None) -> Batch:
    """``path`` as the files connector of ``source`` reads it (its sheet, encoding, delimiter, records path).

    Raises:
        MalformedInput: no such file, a folder, an unknown suffix, or a file that cannot be read or cannot be a
            feed (empty, header only, duplicate columns); LimitExceeded (a MalformedInput): beyond the limits.
    """
    if path.is_dir():
        msg = f"{path} is a folder, not a file; name one file of it"
        raise MalformedInput(msg, message_vi=f"{path} là một thư mục, không phải tệp; hãy chỉ ra một tệp trong đó")
    media = media_type_of(path)
    if media is None:
        msg = f"{path}: unknown file type {path.suffix!r}; use one of {', '.join(MEDIA_BY_SUFFIX)}"
        msg_vi = f"{path}: không đọc được loại tệp {path.suffix!r}; hãy dùng {', '.join(MEDIA_BY_SUFFIX)}"
        raise MalformedInput(msg, message_vi=msg_vi)
    try:
        payload = read_limited(path, DEFAULT_LIMITS)
    except FileNotFoundError as exc:
        msg = f"{path}: no such file; check the path"
        raise MalformedInput(msg, message_vi=f"{path}: không có tệp này; hãy kiểm tra đường dẫn") from exc
    except OSError as exc:
        msg = f"{path}: cannot read the file ({exc.strerror or exc}); check the path and its permissions"
        raise MalformedInput(msg, message_vi=f"{path}: không mở được tệp; hãy kiểm tra đường dẫn") from exc
    records, options = read_feed(payload, media, _read_options(path, media, source), origin=str(path))
    return Batch(payload, media, str(path), records, read_options=options)


def source_for(columns: list[str], mapping: Mapping[str, str | None] | None = None) -> SourceConfig:
    """A files source of members whose mapping is the usual labels found among ``columns``, ``mapping`` winning
    field by field; the file's other columns are ignored (a clerk's own notes do not fail a check).

    Raises:
        MalformedInput: a column of ``mapping`` is not in the file, or no column for a required field.
    """
    return source_of(columns, match_headers(columns, mapping))


def source_of(columns: list[str], found: ColumnMatch) -> SourceConfig:
    """The files source of :func:`source_for`, from the columns ``found`` (raises as it does)."""
    if "full_name" not in found.fields:
        msg = "no column for the full name (e.g. 'Họ và tên'); pass --mapping to say which column it is"
        raise MalformedInput(msg, message_vi="Không tìm thấy cột Họ và tên. Hãy dùng --mapping để chỉ rõ cột.")
    used = set(found.fields.values())
    return SourceConfig(
        id=CHECK_SOURCE_ID, title="Tệp kiểm tra", organisation="MTTQ", dataset="members",
        connector={"type": "files", "path": "."}, mapping={"member_id": ROW_ID_COLUMN, **found.fields},
        constants={"organisation": "MTTQ"}, ignore_columns=[c for c in columns if c not in used],
    )


def guess_lines(guessed: Mapping[str, str]) -> list[str]:
    """What ``check`` and ``normalize`` print about guessed columns, Vietnamese first."""
    if not guessed:
        return []
    lines = [f"Đoán cột: '{column}' → {name}" for name, column in guessed.items()]
    lines.append("Nếu đoán sai, hãy dùng --mapping (tệp YAML: trường: tên cột), hoặc mapping: trong cấu hình "
                 "nguồn / columns guessed, not exact labels: --mapping (or the source YAML's mapping:) overrides")
    return lines


def check_file(
    path: Path, source: SourceConfig | None = None, *, mapping: Mapping[str, str] | None = None,
    code_lists: Mapping[str, CodeList] | None = None,
) -> FileCheck:
    """What loading ``path`` through ``source`` (default: :func:`source_for` its headers) would quarantine.

    Args:
        path: the file.
        source: the registered source the file is meant for.
        mapping: without a source, contract field -> column of the file, overriding the usual labels field by
            field (a field mapped to nothing is not read).
        code_lists: the lists to check codes against (default: the packaged ones, as ``lienthong init`` stores).

    Raises:
        MalformedInput: the file cannot be read, cannot be a feed, or its columns are not the source's.
    """
    batch = read_file(path, source)
    guessed: dict[str, str] = {}
    if source is None:
        found = match_headers(batch.records.column_names, mapping)
        source, guessed = source_of(batch.records.column_names, found), found.guessed
        batch = replace(batch, records=with_row_ids(batch.records, source))
    check_columns(batch.records, source, batch.origin)
    checked = check_records(batch.records, source, code_lists or load_code_lists())
    return FileCheck(source, batch, checked, guessed)


def _read_options(path: Path, media: str, source: SourceConfig | None) -> dict[str, Any]:
    """The read options the source's files connector fixes (as ``FilesConnector`` does); the rest is detected."""
    cfg = source.connector if source is not None and isinstance(source.connector, FilesConfig) else None
    delimiter = (cfg.delimiter if cfg else None) or ("\t" if path.suffix.lower() == ".tsv" else None)
    options = {
        MEDIA_CSV: {"encoding": cfg and cfg.encoding, "delimiter": delimiter},
        MEDIA_XLSX: {"sheet": cfg and cfg.sheet},
        MEDIA_XLS: {"sheet": cfg and cfg.sheet},
        MEDIA_JSON: {"encoding": cfg and cfg.encoding, "records_path": cfg and cfg.records_path},
        MEDIA_NDJSON: {"encoding": cfg and cfg.encoding},
    }[media]
    return {key: value for key, value in options.items() if value}


def _column_of(reasons: list[dict[str, Any]], mapping: Mapping[str, str]) -> str | None:
    """The file's column of the first reason: the field's own, or the columns of the parts it was made of."""
    for reason in reasons:
        column = reason.get("column") or ""
        if column in mapping:
            return mapping[column]
        parts = [mapping[part] for part, fed in COLUMN_PARTS.items() if column in fed and part in mapping]
        if parts:
            return " | ".join(parts)
    return None


def with_row_ids(records: pa.Table, source: SourceConfig) -> pa.Table:
    """``records`` with the row numbers that stand for member ids when the file has none (:func:`source_for`):
    rows are then told apart by their position, never all alike."""
    if source.mapping.get("member_id") != ROW_ID_COLUMN or ROW_ID_COLUMN in records.column_names:
        return records
    return records.append_column(ROW_ID_COLUMN, pc.cast(pa.array(np.arange(1, records.num_rows + 1)), pa.string()))
