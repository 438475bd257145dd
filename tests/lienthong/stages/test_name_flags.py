"""Names that are not names — markup, code, formulas, no letter at all — are refused by the clean stage, and
``lienthong check`` refuses exactly the rows a push refuses, a 1 MB name or address included (issue 12, rows 14
and 15)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from catalog import load_code_lists
from lienthong.cleaning.names import ISSUES, not_a_name
from lienthong.normalize import normalize_table, rejected_rows
from lienthong.stages.clean import clean_batch
from lienthong.stages.process import check_records
from schemas import Member
from tests.lienthong.conftest import MEMBER_COLUMNS, HubFactory, file_source
from tests.lienthong.stages.test_clean import batch

LISTS = load_code_lists()
HOSTILE = ["<script>alert(1)</script>", '{"a": [1, 2]}', '{"A": [1, 2]}', "'; DROP TABLE pub_members;--",
           '=HYPERLINK("http://evil.example","Bấm")', "12345", "---", "<b>Lan</b>", "Lan | Mai", "a\\b"]
REAL = ["Nguyễn Thị Hoà", "H'Hen Niê", "Ksor H'Mi", "Y Moan Ênuôl", "Lê-Nguyễn Minh Châu", "Ng. V. An",
        "Trần Thị (Bé) Ba", "Đinh Thị Ngọc Ánh", "Phạm Văn Đồng II", "ĐỖ VĂN BA"]


def test_markup_code_formulas_and_letterless_values_are_not_names_and_real_names_are() -> None:
    flags = not_a_name(pa.array([*HOSTILE, *REAL, None])).to_pylist()
    assert flags[:len(HOSTILE)] == ["name_markup"] * 5 + ["name_no_letters"] * 2 + ["name_markup"] * 3
    assert flags[len(HOSTILE):] == [None] * (len(REAL) + 1)
    assert all(ISSUES[c].message_vi and ISSUES[c].severity == "rejected" for c in ("name_markup", "name_no_letters"))


def test_the_clean_stage_withholds_such_a_name_with_a_vietnamese_reason() -> None:
    cleaned = clean_batch(batch(full_name=[*HOSTILE, "Nguyễn Thị Hoà"], member_id=[str(i) for i in range(11)]),
                          Member, LISTS)
    names = cleaned.table.column("full_name").to_pylist()
    assert names == [None] * len(HOSTILE) + ["Nguyễn Thị Hòa"]  # never published as a full_name
    assert cleaned.table.column("given_name").to_pylist()[:len(HOSTILE)] == [None] * len(HOSTILE)
    assert sorted(cleaned.reasons) == list(range(len(HOSTILE)))
    for row, reasons in cleaned.reasons.items():
        (reason,) = reasons
        assert reason.rule in ("name_markup", "name_no_letters") and reason.column == "full_name"
        assert "không phải là tên người" in reason.message_vi
        assert reason.value != HOSTILE[row] or len(HOSTILE[row]) <= 4  # masked: a name is a direct identifier


def test_a_quote_before_a_formula_character_is_taken_off_every_text_field() -> None:
    cleaned = clean_batch(batch(full_name=["'=HYPERLINK(1)", "Lê Thị Mai"], address=["'-Số 5 ngõ 3", "'Số 1"],
                                member_id=["1", "2"], branch=["'@Chi hội 2", "'+Chi hội 3"]), Member, LISTS)
    rows = cleaned.table.select(["full_name", "address", "branch"]).to_pylist()
    assert rows == [{"full_name": None, "address": "-Số 5 ngõ 3", "branch": "@Chi hội 2"},
                    {"full_name": "Lê Thị Mai", "address": "'Số 1", "branch": "+Chi hội 3"}]
    assert [r.rule for r in cleaned.reasons[0]] == ["name_markup"]


def _member_records(rows: list[tuple[str, str, str]]) -> pa.Table:
    """A members feed as read from a file: the source's columns, every value a string. Built in memory: reading
    a 1 MB cell from a file is the readers' business (their cell-size limit), agreeing on it is this test's."""
    values = {"sex": "Nữ", "date_of_birth": "01/02/1985", "id_number": "", "phone": "", "ethnicity_code": "Kinh",
              "religion_code": "Không", "ward_code": "00070", "branch": "Chi hội 1", "joined_on": "",
              "status": "active"}
    columns = {column: [values.get(f, "") for _ in rows] for f, column in MEMBER_COLUMNS.items()}
    columns[MEMBER_COLUMNS["member_id"]] = [r[0] for r in rows]
    columns[MEMBER_COLUMNS["full_name"]] = [r[1] for r in rows]
    columns[MEMBER_COLUMNS["address"]] = [r[2] for r in rows]
    return pa.table({c: pa.array([v or None for v in vs], pa.string()) for c, vs in columns.items()})


def test_check_refuses_the_rows_a_push_refuses(make_hub: HubFactory, tmp_path: Path) -> None:
    rows = [("HV200", "Nguyễn Thị Hoà", "Số 1 Hàng Bạc")]
    rows += [(f"HV{201 + i}", name, "") for i, name in enumerate(HOSTILE)]
    rows += [("HV300", "Nguyễn Văn " + "An" * 500_000, ""),  # a 1 MB name
             ("HV301", "Trần Thị Lan", "Số 1 " + "ngõ 3 " * 170_000),  # a 1 MB address
             ("HV302", "Lê Thị Mai", "")]
    records = _member_records(rows)
    hub = make_hub([file_source(tmp_path, "hlhpn_files")])
    pushed = check_records(records, hub.sources["hlhpn_files"], hub.code_lists)
    refused_by_push = {q.row_no: {r["rule"] for r in q.reasons} for q in pushed.rejected}
    checked = rejected_rows(normalize_table(records))
    assert {row for row, _ in checked} == set(refused_by_push) == set(range(1, len(HOSTILE) + 3))
    assert refused_by_push[len(HOSTILE) + 1] == {"max_length"} and refused_by_push[len(HOSTILE) + 2] == {"max_length"}
    said = dict(checked)
    assert any("dài quá 120 ký tự" in r for r in said[len(HOSTILE) + 1])  # the push's own words
    assert any("dài quá 300 ký tự" in r for r in said[len(HOSTILE) + 2])
    assert all(any("không phải là tên người" in r for r in said[row]) for row in range(1, len(HOSTILE) + 1))
    hub.engine.dispose()
