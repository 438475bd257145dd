"""`normalize` on corrupted member files: how much of the truth each field gets back, and the CLI around it.

The figures printed here are the ones docs/BENCHMARKS.md reports; the floors asserted are what the rules achieve
today, so a regression fails (the issue's targets are noted beside them where they are not reached yet).
"""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from lienthong.cleaning.legacy_encodings import encode_tcvn3
from lienthong.cleaning.text import normalize_tone_placement
from lienthong.demo.corrupt import corrupt_members, exact
from lienthong.normalize import normalize_table

HEADERS = ["Họ và tên", "Giới tính", "Ngày sinh", "Số CCCD", "Số điện thoại", "Địa chỉ"]


@pytest.fixture(scope="module")
def cleaned() -> list[tuple]:
    out = []
    for f in corrupt_members(20_000, seed=5):
        result = normalize_table(f.records.rename_columns(HEADERS))
        out.append((f, result.table.combine_chunks(), result.encodings))
    return out


def _accuracy(cleaned, column: str, truth_of=None, where=None) -> float:
    got, want = [], []
    for f, table, _ in cleaned:
        mask = where(f.truth) if where else pa.array([True] * f.truth.num_rows)
        truth = f.truth.column(column).combine_chunks()
        truth = truth_of(truth) if truth_of else truth
        got.append(_array(table.column(column).combine_chunks().filter(mask)))
        want.append(_array(truth.filter(mask)))
    return exact(pa.concat_arrays(got), pa.concat_arrays(want))


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


@pytest.mark.slow
def test_field_accuracy_on_20000_corrupted_records(cleaned):
    not_folded = lambda t: pc.not_equal(t.column("name_damage"), "no_diacritics")  # noqa: E731
    legacy = lambda t: pc.equal(t.column("address_form"), "legacy")  # noqa: E731
    figures = {
        # Names typed without diacritics cannot be given them back exactly: their match key is compared below.
        "full_name": _accuracy(cleaned, "full_name", normalize_tone_placement, not_folded),
        "sex": _accuracy(cleaned, "sex"),
        "date_of_birth": _accuracy(cleaned, "date_of_birth", lambda a: a.cast(pa.string())),
        "id_number": _accuracy(cleaned, "id_number"),
        "phone": _accuracy(cleaned, "phone"),
        "ward_code (legacy, not split)": _accuracy(cleaned, "ward_code", where=legacy),
        "ward_code (2025 form)": _accuracy(
            cleaned, "ward_code", where=lambda t: pc.equal(t.column("address_form"), "2025")),
    }
    split_flagged = [
        pc.match_substring(table.column("issues").filter(f.truth.column("ward_split")), "address_ward_split")
        for f, table, _ in cleaned
    ]
    flagged = pa.concat_arrays([pc.fill_null(s, False).combine_chunks() for s in split_flagged])
    guessed = pa.concat_arrays([
        pc.is_valid(table.column("ward_code").filter(f.truth.column("ward_split"))).combine_chunks()
        for f, table, _ in cleaned
    ])
    for name, value in figures.items():
        print(f"{name}: {value:.2%}")
    print(f"split wards flagged: {pc.mean(flagged.cast(pa.int8())).as_py():.2%}")
    assert pc.all(flagged).as_py() and not pc.any(guessed).as_py(), "every split ward flagged, none guessed"
    assert figures["sex"] >= 0.995
    assert figures["date_of_birth"] >= 0.995
    assert figures["id_number"] >= 0.995
    assert figures["phone"] >= 0.995
    assert figures["ward_code (legacy, not split)"] >= 0.97
    assert figures["ward_code (2025 form)"] >= 0.99
    # Target 99.5%, not reached: a reversed name whose given name is also a middle name (Anh, Minh…) and whose
    # family name is not one of the 16 commonest stays reversed.
    assert figures["full_name"] >= 0.975  # measured 97.96% at seed 5


def test_every_legacy_encoded_file_is_detected(cleaned):
    for f, _, encodings in cleaned:
        text_columns = {"Họ và tên", "Giới tính", "Địa chỉ"}
        assert {encodings[c] for c in text_columns} == {f.encoding}, f.name


def test_normalize_and_check_from_the_command_line(tmp_path):
    records = corrupt_members(200, seed=3)[1].records  # the TCVN3 file
    headers = [encode_tcvn3(h) for h in HEADERS]
    source = tmp_path / "danh_sach.csv"
    buf = pa.BufferOutputStream()
    pacsv.write_csv(records.rename_columns(headers), buf)
    source.write_bytes(buf.getvalue().to_pybytes().decode("utf-8").encode("cp1252"))  # as an old Excel saves it
    out = tmp_path / "sach.csv"

    run = subprocess.run([sys.executable, "-m", "lienthong.cli", "normalize", str(source), "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "tcvn3" in run.stdout
    written = pacsv.read_csv(out)
    assert written.column_names[: len(headers)] == headers, "every input column kept, unchanged"
    assert {"full_name", "family_name", "given_name", "date_of_birth", "ward_code", "issues"} <= set(
        written.column_names)
    assert "Nguyễn" in " ".join(written.column("full_name").to_pylist())

    check = subprocess.run([sys.executable, "-m", "lienthong.cli", "check", str(out.with_name("bad.csv"))],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode != 0
    bad = tmp_path / "bad.csv"
    bad.write_text("Họ và tên,Ngày sinh,Số CCCD\nNguyễn Văn An,31/02/1990,001085012345\nLê Thị Hoa,01/02/1990,12\n",
                   encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "lienthong.cli", "check", str(bad)], capture_output=True,
                           text=True, timeout=300, env={**__import__("os").environ, "COLUMNS": "200"})
    assert check.returncode == 1
    assert "2 / 2 dòng có lỗi" in check.stdout
    assert "12" not in check.stdout.split("dòng có lỗi")[1].replace("12 chữ số", ""), "no raw ID echoed"
