"""Beneficiaries supported by several organisations in one campaign are flagged; namesakes are not."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.demo.generator import generate_relief
from lienthong.match.relief import flag_multi_org


def _rows(*rows):
    names = ["record_id", "campaign", "role", "party_name", "id_number", "organisation", "ward_code", "amount_vnd"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.int64() if n == "amount_vnd" else pa.string())
                     for i, n in enumerate(names)})


def test_same_id_two_organisations_same_campaign():
    flags = flag_multi_org(_rows(
        ("1", "YAGI", "beneficiary", "Hộ bà Nguyễn Thị Lan", "001185012345", "HLHPN", "00070", 1_000_000),
        ("2", "YAGI", "beneficiary", "Nguyen Thi Lan", "001 185 012 345", "MTTQ", "00070", 2_000_000),
        ("3", "YAGI", "beneficiary", "Nguyễn Thị Lan", None, "HND", "00070", 500_000),  # a namesake, maybe
        ("4", "TET", "beneficiary", "Nguyễn Thị Lan", "001185012345", "HND", "00070", 500_000),  # other campaign
        ("5", "YAGI", "donor", "Nguyễn Thị Lan", "001185012345", "HCTD", "00070", 100_000),  # a donation
    )).to_pylist()
    assert flags == [{"campaign": "YAGI", "beneficiary": "1", "organisations": ["HLHPN", "MTTQ"],
                      "record_ids": ["1", "2"], "evidence": "id_number", "amount_vnd": 3_000_000}]


def test_flags_on_generated_relief_are_the_same_person():
    sample = generate_relief(20_000, seed=3)
    records = sample.records.filter(pc.is_null(sample.truth.column("error")))
    truth = sample.truth.filter(pc.is_null(sample.truth.column("error")))
    # 200 beneficiaries with an ID also helped by another organisation in the same campaign
    helped = pc.and_(pc.equal(records.column("role"), "beneficiary"), pc.is_valid(records.column("id_number")))
    again = records.filter(helped).slice(0, 200)
    other = pc.if_else(pc.equal(again.column("organisation"), "MTTQ"), "HLHPN", "MTTQ")
    again = again.set_column(again.column_names.index("organisation"), "organisation", other)
    again = again.set_column(0, "record_id", pc.binary_join_element_wise(again.column("record_id"), "b", ""))
    person = dict(zip(truth.column("record_id").to_pylist(), truth.column("person_id").to_pylist(), strict=True))
    person.update({f"{r}b": person[r] for r in records.filter(helped).slice(0, 200).column("record_id").to_pylist()})
    flags = flag_multi_org(pa.concat_tables([records, again])).to_pylist()
    assert len(flags) >= 200
    assert all(len({person[r] for r in f["record_ids"]}) == 1 for f in flags)
