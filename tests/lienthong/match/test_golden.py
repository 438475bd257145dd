"""The set-wise golden records (:func:`golden_table`) equal the per-entity rules (:func:`golden_record`)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime

import pyarrow as pa

from lienthong.match.golden import SURVIVORSHIP, golden_record, golden_table

_T = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
# One entity per tricky case: (entity, record) rows in the order the per-entity rule receives them.
TRICKY: dict[str, list[dict]] = {
    "diacritics beat more words": [
        {"full_name": "Nguyen Thi Minh Hoa", "updated_at": _T[2], "published_seq": 3},
        {"full_name": "Nguyễn Thị Hoa", "updated_at": _T[0], "published_seq": 1}],
    "more words among marked": [
        {"full_name": "Trần Hoa", "updated_at": _T[2], "published_seq": 3},
        {"full_name": "Trần Thị Hoa", "updated_at": _T[0], "published_seq": 1}],
    "equal names: the most recent": [
        {"full_name": "Lê Văn An", "phone": "0901", "updated_at": _T[0], "published_seq": 1},
        {"full_name": "Lê Văn Ân", "phone": "0902", "updated_at": _T[1], "published_seq": 2}],
    "null and empty never survive": [
        {"full_name": "", "phone": None, "address": "", "updated_at": _T[2], "published_seq": 9},
        {"full_name": "Phạm An", "phone": "0912", "address": "12 Hàng Bạc", "updated_at": _T[0], "published_seq": 1}],
    "nothing at all": [{"full_name": None, "updated_at": None, "published_seq": None}],
    "cccd over a newer cmnd": [
        {"id_number": "012345678", "updated_at": _T[2], "published_seq": 5},
        {"id_number": "001234567890", "updated_at": _T[0], "published_seq": 1},
        {"id_number": "009999999999", "updated_at": _T[1], "published_seq": 2}],
    "most frequent sex, tie to the most recent": [
        {"sex": "F", "updated_at": _T[0], "published_seq": 1},
        {"sex": "M", "updated_at": _T[2], "published_seq": 3},
        {"sex": "F", "updated_at": _T[1], "published_seq": 2},
        {"sex": "M", "updated_at": _T[1], "published_seq": 1}],
    "same time, higher seq first; then row order": [
        {"phone": "a", "ward_code": "w1", "updated_at": _T[1], "published_seq": 1},
        {"phone": "b", "ward_code": "w2", "updated_at": _T[1], "published_seq": 2},
        {"phone": "c", "ward_code": "w3", "updated_at": _T[1], "published_seq": 2}],
    "no updated_at goes last": [
        {"address": "new", "updated_at": None, "published_seq": 50},
        {"address": "old", "updated_at": _T[0], "published_seq": 1}],
    "dates as ISO text": [
        {"date_of_birth": date(1990, 5, 1), "updated_at": _T[0], "published_seq": 1},
        {"date_of_birth": date(1991, 5, 1), "updated_at": _T[1], "published_seq": 2}],
}
ORGS = ["HPN", "HND", "DTN", None, ""]


def _as_table(entities: dict[str, list[dict]]) -> pa.Table:
    rows = [{"entity_id": e, **{f: None for f in SURVIVORSHIP}, "organisation": None, **r}
            for e, records in entities.items() for r in records]
    types = {f: pa.string() for f in [*SURVIVORSHIP, "entity_id", "organisation"]}
    types |= {"date_of_birth": pa.date32(), "updated_at": pa.timestamp("us", tz="UTC"), "published_seq": pa.int64()}
    return pa.table({c: pa.array([r[c] for r in rows], t) for c, t in types.items()})


def _set_wise(entities: dict[str, list[dict]], priority=None) -> dict[str, dict]:
    out = golden_table(_as_table(entities), priority).to_pylist()
    return {r["entity_id"]: {"golden": json.loads(r["golden"]), "count": r["record_count"],
                             "organisations": json.loads(r["organisations"])} for r in out}


def _per_entity(entities: dict[str, list[dict]], priority=None) -> dict[str, dict]:
    return {e: {"golden": golden_record(rs, priority), "count": len(rs),
                "organisations": sorted({r["organisation"] for r in rs if r.get("organisation")})}
            for e, rs in entities.items()}


def test_tricky_cases_agree():
    assert _set_wise(TRICKY) == _per_entity(TRICKY)


def test_source_priority_agrees_including_counts_within_the_winning_source():
    entities = {
        "priority org wins over recency": [
            {"id_number": "001234567890", "organisation": "HND", "updated_at": _T[2], "published_seq": 3},
            {"id_number": "012345678", "organisation": "HPN", "updated_at": _T[0], "published_seq": 1}],
        "second listed org when the first has none": [
            {"sex": "F", "organisation": "DTN", "updated_at": _T[2], "published_seq": 3},
            {"sex": "M", "organisation": "HND", "updated_at": _T[0], "published_seq": 1},
            {"sex": None, "organisation": "HPN", "updated_at": _T[1], "published_seq": 2}],
        "frequency among the winner's values only": [
            {"sex": "M", "organisation": "HPN", "updated_at": _T[0], "published_seq": 1},
            {"sex": "F", "organisation": "DTN", "updated_at": _T[1], "published_seq": 2},
            {"sex": "F", "organisation": "DTN", "updated_at": _T[2], "published_seq": 3}],
    }
    priority = {"id_number": ["HPN", "HND"], "sex": ["HPN", "HND"]}
    assert _set_wise(entities, priority) == _per_entity(entities, priority)


def test_random_entities_agree():
    rnd = random.Random(7)
    names = ["Nguyễn Thị Hoa", "Nguyen Thi Hoa", "Nguyễn Hoa", "Nguyễn  Thị Hoa ", "", None, "Hoa"]
    ids = ["001234567890", "012345678", "009876543210", "", None]
    entities = {
        f"E{i}": [{"full_name": rnd.choice(names), "id_number": rnd.choice(ids), "sex": rnd.choice(["F", "M", None]),
                   "phone": rnd.choice(["0901", "0902", None, ""]), "organisation": rnd.choice(ORGS),
                   "date_of_birth": rnd.choice([date(1990, 1, 1), date(1991, 2, 3), None]),
                   "updated_at": rnd.choice([*_T, None]), "published_seq": rnd.choice([1, 2, 3, None])}
                  for _ in range(rnd.randint(1, 6))]
        for i in range(400)}
    priority = {"full_name": ["HND"], "sex": ["DTN", "HPN"]}
    assert _set_wise(entities) == _per_entity(entities)
    assert _set_wise(entities, priority) == _per_entity(entities, priority)


def test_a_tiebreak_column_stands_for_row_order():
    """Rows in any order, ties broken by a key column: the same golden records as rows sorted by that key."""
    rnd = random.Random(3)
    entities = {f"E{i}": [{"phone": f"09{rnd.randrange(100)}", "address": rnd.choice(["a", "b", "c"]),
                           "updated_at": _T[0], "published_seq": 1} for _ in range(rnd.randint(1, 4))]
                for i in range(200)}
    table = _as_table(entities)
    table = table.append_column("key", pa.array([f"k{rnd.randrange(10**6):07d}" for _ in range(table.num_rows)]))
    shuffled = table.take(pa.array(rnd.sample(range(table.num_rows), table.num_rows)))
    assert golden_table(shuffled, tiebreak="key").sort_by("entity_id").equals(
        golden_table(table.sort_by("key")).sort_by("entity_id"))


def test_members_joined_in_give_the_same_golden_records():
    """Records without entity ids plus a members table (record_key, entity_id): the same as the records joined
    first; records no member names are left out."""
    rnd = random.Random(5)
    entities = {f"E{i}": [{"phone": f"09{rnd.randrange(100)}", "full_name": rnd.choice(["Lê An", "Le An", None]),
                           "organisation": rnd.choice(ORGS), "updated_at": rnd.choice(_T), "published_seq": 1}
                          for _ in range(rnd.randint(1, 4))] for i in range(200)}
    table = _as_table(entities)
    table = table.append_column("record_key", pa.array([f"k{i:05d}" for i in range(table.num_rows)]))
    members = table.select(["record_key", "entity_id"]).take(pa.array(rnd.sample(range(table.num_rows),
                                                                                  table.num_rows)))
    records = table.drop_columns(["entity_id"])
    stray = records.slice(0, 3).set_column(records.schema.get_field_index("record_key"), "record_key",
                                           pa.array(["x1", "x2", "x3"]))
    records = pa.concat_tables([records, stray])
    assert golden_table(records, tiebreak="record_key", members=members).sort_by("entity_id").equals(
        golden_table(table, tiebreak="record_key").sort_by("entity_id"))


def test_alone_false_stores_no_golden_record_for_an_entity_of_one_record():
    """What the warehouse stores: entities of one record without a golden record (readers build it from that
    record by the per-entity rules), the others' as before."""
    table = _as_table(TRICKY)
    stored = {r["entity_id"]: r for r in golden_table(table, alone=False).to_pylist()}
    whole = _set_wise(TRICKY)
    for entity, records in TRICKY.items():
        if len(records) == 1:
            assert stored[entity]["golden"] is None
            assert golden_record(records) == whole[entity]["golden"]
        else:
            assert json.loads(stored[entity]["golden"]) == whole[entity]["golden"]
        assert json.loads(stored[entity]["organisations"]) == whole[entity]["organisations"]
