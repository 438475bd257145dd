"""Generated data built to tempt disclosure, loaded through the real pipeline into a fresh warehouse.

Province 01 has two wards: ward 00070 with 20 Kinh members and 3 Tày members (the tempting cell), ward 00004 with
15 Kinh members; province 04 has one ward with 7 members. One person (SUBJECT) is a member in two sources'
files (one a later re-delivery), has a quarantined row (impossible date) and received relief.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest

from lienthong.hub import Hub
from lienthong.pipeline import publish_all, sync_source
from tests.conftest import new_database
from tests.lienthong.conftest import HEADER, file_source, hub_factory

SUBJECT = {"name": "Hoàng Thị Bímật", "id": "001185099999", "phone": "0912999999"}
RELIEF_MAPPING = {"record_id": "ma", "campaign": "dot", "role": "loai", "party_name": "ten", "id_number": "cccd",
                  "organisation": "to_chuc", "ward_code": "ma_xa", "amount_vnd": "so_tien",
                  "transaction_date": "ngay"}


@dataclass
class Person:
    member_id: str
    name: str
    id_number: str
    phone: str
    ethnicity: str
    ward: str


def people() -> list[Person]:
    given = ["An", "Bình", "Chi", "Dung", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nga", "Oanh", "Phúc", "Quyên"]
    out, n = [], 0

    def add(ward: str, ethnicity: str, count: int) -> None:
        nonlocal n
        for _ in range(count):
            n += 1
            name = f"Phạm Thị {given[n % len(given)]}{'' if n < len(given) else ' ' + given[(n // 13) % 13]}"
            out.append(Person(f"HV{n:03d}", name, f"001185{n:06d}", f"0912{n:06d}", ethnicity, ward))

    add("00070", "Kinh", 20)
    add("00070", "Tày", 3)  # the tempting cell: 3 members of one ethnicity in one ward
    add("00004", "Kinh", 15)
    add("01273", "Kinh", 7)
    return out


def member_row(p: Person, dob: str = "01/02/1985") -> str:
    return (f"{p.member_id};{p.name};Nữ;{dob};{p.id_number};{p.phone};{p.ethnicity};Không;{p.ward};"
            f"Số {p.member_id[2:]} Hàng Bạc;Chi hội 1;01/01/2010;active")


@dataclass
class Fixture:
    hub: Hub
    people: list[Person]
    drop: Path


def build_warehouse(make_hub, tmp_path: Path, url: str) -> Fixture:
    drop = tmp_path / "drop"
    (drop / "m").mkdir(parents=True)
    (drop / "r").mkdir(parents=True)
    crowd = people()
    subject = Person("HV900", SUBJECT["name"], SUBJECT["id"], SUBJECT["phone"], "Kinh", "00004")
    rows = [member_row(p) for p in crowd] + [member_row(subject)]
    (drop / "m" / "a.csv").write_text("\ufeff" + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    # a re-delivery with the subject's phone written differently, and a quarantined row of theirs (31/02)
    later = [member_row(Person("HV900", SUBJECT["name"], "001 185 099 999", "+84 912 999 999", "Kinh", "00004")),
             member_row(Person("HV901", SUBJECT["name"], SUBJECT["id"], SUBJECT["phone"], "Kinh", "00004"),
                        dob="31/02/1985")]
    (drop / "m" / "b.csv").write_text("\ufeff" + "\n".join([HEADER, *later]) + "\n", encoding="utf-8")
    relief = [{"ma": f"R{i}", "dot": "YAGI-2024", "loai": "beneficiary", "ten": p.name, "cccd": p.id_number,
               "to_chuc": "MTTQ", "ma_xa": p.ward, "so_tien": "2000000", "ngay": "2024-10-01"}
              for i, p in enumerate([*crowd[:12], subject])]
    relief += [{"ma": f"D{i}", "dot": "YAGI-2024", "loai": "donor", "ten": f"Công ty {i}", "cccd": None,
                "to_chuc": "MTTQ", "ma_xa": "00070", "so_tien": "10000000", "ngay": "2024-09-20"} for i in range(8)]
    (drop / "r" / "r.json").write_text(json.dumps({"data": relief}, ensure_ascii=False), encoding="utf-8")
    sources = [file_source(drop / "m"),
               {"id": "relief_files", "title": "Relief", "organisation": "MTTQ", "dataset": "relief",
                "connector": {"type": "files", "path": str(drop / "r"), "pattern": "*.json",
                              "records_path": "data"},
                "mapping": RELIEF_MAPPING}]
    hub = make_hub(sources, url)
    for source in hub.sources.values():
        sync_source(hub, source)
    publish_all(hub, ["members", "relief"])
    return Fixture(hub, crowd, drop)


@pytest.fixture
def tempting(make_hub, tmp_path: Path, warehouse_url: str) -> Fixture:
    """The tempting data set, synced and published on SQLite and on PostgreSQL."""
    return build_warehouse(make_hub, tmp_path, warehouse_url)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def tempting_read(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    """:func:`tempting`, built once per module and engine, for the tests that only read it."""
    folder = tmp_path_factory.mktemp("tempting")
    sqlite = request.param == "sqlite"
    with nullcontext(f"sqlite:///{folder / 'warehouse.db'}") if sqlite else new_database() as url:
        fx = build_warehouse(hub_factory(folder), folder, url)
        yield fx
        fx.hub.engine.dispose()
