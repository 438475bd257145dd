"""The match stage a part at a time: a registry larger than ``part_rows`` is matched in parts that reconcile,
resume after a stop between parts, and find the same people as one run over everything."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import create_engine, func, select

from lienthong.demo.match_sample import pairwise_scores
from lienthong.match import stage
from lienthong.match.config import members_config
from lienthong.match.feature_cache import FeatureCache
from lienthong.match.stage import _match_part, _published, _training_sample, match_dataset
from lienthong.warehouse import tables_match as T
from lienthong.warehouse.migrate import upgrade
from lienthong.warehouse.tables import PUBLISHED
from tests.lienthong.match.test_stage import _publish


def _links(engine) -> dict[str, str]:
    links = T.links(engine, "members")
    return dict(zip(links.column("record_key").to_pylist(), links.column("entity_id").to_pylist(), strict=True))


def _scores(engine, sample):
    links = _links(engine)
    keys = sorted(links)
    return pairwise_scores(pa.array([k.split(":", 1)[1] for k in keys]), pa.array([links[k] for k in keys]),
                           sample.truth)


def _runs(engine) -> list[tuple[int, int]]:
    """(records, up_to_seq) of each finished run, in order."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(T.match_run.c.records, T.match_run.c.up_to_seq)
                                               .where(T.match_run.c.finished_at.is_not(None))
                                               .order_by(T.match_run.c.run_id))]


@pytest.mark.parametrize("scored_from_files", [False, True], ids=["loaded", "from-files"])
def test_a_registry_larger_than_a_part_is_matched_in_parts_as_well_as_whole(engine, sample, tmp_path, monkeypatch,
                                                                            scored_from_files):
    if scored_from_files:  # a part as large as a national registry's: scored from the cache's files
        monkeypatch.setattr(stage, "SCORED_FROM_FILES", 0)
    n = sample.records.num_rows
    _publish(engine, sample, list(range(n)), seq=1)
    stats = match_dataset(engine, cache_dir=tmp_path / "cache", part_rows=1_100)
    assert stats["parts"] == 3 and stats["records"] == n and stats["mode"] == "full"
    assert [records for records, _ in _runs(engine)] == [1_100, 1_100, n - 2_200]
    # the cursor stays put until the last part: a stop between parts leaves the rest to match
    assert [seq for _, seq in _runs(engine)][:2] == [0, 0] and _runs(engine)[-1][1] >= 1
    links = _links(engine)
    assert len(links) == n
    with engine.connect() as conn:
        active = dict(conn.execute(select(T.match_entity.c.entity_id, T.match_entity.c.record_count)
                                   .where(T.match_entity.c.status == "active")).all())
        notes = conn.execute(select(T.match_model.c.notes)).scalar()
    assert sum(active.values()) == n and set(links.values()) == set(active)  # every record counted once
    assert any("drawn at random from" in note for note in notes)
    # record keys start with the organisation: each part holds other organisations, whose members are found in
    # the parts before it
    whole = create_engine(f"sqlite:///{tmp_path / 'whole.db'}")
    upgrade(whole)
    _publish(whole, sample, list(range(n)), seq=1)
    match_dataset(whole)
    in_parts, at_once = _scores(engine, sample), _scores(whole, sample)
    assert at_once.f1 > 0.9
    assert in_parts.f1 >= at_once.f1 - 0.02 and in_parts.precision >= at_once.precision - 0.01
    assert match_dataset(engine, cache_dir=tmp_path / "cache", part_rows=1_100)["records"] == 0


def test_a_run_stopped_between_parts_resumes_with_what_is_not_linked(engine, sample, tmp_path):
    n = sample.records.num_rows
    _publish(engine, sample, list(range(n)), seq=1)
    config = members_config()
    first, next_key = _match_part(engine, "members", config, retrain=False, priority=None,
                                  cache_dir=tmp_path / "cache", part_rows=1_500, after_key=None)
    assert first["records"] == 1_500 and next_key is not None
    assert T.last_run_seq(engine, "members") == 0  # the process stops here: the cursor did not move
    linked = _links(engine)
    resumed = match_dataset(engine, cache_dir=tmp_path / "cache", part_rows=1_500)
    assert resumed["records"] == n - 1_500 and resumed["mode"] == "incremental"
    after = _links(engine)
    assert len(after) == n
    with engine.connect() as conn:
        merged = dict(conn.execute(select(T.match_history.c.entity_id, T.match_history.c.other_entity_id)
                                   .where(T.match_history.c.event == "merged")).all())
        counted = conn.execute(select(func.sum(T.match_entity.c.record_count))
                               .where(T.match_entity.c.status == "active")).scalar()
    assert all(after[k] == merged.get(e, e) for k, e in linked.items())  # the first part's links stand
    assert counted == n  # every record in one entity
    assert T.last_run_seq(engine, "members") >= 1
    assert match_dataset(engine, cache_dir=tmp_path / "cache", part_rows=1_500)["records"] == 0


def test_a_lost_feature_cache_is_rebuilt_a_part_at_a_time(engine, sample, tmp_path):
    n = sample.records.num_rows
    _publish(engine, sample, list(range(n - 300)), seq=1)
    match_dataset(engine, cache_dir=tmp_path / "cache", part_rows=1_000)
    shutil.rmtree(tmp_path / "cache")
    _publish(engine, sample, list(range(n - 300, n)), seq=100)  # after the parts' republications
    stats = match_dataset(engine, cache_dir=tmp_path / "cache", part_rows=1_000)
    assert stats["records"] == 300 and len(_links(engine)) == n
    folder = tmp_path / "cache" / "members-features"
    assert len(list(folder.glob("part-*-*.parquet"))) == 2  # the rebuild's second and third parts, then the batch's
    assert FeatureCache.of(tmp_path / "cache", "members").covers(*T.link_summary(engine, "members"))


def test_records_are_read_by_many_keys_and_sampled_evenly(engine, sample):
    n = sample.records.num_rows
    _publish(engine, sample, list(range(n)), seq=1)
    with engine.connect() as conn:
        keys = conn.execute(select(PUBLISHED["members"].c.record_key)).scalars().all()
    wanted = pa.array([*keys, *(f"nobody:{i}" for i in range(6_000 - n))])  # past the IN-list size
    read = _published(engine, "members", keys=wanted)
    assert sorted(read.column("record_key").to_pylist()) == sorted(keys)
    drawn = _training_sample(engine, "members", 1_000)
    assert drawn.num_rows == 1_000
    assert drawn.column("record_key").equals(_training_sample(engine, "members", 1_000).column("record_key"))
    organisations = pc.unique(drawn.column("organisation")).to_pylist()
    assert len(organisations) == len(pc.unique(read.column("organisation")))  # every organisation, not the first
