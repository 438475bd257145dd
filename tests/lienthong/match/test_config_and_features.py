"""Role mapping files and the comparison columns built from them, Vietnamese and generic."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lienthong.errors import ConfigError, MalformedInput
from lienthong.match.config import MatchConfig, load_mapping
from lienthong.match.features import build_features, email_built_from_names


def test_unknown_role_is_an_error_and_missing_roles_are_allowed(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("record_id: id\nfull_name: name\nbirthday: dob\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown role.*birthday"):
        load_mapping(bad)
    good = tmp_path / "good.yml"
    good.write_text("record_id: id\nfull_name: name\nlocale: generic\nthreshold: 0.95\n", encoding="utf-8")
    config = load_mapping(good)
    assert config.columns() == {"record_id": ["id"], "full_name": ["name"]}
    assert config.thresholds.link == 0.95


def test_a_name_role_is_required(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("record_id: id\nphone: tel\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="name role"):
        load_mapping(path)


def test_vietnamese_features_undo_what_clerks_do():
    table = pa.table({
        "id": ["1", "2", "3", "4"],
        "name": ["Nguyễn Thị Hoà", "NGUYEN THI HOA", "Hoà Nguyễn Thị", "Trần   Văn  Đức"],
        "dob": ["05/03/1990", "1990-03-05", "1990", "31/12/1985"],
        "sex": ["Nữ", "nu", "F", "Nam"],
        "cccd": ["001190012345", "1190012345", "001 190 012 345", "123456789"],
        "phone": ["0912345678", "+84 912 345 678", "01662345678", None],
    })
    config = MatchConfig(record_id="id", full_name="name", date_of_birth="dob", sex="sex", id_number="cccd",
                         phone="phone")
    f = build_features(table, config).to_pydict()
    assert f["family"] == ["nguyen", "nguyen", "nguyen", "tran"]
    assert f["given"] == ["hoa", "hoa", "hoa", "duc"]
    assert f["dob"] == ["1990-03-05", "1990-03-05", None, "1985-12-31"]
    assert f["dob_swap"] == ["1990-05-03", "1990-05-03", None, None] and f["dob_year"][2] == 1990
    assert f["sex"] == ["F", "F", "F", "M"]
    assert f["id_number"][:3] == ["001190012345"] * 3 and f["id_kind"] == ["cccd"] * 3 + ["cmnd"]
    assert f["phone"] == ["0912345678", "0912345678", "0362345678", None]


def test_generic_features_for_non_vietnamese_data():
    table = pa.table({"id": ["a", "b"], "name": ["José  María García", "Jose Garcia"],
                      "born": ["19800102", "19800102"], "zip": ["SW1A 1AA", "sw1a1aa"],
                      "street": ["10 Downing St", "10 downing st"], "town": ["London", "LONDON"]})
    config = MatchConfig(record_id="id", full_name="name", date_of_birth="born", date_format="%Y%m%d",
                         postcode="zip", address=["street", "town"], locale="generic")
    f = build_features(table, config).to_pydict()
    assert f["given"] == ["jose", "jose"] and f["family"] == ["garcia", "garcia"]
    assert f["middle"][0] == "maria"
    assert f["dob"] == ["1980-01-02", "1980-01-02"]
    assert f["postcode"] == ["SW1A1AA", "SW1A1AA"]
    assert f["address"] == ["10 downing st london"] * 2


def test_mapped_column_missing_from_the_input_is_an_error():
    with pytest.raises(MalformedInput, match="no column"):
        build_features(pa.table({"id": ["1"]}), MatchConfig(record_id="id", full_name="name"))


def test_emails_built_from_the_name_are_detected():
    features = pa.table({"email": ["nguyenvanan85@gmail.com", "lan.tran@x.vn", "abc@x.vn"],
                         "given": ["an", "lan", "minh"], "family": ["nguyen", "tran", "le"]})
    assert email_built_from_names(features) == pytest.approx(2 / 3)


def test_address_of_several_columns_with_gaps_and_empty_columns():
    """Empty cells, list columns with gaps and columns with no value at all keep one row per input row (pyarrow
    26's element-wise join with null_handling="skip" drops the all-null rows: the matcher crashed on them)."""
    table = pa.table({
        "id": ["1", "2", "3", "4", "5"], "given": ["ann", "", None, "bob", "cy"],
        "surname": ["lee", "kim", "", "", "o"],
        "street_number": ["12", None, "", "7", None], "address_1": ["main street", None, "", "", None],
        "address_2": [None, None, "unit 4", "", None], "suburb": pa.nulls(5, pa.string()),
        "born": ["19800102", "", None, "not a date", "19991231"], "ssn": ["", None, "123", "4 5", None],
    })
    config = MatchConfig(record_id="id", given_name="given", family_name="surname",
                         address=["street_number", "address_1", "address_2"], locality="suburb",
                         date_of_birth="born", date_format="%Y%m%d", id_number="ssn", locale="generic")
    f = build_features(table, config).to_pydict()
    assert f["address"] == ["12 main street", None, "unit 4", "7", None]
    assert f["locality"] == [None] * 5
    assert f["given"] == ["ann", None, None, "bob", "cy"] and f["family"] == ["lee", "kim", None, None, "o"]
    assert f["dob"] == ["1980-01-02", None, None, None, "1999-12-31"]
    assert f["id_number"] == [None, None, "123", "45", None]
