"""Entity ids are stable: the same data gives the same ids; a new batch attaches to the existing ones."""

from __future__ import annotations

import pyarrow as pa

from lienthong.demo.match_sample import pairwise_scores
from lienthong.match.features import build_features
from lienthong.match.incremental import attach, entity_id_for
from lienthong.match.run import match_records
from tests.lienthong.match.conftest import VI


def test_rerun_gives_the_same_cluster_ids(sample, matched):
    again = match_records(sample.records, VI, model=matched.model)
    assert again.clusters.column("cluster_id").to_pylist() == matched.clusters.column("cluster_id").to_pylist()


def test_cluster_id_is_the_smallest_record_id(matched):
    by_cluster: dict[str, list[str]] = {}
    for rid, cid in zip(matched.clusters.column("record_id").to_pylist(),
                        matched.clusters.column("cluster_id").to_pylist(), strict=True):
        by_cluster.setdefault(cid, []).append(rid)
    assert all(cid == min(rids) for cid, rids in by_cluster.items())


def test_incremental_batch_attaches_to_existing_entities(sample, matched):
    n = sample.records.num_rows
    base, batch = sample.records.slice(0, n - 500), sample.records.slice(n - 500)
    registry = match_records(base, VI, model=matched.model)
    entity = pa.array([entity_id_for(c, "t") for c in registry.clusters.column("cluster_id").to_pylist()])
    done = attach(build_features(base, VI), entity, build_features(batch, VI), matched.model, VI, namespace="t")
    assert done.assignment.num_rows == 500
    existing = set(entity.to_pylist())
    attached = [e in existing for e in done.assignment.column("entity_id").to_pylist()]
    assert sum(attached) > 100  # people already in the registry are found there
    # existing ids are never renumbered: a merge keeps the smaller id and says so
    assert all(keep < gone or keep in existing for gone, keep in done.merges)
    merged = dict(done.merges)
    ids = pa.concat_arrays([registry.clusters.column("record_id").combine_chunks(),
                            done.assignment.column("record_id").combine_chunks()])
    final = [merged.get(e, e) for e in (*entity.to_pylist(), *done.assignment.column("entity_id").to_pylist())]
    incremental = pairwise_scores(ids, pa.array(final), sample.truth)
    assert incremental.precision >= 0.985
    assert incremental.recall >= 0.97
    # the same batch attached again gives the same ids (new entities are named by content)
    again = attach(build_features(base, VI), entity, build_features(batch, VI), matched.model, VI, namespace="t")
    assert again.assignment.column("entity_id").to_pylist() == done.assignment.column("entity_id").to_pylist()
