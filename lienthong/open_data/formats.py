"""The files portals harvest: each open table as CSV (UTF-8 with BOM), JSON and Parquet, and a Frictionless
``datapackage.json`` describing them (schema, licence, sources) — the one file the CKAN API and the DCAT
catalogue are derived from, so the three never disagree.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lienthong.open_data.aggregates import DIMS, TOTAL, Computed
from lienthong.open_data.disclosure import Key

LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
           "path": "https://creativecommons.org/licenses/by/4.0/"}
PUBLISHER_VI = "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam"
PUBLISHER_EN = "Central Committee of the Vietnam Fatherland Front"
PACKAGE_NAME = "lienthong-open-data"
FORMATS = {"csv": "text/csv", "json": "application/json", "parquet": "application/vnd.apache.parquet"}

_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
_MEASURES = {  # column -> (type, title_vi, description)
    "resolved": ("integer", "Số đã giải quyết", "Feedback resolved / Số phản ánh đã giải quyết"),
    "resolution_rate": ("number", "Tỷ lệ đã giải quyết", "Share resolved, 0-1 / Tỷ lệ đã giải quyết, 0-1"),
    "median_days_to_resolve": ("number", "Số ngày giải quyết (trung vị)",
                               "Median days from receipt to resolution / Số ngày giải quyết trung vị"),
    "amount_vnd": ("integer", "Số tiền (đồng)", "Amount in VND / Số tiền, đồng"),
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    description: str


def table_fields(computed: Computed) -> list[Field]:
    """The columns of an open table: code and bilingual label per dimension, the measures, ``suppressed``."""
    spec = computed.table
    out = []
    for d in spec.dims:
        dim = DIMS[d]
        out += [Field(f"{d}_code", "string", f"Mã {dim.label_vi.lower()}",
                      f"{dim.label_en} code ('total' = all, 'unknown' = not recorded)"),
                Field(f"{d}_name", "string", dim.label_vi, f"{dim.label_en}, Vietnamese label"),
                Field(f"{d}_name_en", "string", f"{dim.label_vi} (tiếng Anh)", f"{dim.label_en}, English label")]
    out.append(Field(spec.count, "integer", "Số lượng", f"Number of {spec.count} / Số lượng"))
    extra = list(spec.sums) + (["resolved", "resolution_rate", "median_days_to_resolve"]
                               if spec.feedback_measures else [])
    out += [Field(m, *_MEASURES[m]) for m in extra]
    out.append(Field("suppressed", "boolean", "Ẩn để bảo vệ dữ liệu cá nhân",
                     "True when the cell is hidden by disclosure control (small or complementary suppression)"))
    return out


def table_rows(computed: Computed, published: Mapping[Key, int | None],
               label: Callable[[str, str], tuple[str, str]]) -> list[dict[str, Any]]:
    """One row per cell at every level; a suppressed cell keeps its labels and loses every number."""
    spec = computed.table
    rows = []
    for key, count in published.items():
        values = dict(key)
        row: dict[str, Any] = {}
        for d in spec.dims:
            code = values.get(d, TOTAL)
            row[f"{d}_code"] = code
            row[f"{d}_name"], row[f"{d}_name_en"] = label(d, code)
        row[spec.count] = count
        for name, value in computed.measures[key].items():
            row[name] = None if count is None else value
        row["suppressed"] = count is None
        rows.append(row)
    rows.sort(key=lambda r: tuple((r[f"{d}_code"] == TOTAL, r[f"{d}_code"]) for d in spec.dims))
    return rows


def write_table(folder: Path, name: str, fields: list[Field], rows: list[dict[str, Any]]) -> dict[str, Path]:
    """Write ``rows`` as ``<name>.csv`` (UTF-8 with BOM: Excel shows Vietnamese), ``.json`` and ``.parquet``."""
    names = [f.name for f in fields]
    paths = {fmt: folder / f"{name}.{fmt}" for fmt in FORMATS}
    with paths["csv"].open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(names)
        for r in rows:
            writer.writerow(["" if r[n] is None else ("true" if r[n] is True else "false" if r[n] is False
                                                      else r[n]) for n in names])
    paths["json"].write_text(json.dumps([{n: r[n] for n in names} for r in rows], ensure_ascii=False, indent=1),
                             encoding="utf-8")
    schema = pa.schema([pa.field(f.name, _ARROW[f.type], metadata={"description": f.description}) for f in fields])
    pq.write_table(pa.Table.from_pylist([{n: r[n] for n in names} for r in rows], schema=schema), paths["parquet"])
    return paths


def resource_entry(computed: Computed, fields: list[Field], paths: Mapping[str, Path], folder: Path,
                   rows: int, suppressed: int) -> dict[str, Any]:
    """The Frictionless resource of one table: the CSV with its schema; JSON and Parquet as ``x-alternates``.

    One resource per table, not three: Frictionless validates the CSV against the schema, and has no reader for
    Parquet (JSON needs an extra) — the alternates hold the same rows, written from the same list.
    """
    spec = computed.table
    schema = {"fields": [{"name": f.name, "type": f.type, "title": f.title, "description": f.description}
                         for f in fields],
              "primaryKey": [f"{d}_code" for d in spec.dims], "missingValues": [""]}

    def file(fmt: str) -> dict[str, Any]:
        path = paths[fmt]
        return {"path": path.relative_to(folder).as_posix(), "format": fmt, "mediatype": FORMATS[fmt],
                "bytes": path.stat().st_size, "hash": "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()}

    return {"name": spec.name.replace("_", "-"), "profile": "tabular-data-resource", **file("csv"),
            "encoding": "utf-8-sig", "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
            "title": f"{spec.title_vi} / {spec.title_en}",
            "description": f"{spec.description_vi}\n\n{spec.description_en}", "schema": schema,
            "x-alternates": [file(fmt) for fmt in FORMATS if fmt != "csv"],
            "x-lienthong": {"table": spec.name, "dataset": spec.dataset, "title_vi": spec.title_vi,
                            "title_en": spec.title_en, "description_vi": spec.description_vi,
                            "description_en": spec.description_en, "dimensions": list(spec.dims), "rows": rows,
                            "suppressed_cells": suppressed}}


def write_datapackage(folder: Path, resources: list[dict[str, Any]], *, threshold: int, sources: list[dict],
                      charts: Mapping[Path, str]) -> Path:
    """Write ``datapackage.json``; charts (file -> digest of the figures drawn) are non-tabular resources."""
    for chart, figures in charts.items():
        fmt = chart.suffix.lstrip(".")
        resources.append({"name": chart.stem.replace("_", "-") + f"-{fmt}", "path": chart.name, "format": fmt,
                          "mediatype": "image/png" if fmt == "png" else "image/svg+xml",
                          "bytes": chart.stat().st_size, "title": chart.stem.replace("_", " "),
                          "x-figures-sha256": figures})
    package = {
        "profile": "data-package",  # Parquet and charts are not tabular-data-resources
        "name": PACKAGE_NAME,
        "title": "Dữ liệu mở Liên Thông / Liên Thông open data",
        "description": ("Số liệu tổng hợp về hội viên, phản ánh kiến nghị và cứu trợ của Mặt trận Tổ quốc Việt Nam "
                        f"và các tổ chức thành viên; ô dưới {threshold} được ẩn.\n\nAggregate figures on members, "
                        "citizen feedback and relief of the Vietnam Fatherland Front and its member organisations; "
                        f"cells under {threshold} are suppressed, with complementary suppression."),
        "version": datetime.now(UTC).strftime("%Y.%m.%d"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "licenses": [LICENSE],
        "sources": sources,
        "contributors": [{"title": PUBLISHER_VI, "role": "publisher"}],
        "keywords": ["Mặt trận Tổ quốc", "Vietnam Fatherland Front", "dữ liệu mở", "open data", "3 công khai"],
        "x-lienthong": {"small_cell_threshold": threshold, "publisher_en": PUBLISHER_EN},
        "resources": resources,
    }
    path = folder / "datapackage.json"
    path.write_text(json.dumps(package, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
