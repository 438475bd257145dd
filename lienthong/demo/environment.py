"""The demo's member organisations, written to a folder as their systems would hand the data over.

Why: the hub is shown (and tested end to end) against sources that behave like the real ones — a
spreadsheet drop with Vietnamese headers, a SQL registry with its own column names, a paged REST API, a CSV
export and a JSON export — without any real personal data. :func:`prepare_demo` writes them all from one seed,
byte for byte the same each time, together with the ground truth the stages are measured against.

What lands where (``folder`` is ``${LIENTHONG_HOME}/demo``):

- ``drop/hnd/``: the Farmers' Union (HND) hands in one XLSX and one CSV (UTF-8 with BOM, ``;``) of members;
- ``dtn.sqlite``: the Youth Union (DTN) registry, table ``doan_vien``;
- the Women's Union (HLHPN) records, returned in :attr:`DemoEnvironment.api_records` for the simulated API;
- ``drop/feedback/phan_anh_<yyyymmdd>.csv``: feedback received by the Front's 24/7 channels;
- ``drop/relief/cuu_tro.json``: relief donations and support, ``{"data": [...]}``;
- ``truth/``: per source, which row is broken how and which rows are the same person; ``people.csv`` the clean
  attributes of every person behind a record.

The three member sources draw from one population, so some people belong to two organisations (a few per
cent), as in life; ``person_id`` in ``truth/*.csv`` links them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from lienthong.demo.generator import (
    AS_OF,
    generate_feedback,
    generate_members,
    generate_people,
    generate_relief,
)
from lienthong.demo.vocabulary import ETHNIC_NAMES

# Contract field -> column name, per source. The source registry (sources/*.yml) maps the same names.
HND_HEADERS = {
    "member_id": "Mã hội viên", "full_name": "Họ và tên", "sex": "Giới tính", "date_of_birth": "Ngày sinh",
    "id_number": "Số CCCD", "phone": "Số điện thoại", "ethnicity_code": "Dân tộc",
    "religion_code": "Tôn giáo", "ward_code": "Mã xã/phường", "address": "Địa chỉ", "branch": "Chi hội",
    "joined_on": "Ngày vào hội", "status": "Trạng thái",
}
HND_NOTE = "Ghi chú"  # free text the source ignores
DTN_COLUMNS = {
    "member_id": "ma_doan_vien", "full_name": "ho_ten", "sex": "gioi_tinh", "date_of_birth": "ngay_sinh",
    "id_number": "so_cccd", "phone": "so_dien_thoai", "ethnicity_code": "dan_toc",
    "religion_code": "ton_giao", "ward_code": "ma_xa", "address": "dia_chi", "branch": "chi_doan",
    "joined_on": "ngay_vao_doan", "status": "trang_thai",
}
DTN_WATERMARK = "cap_nhat_luc"
HLHPN_KEYS = {
    "member_id": "ma_hoi_vien", "full_name": "ho_ten", "sex": "gioi_tinh", "date_of_birth": "ngay_sinh",
    "id_number": "cccd", "phone": "dien_thoai", "ethnicity_code": "dan_toc", "religion_code": "ton_giao",
    "ward_code": "ma_phuong_xa", "address": "dia_chi", "branch": "chi_hoi", "joined_on": "ngay_vao_hoi",
    "status": "trang_thai",
}
HLHPN_UPDATED = "updated_at"
FEEDBACK_HEADERS = {
    "feedback_id": "Mã phản ánh", "received_at": "Thời gian tiếp nhận", "channel": "Kênh tiếp nhận",
    "category": "Lĩnh vực", "ward_code": "Mã xã/phường", "status": "Tình trạng xử lý",
    "resolved_at": "Thời gian giải quyết", "satisfaction": "Mức độ hài lòng",
}
FEEDBACK_SUMMARY = "Nội dung tóm tắt"
RELIEF_KEYS = {
    "record_id": "ma_giao_dich", "campaign": "dot_van_dong", "role": "loai",
    "party_name": "ten_ca_nhan_don_vi", "id_number": "so_cccd", "organisation": "to_chuc",
    "ward_code": "ma_xa", "amount_vnd": "so_tien", "transaction_date": "ngay_giao_dich",
}
RELIEF_NOTE = "ghi_chu"

# Rows per source at scale 1, and the size of the population they draw from.
SIZES = {"hlhpn_api": 2000, "hnd_files": 1500, "dtn_db": 1500, "feedback_247": 800, "relief_campaigns": 600}
POPULATION = 60_000
_HND_XLSX_SHARE = 0.6
_NOTES = ["Hộ nghèo", "Đã cấp thẻ hội viên", "Chuyển đến từ xã khác", "Cần xác minh lại", "Hộ cận nghèo"]


@dataclass(frozen=True)
class DemoEnvironment:
    """Where :func:`prepare_demo` put everything, and how many rows each source has."""

    folder: Path
    hnd_files: tuple[Path, ...]
    dtn_database: Path
    api_records: list[dict[str, str | None]]
    feedback_file: Path
    relief_file: Path
    truth_files: dict[str, Path]
    counts: dict[str, int]  # rows per source id (sources/*.yml)


def prepare_demo(folder: Path, *, seed: int = 7, scale: int = 1, as_of: date = AS_OF) -> DemoEnvironment:
    """Write the demo sources and their ground truth under ``folder``; the same seed writes the same bytes.

    Args:
        folder: the demo folder, ``${LIENTHONG_HOME}/demo`` for the registry in ``sources/``.
        seed: seed of all the data.
        scale: multiplies every source's row count (1 = a few thousand rows in all).
        as_of: the data's "today".

    Returns:
        Paths, the HLHPN API records and the row count of each source.

    Raises:
        ValueError: ``scale`` is below 1.
    """
    if scale < 1:
        msg = f"scale must be at least 1, got {scale}"
        raise ValueError(msg)
    folder = Path(folder)
    sizes = {name: rows * scale for name, rows in SIZES.items()}
    people = generate_people(POPULATION * scale, seed=seed, as_of=as_of)
    hlhpn = generate_members(sizes["hlhpn_api"], seed=seed + 1, organisation="HLHPN", id_prefix="HV",
                             people=people, as_of=as_of)
    hnd = generate_members(sizes["hnd_files"], seed=seed + 2, organisation="HND", id_prefix="ND",
                           people=people, as_of=as_of)
    dtn = generate_members(sizes["dtn_db"], seed=seed + 3, organisation="DTN", id_prefix="DV",
                           people=people, as_of=as_of)
    feedback = generate_feedback(sizes["feedback_247"], seed=seed + 4, as_of=as_of)
    relief = generate_relief(sizes["relief_campaigns"], seed=seed + 5, people=people, as_of=as_of)

    hnd_files = _write_hnd(folder / "drop" / "hnd", hnd.records, seed=seed, as_of=as_of)
    dtn_database = _write_dtn(folder / "dtn.sqlite", dtn.records)
    feedback_file = folder / "drop" / "feedback" / f"phan_anh_{as_of:%Y%m%d}.csv"
    _write_csv(feedback_file, _renamed(feedback.records, {**FEEDBACK_HEADERS, "summary": FEEDBACK_SUMMARY}),
               delimiter=",", encoding="utf-8")
    relief_file = folder / "drop" / "relief" / "cuu_tro.json"
    _write_json(relief_file, _renamed(relief.records, {**RELIEF_KEYS, "note": RELIEF_NOTE}))
    api_records = _renamed(hlhpn.records, {**HLHPN_KEYS, HLHPN_UPDATED: HLHPN_UPDATED}).to_pylist()

    truth = folder / "truth"
    hnd_truth = hnd.truth.append_column("file", pa.array(
        [p.name for p, k in zip(hnd_files, _hnd_split(len(hnd.truth)), strict=True) for _ in range(k)]))
    truth_tables = {
        "hlhpn_api": hlhpn.truth, "hnd_files": hnd_truth, "dtn_db": dtn.truth,
        "feedback_247": feedback.truth, "relief_campaigns": relief.truth,
    }
    truth_files = {}
    for name, table in truth_tables.items():
        truth_files[name] = truth / f"{name}.csv"
        _write_csv(truth_files[name], table, delimiter=",", encoding="utf-8")
    truth_files["people"] = truth / "people.csv"
    _write_csv(truth_files["people"], _people_behind(people, list(truth_tables.values())), delimiter=",",
               encoding="utf-8")
    return DemoEnvironment(
        folder=folder, hnd_files=hnd_files, dtn_database=dtn_database, api_records=api_records,
        feedback_file=feedback_file, relief_file=relief_file, truth_files=truth_files, counts=sizes,
    )


def _renamed(table: pa.Table, names: dict[str, str]) -> pa.Table:
    return table.select(list(names)).rename_columns(list(names.values()))


def _hnd_split(n: int) -> tuple[int, int]:
    first = round(n * _HND_XLSX_SHARE)
    return first, n - first


def _write_hnd(folder: Path, records: pa.Table, *, seed: int, as_of: date) -> tuple[Path, ...]:
    """One XLSX and one CSV, as two branches of the Farmers' Union would send them (ethnic group by name)."""
    rng = np.random.default_rng([5, seed])
    n = records.num_rows
    codes = [f"{c:02d}" for c in ETHNIC_NAMES]
    label = pa.array(list(ETHNIC_NAMES.values())).take(pc.index_in(records.column("ethnicity_code"),
                                                                   value_set=pa.array(codes)))
    notes = pa.array([None, *_NOTES], type=pa.string()).take(
        pa.array(np.where(rng.random(n) < 0.1, rng.integers(1, len(_NOTES) + 1, n), 0)))
    table = _renamed(records.set_column(records.schema.get_field_index("ethnicity_code"), "ethnicity_code",
                                        pc.coalesce(label, records.column("ethnicity_code"))), HND_HEADERS)
    table = table.append_column(HND_NOTE, notes)
    first, _ = _hnd_split(n)
    xlsx = folder / f"danh_sach_hoi_vien_{as_of:%Y%m}_chi_hoi_1.xlsx"
    csv_path = folder / f"danh_sach_hoi_vien_{as_of:%Y%m}_chi_hoi_2.csv"
    _write_xlsx(xlsx, table.slice(0, first), as_of=as_of)
    _write_csv(csv_path, table.slice(first), delimiter=";", encoding="utf-8-sig")
    return xlsx, csv_path


def _write_xlsx(path: Path, table: pa.Table, *, as_of: date) -> None:
    """An XLSX of text cells; zip entry times and document dates are fixed so the bytes are reproducible."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách hội viên"
    sheet.append(table.column_names)
    for row in table.to_pylist():
        sheet.append(list(row.values()))
    for i, name in enumerate(table.column_names, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(12, len(name) + 4)
        for cell in sheet[get_column_letter(i)][1:]:
            cell.number_format = "@"  # text, so Excel keeps leading zeros of phones, ids and codes
    sheet.freeze_panes = "A2"
    stamp = datetime(as_of.year, as_of.month, as_of.day)
    workbook.properties.creator = "Hội Nông dân"
    workbook.properties.created = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_reproducible_zip(buffer.getvalue(), stamp))


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _reproducible_zip(data: bytes, stamp: datetime) -> bytes:
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the current time
                body = _MODIFIED.sub(rb"\g<1>" + iso + rb"\g<2>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, body)
    return out.getvalue()


def _write_csv(path: Path, table: pa.Table, *, delimiter: str, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(table.column_names)
        columns = [c.to_pylist() for c in table.columns]
        writer.writerows(zip(*columns, strict=True))


def _write_json(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"data": table.to_pylist()}, ensure_ascii=False, indent=1)
    path.write_text(text + "\n", encoding="utf-8")


def _write_dtn(path: Path, records: pa.Table) -> Path:
    """The Youth Union registry: own column names, ISO dates as SQL systems keep them, a change time."""
    table = _renamed(records, DTN_COLUMNS)
    for column in ("ngay_sinh", "ngay_vao_doan"):
        iso = pc.replace_substring_regex(table.column(column), r"^(\d{2})/(\d{2})/(\d{4})$", r"\3-\2-\1")
        table = table.set_column(table.schema.get_field_index(column), column, iso)
    changed = pc.replace_substring_regex(records.column("updated_at"), r"^(.{10})T(.{8}).*$", r"\1 \2")
    table = table.append_column(DTN_WATERMARK, changed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    columns = ", ".join(f"{c} TEXT" + (" PRIMARY KEY" if c == DTN_COLUMNS["member_id"] else "")
                        for c in table.column_names)
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE doan_vien ({columns})")
        db.execute(f"CREATE INDEX doan_vien_{DTN_WATERMARK} ON doan_vien ({DTN_WATERMARK})")
        marks = ", ".join("?" for _ in table.column_names)
        db.executemany(f"INSERT INTO doan_vien VALUES ({marks})",
                       zip(*[c.to_pylist() for c in table.columns], strict=True))
    db.close()
    return path


def _people_behind(people: pa.Table, truths: list[pa.Table]) -> pa.Table:
    """The people behind any record of the truth tables, with their clean attributes (dates ISO)."""
    ids = [t.column("person_id").combine_chunks() for t in truths if "person_id" in t.column_names]
    used = pc.unique(pa.concat_arrays(ids).drop_null())
    rows = people.filter(pc.is_in(people.column("person_id"), value_set=used))
    return rows.set_column(rows.schema.get_field_index("date_of_birth"), "date_of_birth",
                           pc.cast(rows.column("date_of_birth"), pa.string()))
