"""`lienthong check` is the pipeline: the rows it reports are the rows a sync of the same file quarantines, with
the same reasons and the same row numbers — on the demo's files and on damaged ones."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import openpyxl
import yaml

from connectors.formats import file_row
from lienthong.demo.environment import prepare_demo
from lienthong.file_check import check_file
from lienthong.pipeline import sync_source
from lienthong.registry import load_source
from lienthong.settings import PROJECT_ROOT
from lienthong.warehouse.queries import batches, quarantined
from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import HEADER, HubFactory, file_source


def _hnd_source(folder: Path) -> dict:
    """sources/hnd_files.yml, reading ``folder``."""
    source = load_source(PROJECT_ROOT / "sources" / "hnd_files.yml", variables={}).model_dump(mode="json")
    source["connector"] = {"type": "files", "path": str(folder), "pattern": "*"}
    return source


def _synced(make_hub: HubFactory, source: dict) -> dict[str, set[tuple[int, frozenset[str]]]]:
    """File name -> {(row as the file shows it, reason codes)} of what a sync on SQLite quarantined."""
    hub = make_hub([source])
    run = sync_source(hub, hub.sources[source["id"]])
    assert not run.problems, run.problems
    out: dict[str, set[tuple[int, frozenset[str]]]] = {}
    for b in batches(hub.engine, source_id=source["id"]):
        out[Path(b["origin"]).name] = {
            (file_row(q["row_no"], b["media_type"], b["read_options"]), frozenset(r["rule"] for r in q["reasons"]))
            for q in quarantined(hub.engine, batch_id=b["batch_id"])
        }
    hub.engine.dispose()
    return out


def _checked(path: Path, source: dict | None = None) -> set[tuple[int, frozenset[str]]]:
    from lienthong.registry import SourceConfig

    result = check_file(path, SourceConfig.model_validate(source) if source else None)
    return {(f["row"], frozenset(r["rule"] for r in f["reasons"])) for f in result.to_json()["failing"]}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={**os.environ, "COLUMNS": "200", **(env or {})})  # main(), in this process


def test_check_reports_what_a_sync_quarantines_on_the_demo_files(make_hub: HubFactory, tmp_path: Path) -> None:
    demo = prepare_demo(tmp_path / "demo")
    folder = demo.hnd_files[0].parent
    source = _hnd_source(folder)
    synced = _synced(make_hub, source)
    for path in demo.hnd_files:
        checked = _checked(path, source)
        assert checked == synced[path.name]
        assert _checked(path) == checked  # without --source: the usual labels find the same columns
    assert sorted(len(v) for v in synced.values()) == [15, 28]  # what `check` used to miss (27 and 10)


def _damaged_csv(folder: Path) -> Path:
    """An empty row, an empty name, a blank line, a value with a line break, a duplicate id, a garbage row."""
    rows = [
        "HV001;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 1;"
        "01/01/2010;active",
        ";;;;;;;;;;;;",  # an empty row (row 3)
        "HV002;;Nữ;15/07/1990;079190123456;0983123456;Kinh;Không;00070;;Chi hội 1;;active",  # no name (row 4)
        "",  # a blank line: row 5 in a spreadsheet program, skipped by the reader
        'HV003;Lê Thị Mai;Nữ;1992-12-31;;0377123456;Kinh;Không;00004;"Số 2\nngõ 3";Chi hội 2;;active',  # row 6
        "@@@;#####;???;99/99/9999;abc;xyz;???;???;zzz;;;;",  # garbage (row 7)
        "HV001;Trần Thị Lan;Nữ;01/02/1986;001186012345;0912345679;Kinh;Không;00070;;Chi hội 1;;active",  # dup
    ]
    path = folder / "damaged.csv"
    path.write_text("\ufeff" + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _damaged_xlsx(folder: Path) -> Path:
    """Header on row 3 under two empty rows, a blank row between records, an empty name."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])
    ws.append([])
    ws.append(HEADER.split(";"))
    ws.append(["HV010", "Nguyễn Thị Hoà", "Nữ", "01/02/1985", "001185012345", "0912345678", "Kinh", "Không",
               "00070", None, "Chi hội 1", None, "active"])
    ws.append([])
    ws.append(["HV011", None, "Nữ", "01/02/1985", None, None, "Kinh", "Không", "00070", None, None, None, "active"])
    ws.append(["HV012", "Lê Thị Mai", "Nữ", "31/02/1990", None, None, "Kinhh", None, "99999", None, None, None,
               "active"])
    buf = io.BytesIO()
    wb.save(buf)
    path = folder / "damaged.xlsx"
    path.write_bytes(buf.getvalue())
    return path


def test_check_reports_what_a_sync_quarantines_on_damaged_files(make_hub: HubFactory, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    csv_path, xlsx_path = _damaged_csv(folder), _damaged_xlsx(folder)
    source = file_source(folder, connector={"type": "files", "path": str(folder), "pattern": "*"})
    synced = _synced(make_hub, source)
    checked_csv = _checked(csv_path, source)
    assert checked_csv == synced["damaged.csv"]
    assert {row for row, _ in checked_csv} == {3, 4, 7, 8}  # empty row, no name, garbage, duplicate id
    assert _checked(xlsx_path, source) == synced["damaged.xlsx"]
    assert {row for row, _ in synced["damaged.xlsx"]} == {6, 7}  # as Excel numbers them: header on row 3


def test_check_without_a_source_refuses_an_empty_row_and_an_empty_name(tmp_path: Path) -> None:
    """The usual labels: what `check` used to pass ("✓ all rows pass") is refused, as the upload refuses it."""
    path = tmp_path / "list.csv"
    path.write_text("Họ và tên;Ngày sinh;Ghi chú\nNguyễn Thị Hoà;01/02/1985;\n;;\n;01/02/1990;ghi chú\n",
                    encoding="utf-8")
    failing = check_file(path).to_json()["failing"]
    assert [f["row"] for f in failing] == [3, 4]
    assert all(any(r["column"] == "full_name" for r in f["reasons"]) for f in failing)
    assert failing[1]["column"] == "Họ và tên"


def test_check_json_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    path = _damaged_csv(folder)
    sources = tmp_path / "sources"
    sources.mkdir()
    # a source that checks identities: `check` does not call the population database (nothing listens there)
    verify = {"purpose": "Đối chiếu thông tin hội viên (thử nghiệm)", "url": "http://127.0.0.1:9/verify",
              "token": {"url": "http://127.0.0.1:9/token", "app_name": "T", "access_key_env": "NOPE_KEY",
                        "secret_key_env": "NOPE_SECRET"}}
    source = file_source(folder, "hnd_files", connector={"type": "files", "path": str(folder), "pattern": "*"},
                         verify=verify)
    (sources / "hnd_files.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    done = _cli("check", str(path), "--source", "hnd_files", "--json",
                env={"LIENTHONG_SOURCES_DIR": str(sources), "LIENTHONG_HOME": str(tmp_path / "home")})
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == 6
    assert [f["row"] for f in report["failing"]] == [3, 4, 7, 8]
    assert {"row", "column", "reasons"} == set(report["failing"][0])
    assert report["failing"][3]["reasons"][0]["rule"] == "duplicate_key"
    assert "calls no outside service" in report["verification"]

    table = _cli("check", str(path), "--source", "hnd_files",
                 env={"LIENTHONG_SOURCES_DIR": str(sources), "LIENTHONG_HOME": str(tmp_path / "home")})
    assert table.returncode == 1 and "4 / 6 dòng có lỗi" in table.stdout
    assert "không gọi dịch vụ bên ngoài" in " ".join(table.stdout.split())
    unknown = _cli("check", str(path), "--source", "nope", env={"LIENTHONG_SOURCES_DIR": str(sources)})
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr and "hnd_files" in unknown.stderr


def test_normalize_counts_the_rows_check_refuses(tmp_path: Path) -> None:
    path = _damaged_csv(tmp_path)
    done = _cli("normalize", str(path), "--out", str(tmp_path / "out.csv"))
    assert done.returncode == 0, done.stderr
    assert "4 dòng sẽ bị giữ lại khi nạp" in done.stdout
    assert "Dân tộc không có trong danh mục 54 dân tộc" in done.stdout  # ethnicity_unmapped, in words
