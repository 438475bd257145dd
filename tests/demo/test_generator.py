"""The demo generator: reproducible, the requested size and error shares, and realistic where it matters."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import date, datetime

import pyarrow as pa
import pytest

from catalog import get_code_list
from lienthong.demo.generator import (
    AS_OF,
    FEEDBACK_COLUMNS,
    FEEDBACK_ERRORS,
    MEMBER_COLUMNS,
    MEMBER_ERRORS,
    RELIEF_COLUMNS,
    RELIEF_ERRORS,
    generate_feedback,
    generate_members,
    generate_people,
    generate_relief,
    render_phones,
)
from tests.demo.facts import MOBILE_PREFIXES, OLD_PROVINCE_CODES, national_phone, parse_dmy

WARDS = get_code_list("wards")  # the catalog: vietnam-provinces with the official code corrections
WARD_CODES = WARDS.codes
Members = tuple[list[dict], list[dict]]  # records and truth, as rows


@pytest.fixture(scope="module")
def members() -> Members:
    sample = generate_members(20_000, seed=11)
    return sample.records.to_pylist(), sample.truth.to_pylist()


def _clean(members: Members) -> list[dict]:
    records, truth = members
    return [r for r, t in zip(records, truth, strict=True) if t["error"] is None]


def _age(born: date, on: date = AS_OF) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- members: shape and reproducibility ---------------------------------------------------------------------


def test_same_seed_same_tables_and_another_seed_others() -> None:
    a, b = generate_members(3000, seed=5), generate_members(3000, seed=5)
    assert a.records.equals(b.records) and a.truth.equals(b.truth) and a.people.equals(b.people)
    assert not generate_members(3000, seed=6).records.equals(a.records)


@pytest.mark.parametrize("n", [0, 1, 7, 999, 5000])
def test_exactly_n_rows_with_the_contract_columns_all_strings(n: int) -> None:
    sample = generate_members(n, organisation="HND", id_prefix="ND")
    assert sample.records.num_rows == sample.truth.num_rows == n
    assert tuple(sample.records.column_names) == MEMBER_COLUMNS
    assert all(field.type == pa.string() for field in sample.records.schema)
    assert sample.truth.column_names == ["member_id", "person_id", "error", "duplicate_of"]
    ids = sample.records.column("member_id").to_pylist()
    assert len(set(ids)) == n and all(i.startswith("ND") for i in ids)


def test_error_and_duplicate_shares_are_the_requested_ones(members: Members) -> None:
    _, truth = members
    errors = Counter(t["error"] for t in truth if t["error"])
    assert sum(errors.values()) / len(truth) == pytest.approx(0.03, abs=0.002)
    assert set(errors) == set(MEMBER_ERRORS)
    assert max(errors.values()) - min(errors.values()) <= 1  # spread evenly over the kinds
    duplicates = [t for t in truth if t["duplicate_of"]]
    assert len(duplicates) / len(truth) == pytest.approx(0.02, abs=0.002)
    assert not any(t["error"] for t in duplicates)  # one thing at a time: a duplicate carries no error
    other = generate_members(10_000, error_rate=0.1, duplicate_rate=0.0)
    assert other.truth.column("error").null_count == 9000
    assert other.truth.column("duplicate_of").null_count == 10_000


def test_duplicates_are_later_re_registrations_of_the_same_person(members: Members) -> None:
    records, truth = members
    position = {t["member_id"]: i for i, t in enumerate(truth)}
    varied = 0
    for i, t in enumerate(truth):
        if t["duplicate_of"] is None:
            continue
        j = position[t["duplicate_of"]]
        assert j < i and truth[j]["person_id"] == t["person_id"] and truth[j]["duplicate_of"] is None
        if truth[j]["error"] is not None:  # the original's own error is not copied: it was a typo there
            continue
        original, copy = records[j], records[i]
        assert copy["member_id"] != original["member_id"]
        assert copy["date_of_birth"] == original["date_of_birth"] and copy["sex"] == original["sex"]
        assert (copy["full_name"] or "").casefold() == (original["full_name"] or "").casefold()
        if original["phone"] is not None:
            assert national_phone(copy["phone"]) == national_phone(original["phone"])
            assert copy["phone"] != original["phone"]  # written in another form
        assert parse_dmy(copy["joined_on"]) >= parse_dmy(original["joined_on"])
        varied += copy["ward_code"] != original["ward_code"] or copy["full_name"] != original["full_name"]
    assert varied > 0


def test_each_injected_error_is_what_the_truth_says(members: Members) -> None:
    records, truth = members
    for r, t in zip(records, truth, strict=True):
        kind = t["error"]
        if kind == "cccd_11_digits":
            assert re.fullmatch(r"\d{11}", r["id_number"])
        elif kind == "cccd_sex_mismatch":
            digit = int(r["id_number"][3])
            assert len(r["id_number"]) == 12 and digit % 2 != (r["sex"] == "Nữ")
        elif kind == "missing_full_name":
            assert r["full_name"] is None
        elif kind == "invalid_date_of_birth":
            assert parse_dmy(r["date_of_birth"]) is None
        elif kind == "future_date_of_birth":
            assert parse_dmy(r["date_of_birth"]) > date.today()
        elif kind == "unknown_ethnicity":
            assert r["ethnicity_code"] in {"99", "Kinhh"}
        elif kind == "unknown_ward":
            assert r["ward_code"] == "99999" and r["ward_code"] not in WARD_CODES
        elif kind == "short_phone":
            assert len(re.sub(r"\D", "", r["phone"])) < 10


# --- members: realism ---------------------------------------------------------------------------------------


def test_cccd_of_clean_rows_follow_decree_137(members: Members) -> None:
    lengths = Counter()
    for r in _clean(members):
        number = r["id_number"]
        lengths[len(number) if number else 0] += 1
        if number is None or len(number) == 9:
            continue
        assert re.fullmatch(r"\d{12}", number)
        assert number[0] == "0" and int(number[1:3]) in OLD_PROVINCE_CODES
        born = parse_dmy(r["date_of_birth"])
        female = r["sex"] == "Nữ"
        assert int(number[3]) == (2 if born.year >= 2000 else 0) + female
        assert number[4:6] == f"{born.year % 100:02d}"
    total = sum(lengths.values())
    assert lengths[9] / total == pytest.approx(0.08, abs=0.03)  # legacy CMND
    assert lengths[12] / total > 0.85


def test_phones_are_current_mobiles_once_the_formatting_is_removed(members: Members) -> None:
    forms = Counter()
    for r in _clean(members):
        if r["phone"] is None:
            continue
        number = national_phone(r["phone"])
        assert re.fullmatch(r"0\d{9}", number), r["phone"]
        assert number[:3] in MOBILE_PREFIXES, r["phone"]
        forms[re.sub(r"\d", "9", r["phone"])] += 1
    assert {"9999999999", "+99 999 999 999", "99999999999", "9999.999.999", "9999 999 999"} == set(forms)


def test_phone_forms() -> None:
    national = pa.array(["0912345678", "0362345678", None, "091234567"])
    written = [render_phones(None, national, [f] * 4).to_pylist() for f in range(6)]  # type: ignore[arg-type]
    assert [w[0] for w in written] == [
        "0912345678", "+84 912 345 678", "84912345678", "0912.345.678", "0912 345 678", "0912345678",
    ]
    assert written[5][1] == "01662345678"  # Viettel 036 was 0166 before 2018
    assert all(w[2] is None and w[3] == "091234567" for w in written)


def test_wards_are_2025_units_weighted_towards_big_provinces(members: Members) -> None:
    clean = _clean(members)
    assert all(r["ward_code"] in WARD_CODES for r in clean)
    province_of = {w.code: int(w.parent) for w in WARDS.values}
    provinces = Counter(province_of[r["ward_code"]] for r in clean)
    top_two = {code for code, _ in provinces.most_common(2)}
    assert top_two == {79, 1}  # TP Hồ Chí Minh and Hà Nội
    assert provinces[79] / len(clean) == pytest.approx(0.14, abs=0.03)


def test_family_names_have_their_real_frequencies(members: Members) -> None:
    names = [r["full_name"] for r in members[0] if r["full_name"]]
    family = Counter(n.split()[0].casefold() for n in names)
    share = {k: v / len(names) for k, v in family.items()}
    assert share["nguyễn"] == pytest.approx(0.38, abs=0.03)
    assert share["trần"] == pytest.approx(0.11, abs=0.02)
    assert share["lê"] == pytest.approx(0.095, abs=0.02)
    assert len(family) > 40


def test_names_are_nfc_and_women_mostly_thi(members: Members) -> None:
    clean = [r for r in _clean(members) if r["full_name"]]
    assert all(unicodedata.is_normalized("NFC", r["full_name"]) for r in clean)
    assert all(len(r["full_name"].split()) >= 2 for r in clean)
    assert all(r["sex"] == "Nữ" for r in clean)  # the Women's Union
    thi = sum(" Thị " in r["full_name"] for r in clean) / len(clean)
    assert 0.45 < thi < 0.9


def test_codes_ethnic_and_religious_shares(members: Members) -> None:
    clean = _clean(members)
    ethnic = Counter(r["ethnicity_code"] for r in clean)
    assert set(ethnic) <= {f"{i:02d}" for i in range(1, 55)}
    assert ethnic["01"] / len(clean) == pytest.approx(0.853, abs=0.04)  # Kinh, 2019 census
    assert len(ethnic) > 15
    religion = Counter(r["religion_code"] for r in clean)
    assert religion["00"] / len(clean) > 0.7
    assert {"01", "02"} <= set(religion)


@pytest.mark.parametrize(
    ("organisation", "low", "high"), [("DTN", 16, 30), ("HNCT", 60, 95), ("HND", 18, 80)]
)
def test_ages_and_dates_fit_the_organisation(organisation: str, low: int, high: int) -> None:
    sample = generate_members(3000, organisation=organisation, error_rate=0, duplicate_rate=0)
    sexes = Counter()
    for r in sample.records.to_pylist():
        born, joined = parse_dmy(r["date_of_birth"]), parse_dmy(r["joined_on"])
        assert low <= _age(born) <= high
        assert _age(born, joined) >= (16 if organisation == "DTN" else 18) and joined <= AS_OF
        updated = datetime.fromisoformat(r["updated_at"])
        assert updated.utcoffset().total_seconds() == 7 * 3600 and updated.date() >= joined
        assert r["organisation"] == organisation
        assert r["status"] in {"active", "transferred", "left", "deceased"}
        sexes[r["sex"]] += 1
    assert set(sexes) == {"Nam", "Nữ"}


def test_members_drawn_from_one_population_share_people() -> None:
    people = generate_people(5000, seed=2)
    a = generate_members(800, seed=1, organisation="HND", people=people)
    b = generate_members(800, seed=2, organisation="MTTQ", people=people)
    shared = set(a.truth.column("person_id").to_pylist()) & set(b.truth.column("person_id").to_pylist())
    assert 0 < len(shared) < 400
    with pytest.raises(ValueError, match="eligible"):
        generate_members(5000, organisation="DTN", people=people)
    with pytest.raises(ValueError, match="organisation"):
        generate_members(10, organisation="XYZ")


# --- feedback and relief ------------------------------------------------------------------------------------


def _parse_when(text: str) -> datetime | None:
    for fmt in ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=None)
        except (TypeError, ValueError):
            continue
    return None


def test_feedback() -> None:
    sample = generate_feedback(5000, seed=3)
    assert sample.records.equals(generate_feedback(5000, seed=3).records)
    assert tuple(sample.records.column_names) == FEEDBACK_COLUMNS
    truth = sample.truth.to_pylist()
    errors = Counter(t["error"] for t in truth if t["error"])
    assert set(errors) == set(FEEDBACK_ERRORS) and sum(errors.values()) == 100
    for r, t in zip(sample.records.to_pylist(), truth, strict=True):
        received = _parse_when(r["received_at"])
        if t["error"] is not None:
            continue
        assert received is not None and received.date() <= AS_OF
        assert r["channel"] in {"hotline", "web", "zalo", "email", "in_person", "letter"}
        assert r["category"] in {"land", "environment", "social_welfare", "health", "education",
                                 "infrastructure", "public_order", "administration", "other"}
        assert r["status"] in {"received", "processing", "resolved", "rejected", "transferred"}
        assert r["ward_code"] is None or r["ward_code"] in WARD_CODES
        if r["status"] == "resolved":
            assert _parse_when(r["resolved_at"]) > received
        else:
            assert r["resolved_at"] is None and r["satisfaction"] is None
        assert r["satisfaction"] in {None, "1", "2", "3", "4", "5"}


def test_relief() -> None:
    sample = generate_relief(3000, seed=4)
    assert sample.records.equals(generate_relief(3000, seed=4).records)
    assert tuple(sample.records.column_names) == RELIEF_COLUMNS
    truth = sample.truth.to_pylist()
    errors = Counter(t["error"] for t in truth if t["error"])
    assert set(errors) == set(RELIEF_ERRORS) and sum(errors.values()) == 60
    windows = {"YAGI-2024": (date(2024, 9, 1), date(2024, 12, 31)),
               "LU-MIEN-TRUNG-2025": (date(2025, 10, 1), date(2026, 1, 31)),
               "TET-VI-NGUOI-NGHEO-2026": (date(2025, 12, 1), date(2026, 2, 28))}
    roles = Counter()
    for r, t in zip(sample.records.to_pylist(), truth, strict=True):
        if t["error"] is not None:
            continue
        low, high = windows[r["campaign"]]
        assert low <= parse_dmy(r["transaction_date"]) <= high
        assert re.fullmatch(r"\d{1,3}(\.\d{3})*|\d+", r["amount_vnd"])
        assert int(r["amount_vnd"].replace(".", "")) > 0
        assert r["organisation"] in {"MTTQ", "HLHPN", "HND", "DTN", "HCCB", "TLDLD", "HNCT", "HCTD"}
        assert r["ward_code"] in WARD_CODES and r["party_name"]
        assert r["id_number"] is None or (r["role"] == "beneficiary" and len(r["id_number"]) in (9, 12))
        roles[r["role"]] += 1
    assert set(roles) == {"donor", "beneficiary"}
