"""Attach a new batch of records to the entities of a registry, comparing the batch only with what it could match.

The batch is scored against itself and against the registry's records through the model's blocking rules
(Splink ``predict_within`` / ``predict_between``): the blocking joins probe the registry by equality keys, so the
work grows with the batch and the pairs it finds, not with the registry. Only the entities a batch record links
to are then loaded whole (for the one-CCCD-per-person check) and clustered with the batch.

Outcome per cluster: no existing entity → a new entity (id from its smallest record key); one → the records
attach to it; several → they merge into the one with the smallest id, and the others are recorded as merged
(history), never silently renumbered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.match import model as M
from lienthong.match.config import MatchConfig
from lienthong.match.feature_cache import FeatureCache
from lienthong.match.rules import deterministic_links
from lienthong.match.run import decide


def entity_id_for(smallest_record_key: str, namespace: str = "") -> str:
    """A stable, opaque entity id: the same cluster content gives the same id on every run."""
    digest = hashlib.sha1(f"{namespace}:{smallest_record_key}".encode()).hexdigest()
    return "E" + digest[:15].upper()


_NAMES = ["given", "family", "middle"]


def score_against_cache(batch: pa.Table, cache: FeatureCache, model: M.TrainedModel | dict, config: MatchConfig, *,
                        leave_out: pa.Array, name_counts: dict[str, pa.Table]) -> pa.Table:
    """The pairs of ``batch`` within itself and with the cached registry (but ``leave_out``) at or above the review
    threshold, scored by DuckDB straight from the cache's Parquet parts: however large the registry, only the batch
    and the pairs are held in memory (DuckDB spills its joins past its memory limit)."""
    linker = M.linker_for(model, batch, "duckdb")
    M.register_term_frequencies(linker, batch.select(_NAMES), name_counts)
    registry = cache.view(linker._db_api._con, "lienthong_registry", leave_out=leave_out)  # noqa: SLF001 - its DuckDB
    return M.predict_new(linker, registry, batch, config.thresholds.review)


@dataclass
class Attachment:
    """Where each batch record went, which entities merged, the links taken and the pairs to review."""

    assignment: pa.Table  # record_id, entity_id, created (bool: a new entity)
    merges: list[tuple[str, str]]  # (absorbed entity, surviving entity)
    links: pa.Table
    review: pa.Table


def attach(registry: pa.Table, entity: pa.Array, batch: pa.Table, model: M.TrainedModel | dict,
           config: MatchConfig, *, namespace: str = "", cannot_link: Iterable[tuple[str, str]] = (),
           must_link: Iterable[tuple[str, str]] = (), name_counts: dict[str, pa.Table] | None = None,
           scored: pa.Table | None = None) -> Attachment:
    """Match ``batch`` (features) against ``registry`` (features, one entity id per row in ``entity``).

    Args:
        registry: features of the records already resolved.
        entity: the entity id of each registry row.
        batch: features of the new records (ids not in the registry).
        model: the saved model.
        config: thresholds and backend.
        namespace: salt of new entity ids (the dataset), so two datasets never share an id.
        cannot_link / must_link: reviewers' decisions.
        name_counts: how often each name occurs in the whole registry, when ``registry`` is only the part of it the
            batch could match (:meth:`lienthong.match.feature_cache.FeatureCache.name_counts`): rare names weigh
            more, and what is rare is judged over everyone.
        scored: the batch's pairs, within itself and with the registry, when the caller scored them
            (:func:`score_against_cache`); ``registry`` need then hold only the records those pairs touch, the
            records sharing an ID number or a member id with the batch, and their entities' other records.
    """
    if isinstance(entity, pa.ChunkedArray):
        entity = entity.combine_chunks()
    if scored is None:
        linker = M.linker_for(model, batch, config.backend)
        if name_counts is None:
            M.register_term_frequencies(linker, pa.concat_tables([registry.select(_NAMES), batch.select(_NAMES)]))
        else:
            M.register_term_frequencies(linker, batch.select(_NAMES), name_counts)
        scored = M.predict_new(linker, registry, batch, config.thresholds.review) if registry.num_rows else \
            M.predict(linker, config.thresholds.review)
    rules = deterministic_links(batch, registry) if registry.num_rows else deterministic_links(batch)
    if registry.num_rows:
        rules = pa.concat_tables([deterministic_links(batch), rules])
    touched = pc.unique(pa.concat_arrays([scored.column("unique_id_l").combine_chunks(),
                                          scored.column("unique_id_r").combine_chunks(),
                                          rules.column("unique_id_l").combine_chunks(),
                                          rules.column("unique_id_r").combine_chunks()]).cast(pa.string()))
    in_registry = pc.is_in(registry.column("unique_id"), value_set=touched)
    entities = pc.unique(entity.filter(in_registry))
    member = pc.is_in(entity, value_set=entities)
    known = registry.filter(member)
    known_entity = entity.filter(member)
    nodes = pa.concat_tables([known, batch.select(known.column_names)])
    groups = pa.concat_arrays([known_entity.cast(pa.string()), pa.nulls(batch.num_rows, pa.string())])
    outcome = decide(nodes, scored, rules, config, cannot_link=cannot_link, must_link=must_link, groups=groups)
    clusters = outcome["clusters"]
    cluster_of = dict(zip(clusters.column("record_id").to_pylist(), clusters.column("cluster_id").to_pylist(),
                          strict=True))
    existing_in: dict[str, set[str]] = {}
    for rid, eid in zip(known.column("unique_id").to_pylist(), known_entity.to_pylist(), strict=True):
        existing_in.setdefault(cluster_of[rid], set()).add(eid)
    merges: list[tuple[str, str]] = []
    survivor: dict[str, str] = {}
    for cid, eids in existing_in.items():
        keep = min(eids)
        survivor[cid] = keep
        merges.extend((e, keep) for e in sorted(eids) if e != keep)
    batch_ids = batch.column("unique_id").to_pylist()
    assigned, created = [], []
    for rid in batch_ids:
        cid = cluster_of[rid]
        if cid in survivor:
            assigned.append(survivor[cid])
            created.append(False)
        else:
            assigned.append(entity_id_for(cid, namespace))
            created.append(True)
    assignment = pa.table({"record_id": pa.array(batch_ids, pa.string()), "entity_id": pa.array(assigned),
                           "created": pa.array(created, pa.bool_())})
    return Attachment(assignment=assignment, merges=merges, links=outcome["links"], review=outcome["review"])
