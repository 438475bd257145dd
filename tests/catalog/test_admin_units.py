"""The 2025 administrative units, the official-code corrections, the legacy provinces, the unit look-ups."""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from catalog.admin_units import WardList
from catalog.lists import get_code_list
from catalog.lookups import legacy_to_2025_province, province_of_ward, ward_lookup
from catalog.manifest import DATA_DIR
from lienthong.vietnamese.folding import clean_text, spelling_key

# The merges of 1 July 2025 as written in /work/shared/VIETNAMESE_DATA.md (old code -> 2025 code), typed here
# independently of catalog/data/legacy_provinces.csv. Provinces the notes do not mention kept their own code.
MERGED = {
    "02": "08",  # Hà Giang -> Tuyên Quang
    "06": "19",  # Bắc Kạn -> Thái Nguyên
    "15": "15", "10": "15",  # Yên Bái, Lào Cai -> Lào Cai 15
    "17": "25", "26": "25",  # Hoà Bình, Vĩnh Phúc -> Phú Thọ
    "24": "24", "27": "24",  # Bắc Giang + Bắc Ninh -> Bắc Ninh 24
    "30": "31",  # Hải Dương -> Hải Phòng
    "34": "33",  # Thái Bình -> Hưng Yên
    "35": "37", "36": "37",  # Hà Nam, Nam Định -> Ninh Bình
    "44": "44", "45": "44",  # Quảng Bình -> Quảng Trị 44 (old Quảng Trị was 45)
    "49": "48",  # Quảng Nam -> Đà Nẵng
    "62": "51",  # Kon Tum -> Quảng Ngãi
    "52": "52", "64": "52",  # Bình Định -> Gia Lai 52 (old Gia Lai was 64)
    "54": "66",  # Phú Yên -> Đắk Lắk
    "58": "56",  # Ninh Thuận -> Khánh Hoà
    "60": "68", "67": "68",  # Bình Thuận, Đắk Nông -> Lâm Đồng
    "70": "75",  # Bình Phước -> Đồng Nai
    "80": "80", "72": "80",  # Long An -> Tây Ninh 80 (old Tây Ninh was 72)
    "74": "79", "77": "79",  # Bình Dương, Bà Rịa–Vũng Tàu -> TP Hồ Chí Minh
    "82": "82", "87": "82",  # Tiền Giang -> Đồng Tháp 82 (old Đồng Tháp was 87)
    "83": "86", "84": "86",  # Bến Tre, Trà Vinh -> Vĩnh Long
    "91": "91", "89": "91",  # Kiên Giang -> An Giang 91 (old An Giang was 89)
    "93": "92", "94": "92",  # Hậu Giang, Sóc Trăng -> Cần Thơ
    "95": "96",  # Bạc Liêu -> Cà Mau
}
WARD_CORRECTIONS_PATH = DATA_DIR / "ward_code_corrections.csv"
UNCHANGED = ["01", "04", "08", "11", "12", "14", "19", "20", "22", "25", "31", "33", "37", "38", "40", "42",
             "46", "48", "51", "56", "66", "68", "75", "79", "86", "92", "96"]


def _corrections() -> list[dict[str, str]]:
    with WARD_CORRECTIONS_PATH.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_wards_belong_to_existing_provinces_and_every_province_has_wards() -> None:
    provinces = get_code_list("provinces").codes
    per_province = Counter(v.parent for v in get_code_list("wards").values)
    assert set(per_province) == provinces
    assert per_province["01"] == 126  # Hà Nội, as in the official list


@pytest.mark.parametrize(
    ("code", "label", "province"),
    [
        ("00070", "Phường Hoàn Kiếm", "01"),
        ("00004", "Phường Ba Đình", "01"),
        ("26740", "Phường Sài Gòn", "79"),
        ("22736", "Đặc khu Trường Sa", "56"),
        ("23737", "Xã Ia Mơ", "52"),  # the package is right here; the cross-check package was not
        ("24286", "Xã Ea M'Droh", "66"),  # typographic apostrophe made plain
        ("20137", "Xã Chân Mây - Lăng Cô", "46"),  # en dash made plain
        ("12745", "Xã Bắc Đông Quan", "33"),  # double space collapsed
    ],
)
def test_known_wards(code: str, label: str, province: str) -> None:
    wards = get_code_list("wards")
    assert wards.label(code) == label
    assert province_of_ward(code) == province


@pytest.mark.parametrize(
    ("code", "label"),
    [("00082", "Phường Cửa Nam"), ("00226", "Phường Văn Miếu - Quốc Tử Giám"), ("00229", "Phường Kim Liên"),
     ("01537", "Xã Lý Quốc"), ("01558", "Xã Hạ Lang"), ("01561", "Xã Vinh Quý"), ("27154", "Phường Bàn Cờ"),
     ("31207", "Phường Thốt Nốt"), ("31228", "Phường Thuận Hưng")],
)
def test_wards_carry_the_official_codes_where_the_package_differs(code: str, label: str) -> None:
    assert get_code_list("wards").label(code) == label


def _freeze_script():  # noqa: ANN202 - the module scripts/freeze_admin_units.py
    path = Path(__file__).resolve().parents[2] / "scripts" / "freeze_admin_units.py"
    spec = importlib.util.spec_from_file_location("freeze_admin_units", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("freeze_admin_units", module)
    spec.loader.exec_module(module)
    return module


def test_the_frozen_unit_lists_are_what_the_script_builds_from_the_package(tmp_path: Path) -> None:
    script = _freeze_script()
    reason = script.missing_package()
    if reason:
        pytest.skip(f"cannot rebuild the 2025 unit lists here: {reason}")
    script.build(tmp_path)
    for name in ("provinces.csv", "wards.csv"):
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), f"{name}: rebuild and commit it"
    versions = {get_code_list(n).version for n in ("provinces", "wards")}
    assert versions == {script.units_version()}, "catalog/data/lists.yml: set the units' version it prints"


def test_every_code_correction_names_a_ward_of_the_package() -> None:
    reason = _freeze_script().missing_package()
    if reason:
        pytest.skip(f"cannot read the package the corrections apply to: {reason}")
    from vietnam_provinces import Ward

    corrections = _corrections()
    assert len(corrections) == 122
    package = {(f"{int(w.province_code):02d}", spelling_key(clean_text(w.name))) for w in Ward.iter_all()}
    assert [c for c in corrections if (c["province"], spelling_key(c["label_vi"])) not in package] == []
    wards = get_code_list("wards")
    assert all(wards.label(c["code"]) == clean_text(c["label_vi"]) for c in corrections)


def test_ward_list_lookup_accepts_codes_only() -> None:
    wards = get_code_list("wards")
    assert isinstance(wards, WardList)
    assert wards.lookup("00070") == "00070"
    assert wards.lookup(" 70 ") == "00070"
    assert wards.lookup("Phường Hoàn Kiếm") is None
    assert wards.lookup("99999") is None
    assert wards.lookup(None) is None


def test_province_labels_and_codes() -> None:
    provinces = get_code_list("provinces")
    assert provinces.label("01") == "Thành phố Hà Nội"
    assert provinces.label("79") == "Thành phố Hồ Chí Minh"
    assert provinces.label("04") == "Cao Bằng"


@pytest.mark.parametrize(("old", "new"), sorted(MERGED.items()))
def test_legacy_provinces_merged_as_in_the_notes(old: str, new: str) -> None:
    assert legacy_to_2025_province(old) == new


def test_all_63_legacy_provinces_map_to_a_2025_province() -> None:
    legacy = get_code_list("legacy_provinces")
    expected = {**MERGED, **{code: code for code in UNCHANGED}}
    assert len(expected) == 63
    assert {v.code: v.parent for v in legacy.values} == expected
    assert {v.parent for v in legacy.values} == get_code_list("provinces").codes


@pytest.mark.parametrize(("text", "new"), [("002", "08"), ("2", "08"), ("077", "79"), (" 96 ", "96")])
def test_legacy_codes_in_cccd_and_spreadsheet_forms(text: str, new: str) -> None:
    assert legacy_to_2025_province(text) == new


@pytest.mark.parametrize("text", ["03", "99", "100", "", "Hà Giang"])
def test_unknown_legacy_code_raises_key_error(text: str) -> None:
    with pytest.raises(KeyError, match="63 provinces"):
        legacy_to_2025_province(text)


def test_legacy_province_names() -> None:
    legacy = get_code_list("legacy_provinces")
    assert legacy.lookup("Tỉnh Hà Giang") == "02"
    assert legacy.lookup("Quảng Bình") == "44"
    assert legacy.lookup("Quảng Trị") == "45"
    assert legacy.lookup("Thừa Thiên Huế") == "46"
    assert legacy.lookup("Bà Rịa - Vũng Tàu") == "77"


@pytest.mark.parametrize(
    ("province", "text", "code"),
    [
        ("01", "Phường Hoàn Kiếm", "00070"),
        ("01", "Hoàn Kiếm", "00070"),
        ("01", "hoan kiem", "00070"),
        ("01", "P. Hoàn Kiếm", "00070"),
        ("01", "P.Hoàn Kiếm", "00070"),
        ("01", "phuong  HOAN KIEM", "00070"),
        ("01", "Xã Hoàn Kiếm", "00070"),  # wrong unit type tolerated
        ("01", "00070", "00070"),
        ("01", "70", "00070"),
        ("04", "Xã Đàm Thuỷ", "01501"),  # tone mark placed the other way
        ("04", "Đàm Thủy", "01501"),
        ("66", "Xã Ea M’Droh", "24286"),
        ("68", "Phường 1 Bảo Lộc", "24823"),
        ("56", "Đặc khu Trường Sa", "22736"),
        ("56", "ĐK Trường Sa", "22736"),
        ("46", "Chân Mây – Lăng Cô", "20137"),
    ],
)
def test_ward_lookup_finds_a_ward_within_its_province(province: str, text: str, code: str) -> None:
    assert ward_lookup(province, text) == code


def test_ward_lookup_keeps_names_that_differ_by_a_diacritic_apart() -> None:
    assert ward_lookup("19", "Xã Văn Lang") == "02143"
    assert ward_lookup("19", "Văn Lăng") == "05665"
    assert ward_lookup("19", "van lang") is None  # ambiguous without diacritics


def test_ward_lookup_depends_on_the_province() -> None:
    names = Counter(v.label_vi for v in get_code_list("wards").values)
    repeated = next(name for name, n in names.items() if n > 1)
    holders = [v for v in get_code_list("wards").values if v.label_vi == repeated]
    found = {ward_lookup(v.parent or "", repeated) for v in holders}
    assert found == {v.code for v in holders} and len(found) > 1


@pytest.mark.parametrize(
    ("province", "text"),
    [("01", "Phường Sài Gòn"), ("99", "Phường Hoàn Kiếm"), ("01", ""), ("01", None), ("01", "26740"),
     ("01", "P.")],
)
def test_ward_lookup_returns_none_when_not_found(province: str, text: str | None) -> None:
    assert ward_lookup(province, text) is None


def test_province_of_unknown_ward_is_none() -> None:
    assert province_of_ward("99999") is None
    assert province_of_ward("Phường Hoàn Kiếm") is None


def test_a_ward_list_rebuilt_as_a_plain_code_list_gets_its_type_back() -> None:
    from dataclasses import fields

    from catalog.admin_units import typed_code_list
    from catalog.model import CodeList

    wards = get_code_list("wards")
    plain = CodeList(**{f.name: getattr(wards, f.name) for f in fields(CodeList)})  # as the warehouse does
    assert plain.lookup("Phường Hoàn Kiếm") is not None  # the plain lookup would answer names
    typed = typed_code_list(plain)
    assert isinstance(typed, WardList) and typed.lookup("Phường Hoàn Kiếm") is None
    assert typed_code_list(get_code_list("sexes")) is get_code_list("sexes")


@pytest.mark.parametrize("name", ["provinces", "wards"])
def test_a_generated_unit_list_reads_as_the_checked_csv_reader_reads_it(name: str) -> None:
    from catalog.csv_io import read_code_list_csv

    loaded = get_code_list(name)
    checked = read_code_list_csv(DATA_DIR / f"{name}.csv", name=name, version=loaded.version,
                                 title_vi=loaded.title_vi, title_en=loaded.title_en, valid_from=loaded.valid_from,
                                 basis=loaded.basis, parents=get_code_list("provinces").codes)
    assert checked == loaded and type(checked) is type(loaded)
