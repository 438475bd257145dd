"""Accuracy on a generated corpus of member lists laid out as clerks lay them out (issue 14): the same people in
four forms — the classic "Ngày, tháng, năm sinh" over "Nam | Nữ" with the address split over columns, bare
"Nam | Nữ" columns of years and Excel dates, "Năm sinh" holding full dates, years and serials beside ID numbers
that lost their zeros, and "Giới tính" over "Nam | Nữ" ticks — read by `normalize` with no mapping, field by field
against the truth. The figure is printed; run it with
``pytest tests/lienthong/test_columns_corpus.py -s``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from catalog import get_code_list
from lienthong.cleaning.text import normalize_tone_placement
from lienthong.demo.generator import generate_members
from lienthong.normalize import normalize_table

_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Form:
    """One layout: its headers and how a person's values are written in it."""

    name: str
    headers: list[str]
    row: Callable[[dict, np.random.Generator], tuple[list[str], str]]  # -> cells, the date as the file gives it


def _dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _as_number(id_number: str | None, rng: np.random.Generator) -> str:
    """The ID number as Excel stores a number: leading zeros lost, sometimes as a float's or a program's text."""
    if not id_number:
        return ""
    digits = id_number.lstrip("0")
    mantissa, exponent = f"{int(digits):.{len(digits) - 1}E}".split("E")  # as a program writes it: 2.60628417E+08
    scientific = f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"
    return str(rng.choice([id_number, digits, f"{digits}.0", scientific]))


def _province(ward: str | None) -> str:
    if not ward:
        return ""
    province = get_code_list("wards").parents_of(pa.array([ward])).to_pylist()[0]
    return get_code_list("provinces").label(province) or ""


def _address_parts(address: str | None) -> tuple[str, str]:
    """(below the ward, the ward) of a generated "…, Xóm Tiền Phong, Xã Giao Ninh"."""
    if not address:
        return "", ""
    head, _, ward = address.rpartition(", ")
    return head, ward


def _names_ward(address: str | None) -> bool:
    """Whether a generated address names its ward (some are a street and a tổ only)."""
    return bool(address) and _address_parts(address)[1].startswith(("Phường ", "Xã ", "Thị trấn ", "Đặc khu "))


def _bare(unit: str) -> str:
    for word in ("Phường ", "Xã ", "Thị trấn ", "Đặc khu "):
        if unit.startswith(word):
            return unit.removeprefix(word)
    return unit


def _classic(p: dict, rng: np.random.Generator) -> tuple[list[str], str]:
    written = _dmy(p["date_of_birth"]) if rng.random() < 0.8 else str(p["date_of_birth"].year)
    male, female = (written, "") if p["sex"] == "M" else ("", written)
    below, ward = _address_parts(p["address"])
    return [p["full_name"], male, female, _as_number(p["id_number"], rng), p["phone"], below, _bare(ward),
            _province(p["ward_code"]), "Chi hội thôn 1"], written


def _bare_columns(p: dict, rng: np.random.Generator) -> tuple[list[str], str]:
    serial = str((p["date_of_birth"] - _EXCEL_EPOCH).days)
    cell, written = [(str(p["date_of_birth"].year),) * 2, (serial, _dmy(p["date_of_birth"]))][int(rng.random() < .5)]
    male, female = (cell, "") if p["sex"] == "M" else ("", cell)
    return [p["full_name"].upper(), male, female, p["id_number"], p["phone"], p["address"]], written


def _year_column(p: dict, rng: np.random.Generator) -> tuple[list[str], str]:
    d = p["date_of_birth"]
    written = str(rng.choice([_dmy(d), str(d.year), str((d - _EXCEL_EPOCH).days), d.isoformat()]))
    shown = str(d.year) if written == str(d.year) else _dmy(d)
    return [p["full_name"], "Nam" if p["sex"] == "M" else "Nữ", written, _as_number(p["id_number"], rng),
            p["phone"], p["address"]], shown


def _ticks(p: dict, rng: np.random.Generator) -> tuple[list[str], str]:
    male, female = ("x", "") if p["sex"] == "M" else ("", "x")
    return [p["full_name"], _dmy(p["date_of_birth"]), male, female, p["id_number"], p["phone"]], _dmy(
        p["date_of_birth"])


FORMS = [
    Form("classic", ["Họ và tên", "Ngày, tháng, năm sinh / Nam", "Ngày, tháng, năm sinh / Nữ", "Số CCCD/CMND",
                     "SĐT", "Địa chỉ / Thôn/Xóm", "Địa chỉ / Xã/Phường", "Địa chỉ / Tỉnh/Thành phố", "Chi hội"],
         _classic),
    Form("bare", ["HỌ VÀ TÊN", "Nam", "Nữ", "Số định danh cá nhân", "Điện thoại", "Nơi thường trú"], _bare_columns),
    Form("year", ["Họ, tên", "Giới tính", "Năm sinh", "CCCD", "Số điện thoại (*)", "Chỗ ở hiện nay"], _year_column),
    Form("ticks", ["Họ tên\nhội viên", "Ngày sinh (dd/mm/yyyy)", "Giới tính / Nam", "Giới tính / Nữ",
                   "Số CMND/CCCD", "Điện thoại"], _ticks),
]


def _expected_date(written: str) -> str:
    if len(written) == 4:
        return written
    d, m, y = written.split("/")
    return f"{y}-{m}-{d}"


def measure(n: int = 2_000, *, seed: int = 11) -> dict[str, float]:
    """Share of rows read right, per field, over ``n`` people in each form (ward: the forms with addresses)."""
    people = generate_members(n, seed=seed, error_rate=0.0, duplicate_rate=0.0, organisation="HND").people
    rows = people.to_pylist()
    right: dict[str, int] = {}
    total: dict[str, int] = {}
    for i, form in enumerate(FORMS):
        rng = np.random.default_rng([seed, i])
        cells, written = zip(*(form.row(p, rng) for p in rows), strict=True)
        table = pa.table({h: pa.array([c[j] or None for c in cells], pa.string())  # an empty cell is null
                          for j, h in enumerate(form.headers)})
        out = normalize_table(table).table.to_pylist()
        for p, got, shown in zip(rows, out, written, strict=True):
            checks = {
                "full_name": got["full_name"] == normalize_tone_placement(pa.array([p["full_name"]]))[0].as_py(),
                "sex": got["sex"] == ("1" if p["sex"] == "M" else "2"),
                "date_of_birth": got["date_of_birth"] == _expected_date(shown),
                "id_number": got["id_number"] == p["id_number"],
                "phone": got["phone"] == p["phone"],
            }
            if form.name == "classic" and _names_ward(p["address"]):  # the address split over columns
                checks["ward_code (split address)"] = got["ward_code"] == p["ward_code"]
            for name, ok in checks.items():
                right[name] = right.get(name, 0) + ok
                total[name] = total.get(name, 0) + 1
    return {name: right[name] / total[name] for name in total}


def test_names_dates_ids_phones_and_sexes_are_read_right_in_every_form() -> None:
    accuracy = measure()
    for name, share in accuracy.items():
        print(f"{name}: {share:.2%}")
    # Measured at seed 11 (8,000 rows): names, sexes, dates, phones 100%; ID numbers 99.67% (the misses are
    # numbers a program wrote as "1.1665859E+08", its trailing 0 dropped: not told from rounded digits, refused);
    # wards of the split addresses 99.37%.
    assert min(accuracy[f] for f in ("full_name", "sex", "date_of_birth", "id_number", "phone")) >= 0.99
    assert accuracy["ward_code (split address)"] >= 0.99
