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


def test_relief_flags_from_the_warehouse_and_the_command_line(make_hub, tmp_path):
    import json
    import os

    from lienthong.match.relief import relief_flags
    from lienthong.pipeline import publish_all, sync_source
    from tests.lienthong.cli.in_process import run_cli

    drop = tmp_path / "drop"
    drop.mkdir()
    rows = [("GD1", "HLHPN", "001185012345", 1_000_000), ("GD2", "MTTQ", "001 185 012 345", 2_000_000),
            ("GD3", "HND", "079190123456", 500_000)]
    (drop / "cuu_tro.json").write_text(json.dumps({"data": [
        {"ma_giao_dich": rid, "dot_van_dong": "YAGI-2024", "loai": "beneficiary", "ten_ca_nhan_don_vi": "Hộ bà Lan",
         "so_cccd": cccd, "to_chuc": org, "ma_xa": "00070", "so_tien": amount, "ngay_giao_dich": "2024-09-20"}
        for rid, org, cccd, amount in rows]}, ensure_ascii=False), encoding="utf-8")
    mapping = {"record_id": "ma_giao_dich", "campaign": "dot_van_dong", "role": "loai",
               "party_name": "ten_ca_nhan_don_vi", "id_number": "so_cccd", "organisation": "to_chuc",
               "ward_code": "ma_xa", "amount_vnd": "so_tien", "transaction_date": "ngay_giao_dich"}
    source = {"id": "relief_files", "title": "Relief", "organisation": "MTTQ", "dataset": "relief",
              "connector": {"type": "files", "path": str(drop), "pattern": "*.json", "records_path": "data"},
              "mapping": mapping}
    hub = make_hub([source])
    sync_source(hub, hub.source("relief_files"))
    publish_all(hub, ["relief"])

    [flag] = relief_flags(hub.engine).to_pylist()
    assert flag["organisations"] == ["HLHPN", "MTTQ"] and flag["amount_vnd"] == 3_000_000
    env = {**os.environ, "LIENTHONG_DATABASE_URL": str(hub.engine.url.render_as_string(hide_password=False)),
           "LIENTHONG_HOME": str(hub.settings.home), "LIENTHONG_SOURCES_DIR": str(hub.settings.sources_dir),
           "COLUMNS": "200"}
    shown = run_cli("review", "relief", env=env)  # the command's main(), in this process
    assert shown.returncode == 0, shown.stderr
    assert "HLHPN, MTTQ" in shown.stdout and "3,000,000" in shown.stdout
    assert "001185012345" not in shown.stdout, "no ID number shown"
