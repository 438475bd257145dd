"""The shared code lists as loaded from catalog/data: names, counts, formats."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import pytest

# Import from the submodules, and test `from catalog import ...` in a subprocess: depending on how pytest puts
# tests/ on sys.path, the folder tests/catalog can shadow the package name "catalog".
from catalog.lists import get_code_list, load_code_lists
from catalog.manifest import DATA_DIR
from catalog.model import match_key
from schemas import CONTRACTS

EXPECTED = {
    "provinces": 34,
    "wards": 3321,
    "legacy_provinces": 63,
    "ethnic_groups": 54,
    "religions": 18,
    "sexes": 3,
    "organisations": 8,
    "member_statuses": 4,
    "feedback_channels": 6,
    "feedback_categories": 9,
    "feedback_statuses": 5,
    "relief_campaigns": 3,
    "relief_roles": 2,
}

CODE_FORMATS = {
    "provinces": r"\d{2}",
    "wards": r"\d{5}",
    "legacy_provinces": r"\d{2}",
    "ethnic_groups": r"\d{2}",
    "religions": r"\d{2}",
    "sexes": r"[1-3]",
    "organisations": r"[A-Z]+",
    "relief_campaigns": r"[A-Z0-9-]+",
}

# Decision 1019/QĐ-TCTK (2008) as listed in /work/shared/VIETNAMESE_DATA.md (01-20 checked there against the
# decision; 21-54 checked for this list, see docs/catalog.md). An independent copy the CSV must agree with.
ETHNIC_1019 = (
    "Kinh", "Tày", "Thái", "Mường", "Khơ-me", "Hoa", "Nùng", "Mông", "Dao", "Gia-rai",  # 01-10
    "Ê-đê", "Ba-na", "Sán Chay", "Chăm", "Cơ-ho", "Xơ-đăng", "Sán Dìu", "Hrê", "Ra-glai", "Mnông",  # 11-20
    "Thổ", "Xtiêng", "Khơ-mú", "Bru-Vân Kiều", "Cơ-tu", "Giáy", "Tà-ôi", "Mạ", "Giẻ-Triêng", "Co",  # 21-30
    "Chơ-ro", "Xinh-mun", "Hà Nhì", "Chu-ru", "Lào", "La Chí", "Kháng", "Phù Lá", "La Hủ", "La Ha",  # 31-40
    "Pà Thẻn", "Lự", "Ngái", "Chứt", "Lô Lô", "Mảng", "Cơ Lao", "Bố Y", "Cống", "Si La",  # 41-50
    "Pu Péo", "Rơ Măm", "Brâu", "Ơ Đu",  # 51-54
)


def test_the_public_api_is_importable_from_the_package() -> None:
    names = "load_code_lists, get_code_list, ward_lookup, province_of_ward, legacy_to_2025_province"
    code = (f"from catalog import {names}, read_code_list_csv; "
            "print(get_code_list('sexes').lookup('F'), ward_lookup('01', 'Hoàn Kiếm'))")
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "00070"]


def test_the_manifest_declares_exactly_the_expected_lists() -> None:
    assert set(load_code_lists()) == set(EXPECTED)


@pytest.mark.parametrize(("name", "count"), EXPECTED.items())
def test_each_list_has_its_expected_number_of_values(name: str, count: int) -> None:
    assert len(get_code_list(name).values) == count


@pytest.mark.parametrize(("name", "pattern"), CODE_FORMATS.items())
def test_codes_have_the_documented_format(name: str, pattern: str) -> None:
    bad = [v.code for v in get_code_list(name).values if not re.fullmatch(pattern, v.code)]
    assert bad == []


@pytest.mark.parametrize("name", EXPECTED)
def test_codes_are_unique_and_labels_present(name: str) -> None:
    values = get_code_list(name).values
    assert len({v.code for v in values}) == len(values)
    assert all(v.label_vi.strip() for v in values)


@pytest.mark.parametrize("name", [n for n in EXPECTED if n != "wards"])
def test_no_label_or_alias_names_two_codes(name: str) -> None:
    owner: dict[str, str] = {}
    for value in get_code_list(name).values:
        for text in (value.label_vi, value.label_en, *value.aliases):
            if text:
                assert owner.setdefault(match_key(text), value.code) == value.code, text


def test_every_contract_code_list_exists() -> None:
    lists = load_code_lists()
    bound = {(c.dataset, f.name, f.code_list) for c in CONTRACTS.values() for f in c.fields() if f.code_list}
    assert bound, "the contracts bind no code list?"
    assert [b for b in bound if b[2] not in lists] == []


def test_unit_lists_are_versioned_by_the_package_the_units_date_and_our_corrections() -> None:
    expected = "2025.10.1/2025-07-01+"  # frozen from vietnam-provinces 2025.10.1 (scripts/freeze_admin_units.py)
    digest = hashlib.sha256((DATA_DIR / "ward_code_corrections.csv").read_bytes()).hexdigest()[:8]
    assert get_code_list("provinces").version == expected + digest
    assert get_code_list("wards").version == expected + digest


def test_every_list_has_metadata() -> None:
    for code_list in load_code_lists().values():
        assert code_list.version and code_list.title_vi and code_list.title_en and code_list.basis
        assert code_list.valid_from is not None


def test_unknown_list_raises_key_error_naming_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown code list 'ethnicity'.*ethnic_groups.*wards"):
        get_code_list("ethnicity")


def test_load_code_lists_returns_a_fresh_dict_of_shared_lists() -> None:
    first, second = load_code_lists(), load_code_lists()
    first.pop("wards")
    assert "wards" in second and second["sexes"] is get_code_list("sexes")


def test_ethnic_groups_follow_decision_1019_codes() -> None:
    assert len(ETHNIC_1019) == 54
    ethnic = get_code_list("ethnic_groups")
    expected = [(f"{i:02d}", name) for i, name in enumerate(ETHNIC_1019, 1)]
    assert [(v.code, v.label_vi) for v in ethnic.values] == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("kinh", "01"), ("Việt", "01"), ("Hmong", "08"), ("H'Mông", "08"), ("Mèo", "08"), ("Khmer", "05"),
        ("Khơ Me", "05"), ("Raglay", "19"), ("X'Tiêng", "22"), ("Cờ Lao", "47"), ("Gié Triêng", "29"),
        ("Hoa (Hán)", "06"), ("Ê Đê", "11"), ("Bru Vân Kiều", "24"), ("o du", "54"), ("54", "54"),
    ],
)
def test_ethnic_group_aliases(text: str, code: str) -> None:
    assert get_code_list("ethnic_groups").lookup(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("nữ", "2"), ("F", "2"), ("Female", "2"), ("nu", "2"), ("Nam", "1"), ("M", "1"), ("male", "1"),
     ("Trai", "1"), ("Gái", "2"), ("Khác", "3"), ("1", "1")],
)
def test_sex_aliases(text: str, code: str) -> None:
    assert get_code_list("sexes").lookup(text) == code


def test_sexes_do_not_guess_zero_based_codes() -> None:
    assert get_code_list("sexes").lookup("0") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [("TP HCM", "79"), ("TPHCM", "79"), ("HCM", "79"), ("Sài Gòn", "79"), ("Hồ Chí Minh", "79"),
     ("Thành phố Hồ Chí Minh", "79"), ("tp. ho chi minh", "79"), ("Hà Nội", "01"), ("ha noi", "01"),
     ("Hanoi", "01"), ("Tỉnh Cao Bằng", "04"), ("Khánh Hoà", "56"), ("Thừa Thiên Huế", "46"), ("Huế", "46")],
)
def test_province_aliases(text: str, code: str) -> None:
    assert get_code_list("provinces").lookup(text) == code


@pytest.mark.parametrize(
    ("code", "label"),
    [("01", "Phật giáo"), ("02", "Công giáo"), ("03", "Phật giáo Hoà Hảo"), ("04", "Hồi giáo"),
     ("05", "Cao Đài"), ("06", "Minh Sư đạo"), ("07", "Minh Lý đạo"), ("08", "Tin Lành"),
     ("09", "Tịnh độ Cư sĩ Phật hội Việt Nam"), ("10", "Tứ Ân Hiếu nghĩa"), ("11", "Bửu Sơn Kỳ Hương"),
     ("12", "Baha'i"), ("13", "Bà La Môn"), ("14", "Mặc Môn")],
)
def test_religion_codes_follow_decision_1019_and_the_2014_addition(code: str, label: str) -> None:
    assert get_code_list("religions").label(code) == label


@pytest.mark.parametrize(
    ("text", "code"),
    [("Không", "00"), ("Thiên Chúa giáo", "02"), ("Đạo Phật", "01"), ("Tin lành", "08"), ("Hòa Hảo", "03"),
     ("Cao Đài", "05"), ("Hồi giáo (Islam)", "04"), ("Cơ đốc Phục lâm", "15"), ("Khác", "99")],
)
def test_religion_aliases(text: str, code: str) -> None:
    assert get_code_list("religions").lookup(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("Hội Phụ nữ", "HLHPN"), ("Women's Union", "HLHPN"), ("Đoàn Thanh niên", "DTN"), ("Youth Union", "DTN"),
     ("Đoàn TNCS Hồ Chí Minh", "DTN"), ("Công đoàn", "TLDLD"), ("Hội Nông dân", "HND"),
     ("Cựu chiến binh", "HCCB"),
     ("Người cao tuổi", "HNCT"), ("Chữ thập đỏ", "HCTD"), ("Mặt trận Tổ quốc", "MTTQ"), ("mttq", "MTTQ")],
)
def test_organisation_aliases(text: str, code: str) -> None:
    assert get_code_list("organisations").lookup(text) == code


def test_relief_campaigns_carry_their_validity_windows() -> None:
    for value in get_code_list("relief_campaigns").values:
        assert value.valid_from is not None and value.valid_to is not None
        assert value.valid_from <= value.valid_to
    assert {v.code for v in get_code_list("relief_campaigns").values} == {
        "YAGI-2024", "LU-MIEN-TRUNG-2025", "TET-VI-NGUOI-NGHEO-2026",
    }


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("member_statuses", {"active", "transferred", "left", "deceased"}),
        ("feedback_channels", {"hotline", "web", "zalo", "email", "in_person", "letter"}),
        ("feedback_categories", {"land", "environment", "social_welfare", "health", "education",
                                 "infrastructure", "public_order", "administration", "other"}),
        ("feedback_statuses", {"received", "processing", "resolved", "rejected", "transferred"}),
        ("relief_roles", {"donor", "beneficiary"}),
        ("organisations", {"MTTQ", "TLDLD", "HND", "HLHPN", "DTN", "HCCB", "HNCT", "HCTD"}),
    ],
)
def test_hub_lists_have_exactly_the_agreed_codes(name: str, codes: set[str]) -> None:
    assert {v.code for v in get_code_list(name).values} == codes
