"""Electronic agency identifiers (QĐ 20/2020/QĐ-TTg): the format, the shipped data file, and sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from catalog import agency_id_of, get_code_list, validate_agency_id
from catalog.agency_ids import AGENCY_IDS_PATH, read_agency_ids
from lienthong.errors import ConfigError
from lienthong.registry import load_source
from tests.lienthong.conftest import file_source

ORGS = {"MTTQ", "HLHPN", "HND"}


@pytest.mark.parametrize("value", ["000.00.00.G22", "G22", "H29.01", "A" * 35, "000.00.00.G22.1"])
def test_valid_identifiers(value: str) -> None:
    assert validate_agency_id(value) == value


@pytest.mark.parametrize("value", ["", "000.00.00.g22", "A" * 36, "000 00 00 G22", "000-00-00-G22", "Đ01", None])
def test_invalid_identifiers(value: object) -> None:
    with pytest.raises(ValueError, match="QĐ 20/2020"):
        validate_agency_id(value)  # type: ignore[arg-type]


def test_shipped_file_has_only_placeholders_for_every_organisation() -> None:
    entries = read_agency_ids()
    assert set(entries) == set(get_code_list("organisations").codes)
    # no official code of the Front or its members is published: none is made up
    assert all(e.status == "placeholder" and e.agency_id is None and e.basis for e in entries.values())
    assert agency_id_of("HLHPN") is None and agency_id_of("NOPE") is None


def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "agency_ids.csv"
    path.write_text("organisation,agency_id,status,basis\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_an_operator_fills_in_assigned_identifiers(tmp_path: Path) -> None:
    path = _write(tmp_path, "MTTQ,T99.00.00.Z01,assigned,connection account 2026", "HND,,placeholder,to fill")
    entries = read_agency_ids(path, organisations=ORGS)
    assert entries["MTTQ"].agency_id == "T99.00.00.Z01" and entries["HND"].agency_id is None


@pytest.mark.parametrize(("row", "message"), [
    ("HND,T99.00.00.Z01,placeholder,x", "a placeholder has no identifier"),
    ("HND,,assigned,x", "needs its agency_id"),
    ("HND,t99.lower,assigned,x", "line 2: 't99.lower' is not"),
    ("XYZ,,placeholder,x", "unknown organisation 'XYZ'"),
    ("HND,,official,x", "status 'official'"),
])
def test_invalid_rows_are_refused_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_agency_ids(_write(tmp_path, row), organisations=ORGS)


def test_one_identifier_for_one_organisation(tmp_path: Path) -> None:
    path = _write(tmp_path, "HND,T99.00.00.Z01,assigned,x", "MTTQ,T99.00.00.Z01,assigned,x")
    with pytest.raises(ValueError, match="line 3: T99.00.00.Z01 is already the identifier of HND"):
        read_agency_ids(path, organisations=ORGS)
    with pytest.raises(ValueError, match="listed twice"):
        read_agency_ids(_write(tmp_path, "HND,,placeholder,x", "HND,,placeholder,y"), organisations=ORGS)


def test_a_source_carries_a_validated_agency_id(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text(yaml.safe_dump(file_source(tmp_path, agency_id="T99.01.02.H29")), encoding="utf-8")
    assert load_source(path).agency_id == "T99.01.02.H29"
    path.write_text(yaml.safe_dump(file_source(tmp_path)), encoding="utf-8")
    assert load_source(path).agency_id == agency_id_of("HLHPN")  # default: its organisation's
    path.write_text(yaml.safe_dump(file_source(tmp_path, agency_id="h29 01")), encoding="utf-8")
    with pytest.raises(ConfigError, match="agency_id"):
        load_source(path)


def test_the_data_file_is_next_to_the_code_lists() -> None:
    assert AGENCY_IDS_PATH.parent.name == "data" and (AGENCY_IDS_PATH.parent / "organisations.csv").is_file()


def test_is_agency_id_tells_a_member_code_that_is_an_agency_identifier():
    from catalog.agency_ids import is_agency_id

    assert is_agency_id("000.00.00.H55") and is_agency_id("G22")
    assert not is_agency_id("hub-1") and not is_agency_id("000.00.00.h55") and not is_agency_id("")
