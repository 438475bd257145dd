"""The match stage over a real (SQLite) warehouse: first run, incremental run, review decisions, history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select

from lienthong.match.feature_cache import FeatureCache
from lienthong.match.features import build_features
from lienthong.match.review import apply_decision
from lienthong.match.stage import match_dataset
from lienthong.warehouse import tables_match as T
from lienthong.warehouse.tables import PUBLISHED
from tests.lienthong.match.conftest import VI


def _publish(engine, sample, rows, seq):
    """Put generated records into pub_members as the publish stage would: cleaned date, ID, phone, sex code."""
    records = sample.records.take(rows)
    f = build_features(records, VI).to_pylist()
    now = dt.datetime.now(dt.UTC)
    values = [{
        "record_key": f"{r['organisation'].lower()}_files:{r['record_id']}", "source_id": "test",
        "batch_id": "b", "row_no": i, "member_id": r["record_id"], "full_name": r["full_name"],
        "sex": {"M": "1", "F": "2"}.get(c["sex"]),
        "date_of_birth": dt.date.fromisoformat(c["dob"]) if c["dob"] else None,
        "id_number": c["id_number"], "phone": c["phone"],
        "ward_code": r["ward_code"], "address": r["address"], "organisation": r["organisation"], "version": 1,
        "published_seq": seq, "updated_at": now, "deleted": False,
    } for i, (r, c) in enumerate(zip(records.to_pylist(), f, strict=True))]
    with engine.begin() as conn:
        conn.execute(insert(PUBLISHED["members"]), values)


def test_first_run_then_incremental_batch(engine, sample, tmp_path):
    n = sample.records.num_rows
    _publish(engine, sample, list(range(0, n - 400)), seq=1)
    first = match_dataset(engine, cache_dir=tmp_path / "cache", report_dir=tmp_path / "reports")
    assert "match weights" in Path(first["report"]).read_text(encoding="utf-8")
    assert first["mode"] == "full"
    links_before = T.links(engine, "members")
    assert links_before.num_rows == n - 400
    assert T.latest_model(engine, "members") is not None
    with engine.connect() as conn:
        entities = conn.execute(select(func.count()).select_from(T.match_entity)).scalar()
        golden = conn.execute(select(T.match_entity.c.golden)).first()[0]
    assert entities < links_before.num_rows  # duplicates were resolved
    assert golden["full_name"]

    again = match_dataset(engine, cache_dir=tmp_path / "cache")  # nothing new: nothing changes
    assert again["records"] == 0
    _publish(engine, sample, list(range(n - 400, n)), seq=2)
    second = match_dataset(engine, cache_dir=tmp_path / "cache")
    assert second["mode"] == "incremental" and second["records"] == 400
    after = T.links(engine, "members")
    assert after.num_rows == n
    before = dict(zip(links_before.column("record_key").to_pylist(), links_before.column("entity_id").to_pylist(),
                      strict=True))
    now = dict(zip(after.column("record_key").to_pylist(), after.column("entity_id").to_pylist(), strict=True))
    with engine.connect() as conn:
        merged = dict(conn.execute(select(T.match_history.c.entity_id, T.match_history.c.other_entity_id)
                                   .where(T.match_history.c.event == "merged")).all())
    # published ids never change silently: a record keeps its entity unless a recorded merge moved it
    assert all(now[k] == merged.get(e, e) for k, e in before.items())
    new_keys = set(now) - set(before)
    assert sum(now[k] in set(before.values()) for k in new_keys) > 50  # attached to existing people
    parts = sorted((tmp_path / "cache" / "members-features").glob("part-*.parquet"))
    assert len(parts) == 2 and sum(pq.read_metadata(p).num_rows for p in parts) == n  # the batch's part added
    assert FeatureCache.of(tmp_path / "cache", "members").covers(*T.link_summary(engine, "members"))


def test_review_decisions_are_applied_and_remembered(engine, sample):
    _publish(engine, sample, list(range(sample.records.num_rows)), seq=1)
    match_dataset(engine)
    links = T.links(engine, "members")
    entity = dict(zip(links.column("record_key").to_pylist(), links.column("entity_id").to_pylist(), strict=True))
    # a pair inside one entity, put on the queue by hand, then rejected: the record is split out
    sizes = pc.value_counts(links.column("entity_id"))
    big = next(v["values"] for v in sizes.to_pylist() if v["counts"] >= 2)
    left, right = sorted(k for k, e in entity.items() if e == big)[:2]
    with engine.begin() as conn:
        item = conn.execute(insert(T.match_review).values(
            dataset="members", record_key_l=left, record_key_r=right, match_probability=0.9, status="open",
            created_at=dt.datetime.now(dt.UTC))).inserted_primary_key[0]
    outcome = apply_decision(engine, item, "rejected", "tester")
    assert "moved out" in outcome["effect"]
    links = T.links(engine, "members")
    entity = dict(zip(links.column("record_key").to_pylist(), links.column("entity_id").to_pylist(), strict=True))
    assert entity[left] != entity[right]
    assert T.decisions(engine, "members")[1] == [(left, right)]
    with engine.connect() as conn:
        events = [r[0] for r in conn.execute(select(T.match_history.c.event))]
    assert "split" in events
    counts = _entity_counts(engine)  # golden records rebuilt at once: the split-off record is an entity of its own
    assert counts[entity[right]] == 1 and counts[entity[left]] == sum(1 for e in entity.values() if e == entity[left])
    # accepting it again merges them back, recorded as a merge
    assert "merged" in apply_decision(engine, item, "accepted", "tester")["effect"]
    links = T.links(engine, "members")
    merged = dict(zip(links.column("record_key").to_pylist(), links.column("entity_id").to_pylist(), strict=True))
    assert _entity_counts(engine)[merged[left]] == sum(1 for e in merged.values() if e == merged[left])


def _entity_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(T.match_entity.c.entity_id, T.match_entity.c.record_count)
                                 .where(T.match_entity.c.status == "active")).all())


def test_the_default_model_is_retrained_only_when_the_registry_has_grown():
    from lienthong.match.stage import MIN_TRAINING_RECORDS, _time_to_train

    assert _time_to_train(None, 10**6) is False  # no model at all is the caller's first case
    assert _time_to_train(5_000, 10**6) is False  # a trained model stays
    assert _time_to_train(0, MIN_TRAINING_RECORDS - 1) is False and _time_to_train(0, MIN_TRAINING_RECORDS)
    assert _time_to_train(-200_000, 399_999) is False  # EM failed at 200,000: not again on every run
    assert _time_to_train(-200_000, 400_000)
