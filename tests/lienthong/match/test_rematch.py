"""Updated records are matched again through the real match stage: a correction that joins, one that separates."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import insert, select, update

from lienthong.match.config import members_config
from lienthong.match.features import build_features
from lienthong.match.rematch import regroup
from lienthong.match.stage import default_model, match_dataset
from lienthong.warehouse import tables_match as T
from lienthong.warehouse.tables import PUBLISHED, publication
from tests.lienthong.match.conftest import VI
from tests.lienthong.match.test_stage import _publish


def _key(sample, record_id: str) -> str:
    org = sample.records.filter(pa.compute.equal(sample.records.column("record_id"), record_id))
    return f"{org.column('organisation')[0].as_py().lower()}_files:{record_id}"


def _people(sample) -> dict[int, list[dict]]:
    """Person -> their records' comparison columns (with record_id), people of kind 'person' only."""
    features = build_features(sample.records, VI).to_pylist()
    out: dict[int, list[dict]] = {}
    for f, t in zip(features, sample.truth.to_pylist(), strict=True):
        if t["kind"] == "person":
            out.setdefault(t["person_id"], []).append({**f, "record_id": t["record_id"]})
    return out


def _entity(engine) -> dict[str, str]:
    links = T.links(engine, "members")
    return dict(zip(links.column("record_key").to_pylist(), links.column("entity_id").to_pylist(), strict=True))


def _update(engine, key: str, **values) -> None:
    """Change a published record as the publish stage does: new values, version, published_seq, updated_at."""
    table, now = PUBLISHED["members"], dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        seq = conn.execute(insert(publication).values(dataset="members", published_at=now, batch_ids=[],
                                                      rows_inserted=0, rows_updated=1).returning(publication.c.seq)
                           ).scalar_one()
        conn.execute(update(table).where(table.c.record_key == key).values(
            **values, version=table.c.version + 1, published_seq=seq, updated_at=now))


def _history(engine) -> list[tuple]:
    h = T.match_history
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(h.c.event, h.c.entity_id, h.c.other_entity_id, h.c.detail))]


@pytest.mark.slow
def test_a_corrected_record_joins_its_person_and_a_changed_one_leaves(engine, sample):
    people = _people(sample)
    # a person whose records all carry one CCCD and the same birth date: what a correction restores
    join = next(recs for recs in people.values() if len(recs) >= 2 and all(
        r["id_kind"] == "cccd" and r["dob"] for r in recs) and len({r["id_number"] for r in recs}) == 1
        and len({r["dob"] for r in recs}) == 1)
    leave = next(recs for p, recs in people.items() if len(recs) >= 3 and recs is not join and all(
        r["id_kind"] == "cccd" for r in recs) and len({r["id_number"] for r in recs}) == 1)
    wrong = join[0]["record_id"]
    n = sample.records.num_rows
    _publish(engine, sample, list(range(n)), seq=1)
    x = _key(sample, wrong)
    # before the first run, the record was typed with a birth date 30 years off and no CCCD: a person apart
    born = dt.date.fromisoformat(join[0]["dob"])
    _update(engine, x, date_of_birth=born.replace(year=born.year - 30), id_number=None, phone=None)
    match_dataset(engine)
    before = _entity(engine)
    others = [_key(sample, r["record_id"]) for r in join[1:]]
    assert before[x] != before[others[0]]

    # the clerk corrects the date and the CCCD: the record joins its person's entity, the one it left is merged
    _update(engine, x, date_of_birth=born, id_number=join[0]["id_number"])
    # another record gets a different person's CCCD: it cannot stay with records of another CCCD
    y = _key(sample, leave[0]["record_id"])
    other_cccd = leave[0]["id_number"][:6] + str((int(leave[0]["id_number"][6:]) + 4321) % 10**6).zfill(6)
    _update(engine, y, id_number=other_cccd)
    stats = match_dataset(engine)
    assert stats["records_changed"] == 2
    after = _entity(engine)
    assert after[x] == after[others[0]]
    assert ("merged", before[x], after[x], None) in _history(engine)
    rest = [_key(sample, r["record_id"]) for r in leave[1:]]
    assert after[y] != before[y]
    assert all(after[k] == before[rest[0]] for k in rest)  # the others of that person stay where they were
    splits = [h for h in _history(engine) if h[0] == "split"]
    assert (before[y], after[y]) in [(h[1], h[2]) for h in splits]
    assert next(h for h in splits if h[1] == before[y])[3]["record_keys"] == [y]
    with engine.connect() as conn:  # the golden record of the entity the record left no longer counts it
        count = conn.execute(select(T.match_entity.c.record_count).where(
            T.match_entity.c.entity_id == before[y])).scalar()
    assert count == sum(1 for e in after.values() if e == before[y])

    again = match_dataset(engine)  # republished for their new entity, not changed: nothing to do again
    assert again["records"] == 0 and _entity(engine) == after


def test_an_entity_that_no_longer_holds_together_is_split():
    """Two people were one entity only through the record that changed: without it they come apart."""
    table = pa.table({
        "record_key": ["a", "b"], "full_name": ["Nguyễn Văn An", "Trần Thị Bích"],
        "date_of_birth": pa.array([dt.date(1970, 1, 2), dt.date(1991, 5, 6)]), "sex": ["1", "2"],
        "ward_code": ["00004", "26734"], "id_number": [None, None], "phone": ["0912345678", "0987654321"],
        "family_name": ["Nguyễn", "Trần"], "middle_name": ["Văn", "Thị"], "given_name": ["An", "Bích"],
    })
    config = members_config()
    registry = build_features(table, config)
    moved = regroup({"x": "E2"}, {"E2"}, {"x": "E1"}, registry, pa.array(["E1", "E1"]), default_model("members"),
                    config, namespace="members")
    assert moved.moved == {"x": "E2", "b": moved.splits[0][1]}
    assert moved.splits == [("E1", moved.moved["b"], {"record_keys": ["b"], "why": "a record of it changed"})]


def _version(engine, key: str) -> int:
    table = PUBLISHED["members"]
    with engine.connect() as conn:
        return conn.execute(select(table.c.version).where(table.c.record_key == key)).scalar_one()


@pytest.mark.slow
def test_a_change_that_keeps_the_entity_is_published_once(engine, sample):
    people = _people(sample)
    recs = next(recs for recs in people.values() if len(recs) >= 3 and all(r["id_kind"] == "cccd" for r in recs)
                and len({r["id_number"] for r in recs}) == 1)
    _publish(engine, sample, list(range(sample.records.num_rows)), seq=1)
    match_dataset(engine)
    before = _entity(engine)
    x = _key(sample, recs[0]["record_id"])
    # a new phone number: a change of the values (published once, by the publish stage), not of the person
    _update(engine, x, phone="0987654321")
    published = _version(engine, x)
    stats = match_dataset(engine)
    assert stats["records_changed"] == 1
    assert _entity(engine)[x] == before[x]
    # a consumer following the change feed sees this change once: the match did not publish the record again
    assert _version(engine, x) == published
