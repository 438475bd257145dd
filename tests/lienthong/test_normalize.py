"""`normalize` on corrupted member files: how much of the truth each field gets back, and the CLI around it.

The figures are the ones `lienthong bench` writes to docs/BENCHMARKS.md; the floors asserted are what the rules
achieve today, so a regression fails (the issue's targets are noted beside them where they are not reached yet).
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from lienthong.demo.corrupt import NORMALIZE_HEADERS, corrupt_members, measure_accuracy
from lienthong.vietnamese.legacy_encodings import encode_tcvn3
from tests.lienthong.cli.in_process import run_cli


@pytest.mark.slow
@pytest.mark.bench
def test_field_accuracy_on_20000_corrupted_records():
    accuracy = measure_accuracy(20_000, seed=5)
    for name, value in accuracy.fields.items():
        print(f"{name}: {value:.2%}")
    assert accuracy.encodings_detected == 1.0, "every file's text columns detected in their encoding"
    assert accuracy.split_flagged == 1.0 and accuracy.split_guessed == 0, "every split ward flagged, none guessed"
    f = accuracy.fields
    assert min(f["sex"], f["date_of_birth"], f["id_number"], f["phone"]) >= 0.995
    assert f["ward_code (legacy form, not split)"] >= 0.97
    assert f["ward_code (2025 form)"] >= 0.99
    # Target 99.5%, not reached: a reversed name whose given name is also a middle name (Anh, Minh…) and whose
    # family name is not one of the 16 commonest stays reversed. Measured 97.96% at seed 5.
    assert f["full_name"] >= 0.975


def test_normalize_and_check_from_the_command_line(tmp_path):
    records = corrupt_members(200, seed=3)[1].records  # the TCVN3 file
    headers = [encode_tcvn3(h) for h in NORMALIZE_HEADERS]
    source = tmp_path / "danh_sach.csv"
    buf = pa.BufferOutputStream()
    pacsv.write_csv(records.rename_columns(headers), buf)
    source.write_bytes(buf.getvalue().to_pybytes().decode("utf-8").encode("cp1252"))  # as an old Excel saves it
    out = tmp_path / "sach.csv"

    run = run_cli("normalize", str(source), "--out", str(out))  # the command's main(), in this process
    assert run.returncode == 0, run.stderr
    assert "tcvn3" in run.stdout
    written = pacsv.read_csv(out)
    assert written.column_names[: len(headers)] == headers, "every input column kept, unchanged"
    assert {"full_name", "family_name", "given_name", "date_of_birth", "ward_code", "issues"} <= set(
        written.column_names)
    assert "Nguyễn" in " ".join(written.column("full_name").to_pylist())

    bad = tmp_path / "bad.csv"
    bad.write_text("Họ và tên,Ngày sinh,Số CCCD,Dân tộc\nNguyễn Văn An,31/02/1990,001085012345,Kinh\n"
                   "Lê Thị Hoa,01/02/1990,12,Kinhh\nLê Thị Lan,01/02/2090,,Kinh\n", encoding="utf-8")
    check = run_cli("check", str(bad), env={**os.environ, "COLUMNS": "200"})
    assert check.returncode == 1
    assert "3 / 3 dòng có lỗi" in check.stdout
    assert "01/02/2090" in check.stdout, "a birth date in the future is refused, shown as written"
    assert "Kinhh" in check.stdout, "values no code list knows are reported"
    assert "001085012345" not in check.stdout, "no full ID number echoed"


def test_issue_table_orders_ties_by_name_whatever_order_the_counts_came_in():
    from collections import Counter

    from lienthong.cli.files import _most_first

    made_one_way = Counter({"phone_converted": 3, "name_spacing": 3, "date_excel_serial": 5})
    made_another = Counter({"name_spacing": 3, "date_excel_serial": 5, "phone_converted": 3})
    expected = [("date_excel_serial", 5), ("name_spacing", 3), ("phone_converted", 3)]
    assert _most_first(made_one_way) == _most_first(made_another) == expected
