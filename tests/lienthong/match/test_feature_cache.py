"""The feature cache: parts, replaced records, what it covers; and a batch attached to the part of the registry the
cache finds for it gives exactly what attaching it to the whole registry gives."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.match import feature_cache
from lienthong.match.feature_cache import FeatureCache
from lienthong.match.features import build_features
from lienthong.match.incremental import attach, score_against_cache
from lienthong.match.run import match_records
from tests.lienthong.match.conftest import VI


def _features(records: pa.Table) -> pa.Table:
    org_member = pc.binary_join_element_wise(records.column("organisation"), records.column("record_id"), ":")
    return build_features(records, VI).append_column("org_member", org_member)


def test_parts_replace_and_cover(sample, tmp_path):
    features = _features(sample.records)
    first, later = features.slice(0, 2000), features.slice(2000)
    cache = FeatureCache.of(tmp_path, "members")
    assert not cache.covers(0, None)
    cache.write(first, run_id=1, links=2000, append=False)
    assert cache.covers(2000, 1) and not cache.covers(2001, 1) and not cache.covers(2000, 2)
    changed = first.slice(0, 5).set_column(first.schema.get_field_index("given"), "given",
                                           pa.array(["zzz"] * 5, pa.string()))
    cache.write(pa.concat_tables([later, changed]), run_id=2, links=features.num_rows, append=True,
                replaces=changed.column("unique_id"))
    assert cache.covers(features.num_rows, 2)
    every = cache.rows(features.column("unique_id").combine_chunks())
    assert every.num_rows == features.num_rows  # each record once: the newer part wins
    given = dict(zip(every.column("unique_id").to_pylist(), every.column("given").to_pylist(), strict=True))
    assert all(given[k] == "zzz" for k in changed.column("unique_id").to_pylist())
    counts = {r["value"]: r["n"] for r in cache.name_counts(pa.array([], pa.string()))["given"].to_pylist()}
    assert counts["zzz"] == 5
    assert sum(counts.values()) == pc.sum(pc.is_valid(every.column("given"))).as_py()


def test_compaction_keeps_every_record_once(sample, tmp_path, monkeypatch):
    monkeypatch.setattr(feature_cache, "MAX_PARTS", 3)
    features = _features(sample.records)
    cache = FeatureCache.of(tmp_path, "members")
    again = features.slice(0, 3)  # matched again in every later run: each run's part replaces their columns
    for run, start in enumerate(range(0, features.num_rows, 500), start=1):
        part = features.slice(start, 500) if run == 1 else pa.concat_tables([features.slice(start, 500), again])
        cache.write(part, run_id=run, links=min(start + 500, features.num_rows), append=run > 1,
                    replaces=again.column("unique_id") if run > 1 else None)
    assert len(list(cache.folder.glob("part-*.parquet"))) <= 3
    assert cache.rows(features.column("unique_id").combine_chunks()).num_rows == features.num_rows


def test_attaching_to_the_neighbourhood_equals_attaching_to_the_registry(sample, tmp_path):
    """Candidates by blocking key, closed over their entities, with the registry's name frequencies: the same
    entities, merges, links and review pairs as the whole registry."""
    records = sample.records
    split = int(records.num_rows * 0.8)
    resolved = match_records(records.slice(0, split), VI)
    entity = resolved.clusters.column("cluster_id").combine_chunks()
    registry = _features(records.slice(0, split))
    registry_ids = registry.column("unique_id").combine_chunks()
    entity = entity.take(pc.index_in(registry_ids, value_set=resolved.clusters.column("record_id")))
    batch = _features(records.slice(split))
    model = resolved.model.settings
    whole = attach(registry, entity, batch, model, VI, namespace="members")

    cache = FeatureCache.of(tmp_path, "members")
    cache.write(registry, run_id=1, links=registry.num_rows, append=False)
    rules = [r["blocking_rule"] for r in model["blocking_rules_to_generate_predictions"]]
    near = cache.candidates(batch, rules, keys=("id_number", "org_member"))
    assert 0 < len(near) < registry.num_rows / 2  # a part of the registry, not all of it
    entities = pc.unique(entity.filter(pc.is_in(registry_ids, value_set=near)))
    closed = pc.is_in(entity, value_set=entities)
    part = cache.rows(registry_ids.filter(closed))
    part_entity = entity.filter(closed).take(pc.index_in(part.column("unique_id"),
                                                         value_set=registry_ids.filter(closed)))
    near_only = attach(part, part_entity, batch, model, VI, namespace="members",
                       name_counts=cache.name_counts(pa.array([], pa.string())))

    def pairs(table: pa.Table) -> set:
        return set(zip(table.column("unique_id_l").to_pylist(), table.column("unique_id_r").to_pylist(),
                       strict=True))

    assert near_only.assignment.sort_by("record_id").equals(whole.assignment.sort_by("record_id"))
    assert sorted(near_only.merges) == sorted(whole.merges)
    assert pairs(near_only.links) == pairs(whole.links) and pairs(near_only.review) == pairs(whole.review)
    assert whole.links.num_rows > 100  # the batch did link to the registry

    # scored by DuckDB from the cache's files, then only the records paired with the batch (or sharing an ID or
    # member id with it) and their entities are loaded: the same outcome again, from fewer records still
    nobody = pa.array([], pa.string())
    scored = score_against_cache(batch, cache, model, VI, leave_out=nobody, name_counts=cache.name_counts(nobody))
    paired = pa.concat_arrays([scored.column("unique_id_l").combine_chunks(),
                               cache.candidates(batch, [], keys=("id_number", "org_member"))])
    entities = pc.unique(entity.filter(pc.is_in(registry_ids, value_set=paired)))
    closed = pc.is_in(entity, value_set=entities)
    assert pc.sum(closed).as_py() < len(part)
    few = cache.rows(registry_ids.filter(closed))
    few_entity = entity.filter(closed).take(pc.index_in(few.column("unique_id"), value_set=registry_ids.filter(closed)))
    from_files = attach(few, few_entity, batch, model, VI, namespace="members", scored=scored)
    assert from_files.assignment.sort_by("record_id").equals(whole.assignment.sort_by("record_id"))
    assert sorted(from_files.merges) == sorted(whole.merges)
    assert pairs(from_files.links) == pairs(whole.links) and pairs(from_files.review) == pairs(whole.review)


def test_candidates_follow_each_rule_both_ways_round(tmp_path):
    """A rule pairing different columns (given name and surname swapped) finds the record from either side; a rule
    that is not a conjunction of equalities makes every record a candidate rather than miss one."""
    cached = pa.table({"unique_id": ["a", "b", "c"], "given": ["An", "Bình", "Chi"], "family": ["Lê", "Lê", "Võ"],
                       "phone": [None, "0901", None]})
    cache = FeatureCache.of(tmp_path, "members")
    cache.write(cached, run_id=1, links=3, append=False)
    batch = pa.table({"unique_id": ["n"], "given": ["Lê"], "family": ["An"], "phone": [None]})
    assert cache.candidates(batch, ['l."phone" = r."phone"']).to_pylist() == []  # null never shares a key
    assert cache.candidates(batch, ["l.given = r.family AND l.family = r.given"]).to_pylist() == ["a"]
    assert sorted(cache.candidates(batch, ["levenshtein(l.given, r.given) <= 1"]).to_pylist()) == ["a", "b", "c"]
