"""The match stage: resolve what was published since the last match run into entities, in the warehouse.

First run of a dataset (no links yet): every published record is matched (the model is trained on them when the
dataset has none saved, then saved), clusters become entities with ids derived from their smallest record key.
Later runs: only the records published since the last run's ``published_seq`` and not linked yet are attached
(:func:`lienthong.match.incremental.attach`) to the part of the registry they could match (:func:`_neighbourhood`),
so the cost grows with the batch. Reviewers' decisions are
respected, merges are recorded, golden records of the touched entities are recomputed.

A stage function (STYLE.md rule 3): the CLI, Airflow and the API call :func:`match_dataset`; it reads through
and writes through :mod:`lienthong.warehouse.tables_match` only.
"""

from __future__ import annotations

import gc
import json
import logging
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from splink.internals.exceptions import EMTrainingException
from sqlalchemy import Column, Engine, MetaData, Table, Text, and_, func, or_, select

from lienthong.match import model as M
from lienthong.match.config import MatchConfig, Thresholds, members_config
from lienthong.match.feature_cache import FeatureCache
from lienthong.match.features import build_features
from lienthong.match.golden import golden_table
from lienthong.match.incremental import Attachment, attach, entity_id_for, score_against_cache
from lienthong.match.rematch import regroup
from lienthong.match.report import write_match_report
from lienthong.match.run import match_records
from lienthong.settings import Settings
from lienthong.warehouse import tables_match as T
from lienthong.warehouse.arrow_read import query_arrow
from lienthong.warehouse.bulk import insert_arrow
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.verification import confirmed_keys

log = logging.getLogger(__name__)
# Records matched at once (LIENTHONG_MATCH_PART_ROWS): a first run of a million holds under 3 GiB at its peak
# (docs/BENCHMARKS.md), so a registry of any size stays near that.
PART_ROWS: int = Settings.model_fields["match_part_rows"].default
# Past this many records an incremental batch is scored by DuckDB straight from the feature cache's files: the
# records sharing a blocking key with a million-record part were 4.5M of a 5M registry. Below it they are few, and
# loading them beats scanning every file (a 100-row push: match 1.6 s loaded, 2.1 s from the files, at 1M).
SCORED_FROM_FILES = 100_000
_READ = ("record_key", "source_id", "member_id", "full_name", "family_name", "middle_name", "given_name", "sex",
         "date_of_birth", "id_number", "phone", "ward_code", "province_code", "address", "organisation",
         "updated_at", "published_seq")


def match_dataset(engine: Engine, dataset: str = "members", *, backend: str = "duckdb",
                  thresholds: Thresholds | None = None, retrain: bool = False,
                  priority: dict[str, list[str]] | None = None, report_dir: Path | None = None,
                  cache_dir: Path | None = None, part_rows: int = PART_ROWS) -> dict[str, Any]:
    """Match the records of ``dataset`` published since the last run; returns the run's figures.

    Args:
        engine: the warehouse.
        dataset: a dataset whose contract has person roles (``members``).
        backend: Splink backend, ``duckdb`` or ``spark``.
        thresholds: link/review probabilities (default 0.99 / 0.8).
        retrain: train a new model version on the whole dataset even if one is saved.
        priority: source priority per golden-record field (organisation codes, first wins).
        report_dir: where to write the run report (match weights chart and their checks), if given.
        cache_dir: where to keep the comparison columns of the linked records between runs
            (:mod:`lienthong.match.feature_cache`, rebuilt from the warehouse when missing or stale), so an
            incremental run neither re-cleans nor reads the whole registry; none: a scratch folder for this run.
        part_rows: most records matched at once. More are matched a part at a time, in record-key order: the
            first part as a first run, the next ones attached to it as incremental runs attach a batch, so memory
            follows the part, not the registry. Each part is a run of its own; the cursor moves past the records
            only with the last one, so a run stopped between parts resumes with the records not linked yet.
    """
    if cache_dir is None:  # nothing kept between runs: the registry's comparison columns are built for this one
        with tempfile.TemporaryDirectory(prefix="lienthong-match-") as scratch:
            return match_dataset(engine, dataset, backend=backend, thresholds=thresholds, retrain=retrain,
                                 priority=priority, report_dir=report_dir, cache_dir=Path(scratch),
                                 part_rows=part_rows)
    config = members_config(backend=backend, **({"thresholds": thresholds} if thresholds else {}))
    runs: list[dict[str, Any]] = []
    after_key = None
    while True:
        _give_back_memory()
        stats, after_key = _match_part(engine, dataset, config, retrain=retrain and not runs, priority=priority,
                                       cache_dir=cache_dir, part_rows=part_rows, after_key=after_key)
        runs.append(stats)
        if after_key is None:
            break
        log.info("match %s: part %d, %s records in %.1f s; %s", dataset, len(runs), f"{stats['records']:,}",
                 stats["seconds"], "more to match")
    stats = runs[0] if len(runs) == 1 else _summed(runs)
    if report_dir is not None and stats["records"]:
        used = T.latest_model(engine, dataset)
        stats["report"] = str(write_match_report(report_dir / f"match-{dataset}-{stats['run_id']}.html", used,
                                                 stats, f"Match run {stats['run_id']} of {dataset}"))
    return stats


def _give_back_memory() -> None:
    """Return to the system what earlier work (the sync before, the part before) freed but kept for reuse (Python's
    cycles, Arrow's allocator's pages), so a job does not carry it into every part."""
    gc.collect()
    pa.default_memory_pool().release_unused()


def _summed(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of a run matched in parts: counts and seconds added up, the first part's mode, the last run id."""
    out: dict[str, Any] = {"mode": runs[0]["mode"], "parts": len(runs)}
    for stats in runs:
        for key, value in stats.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and key != "run_id":
                out[key] = out.get(key, 0) + value
    out["run_id"] = runs[-1]["run_id"]
    return out


def _match_part(engine: Engine, dataset: str, config: MatchConfig, *, retrain: bool,
                priority: dict[str, list[str]] | None, cache_dir: Path, part_rows: int,
                after_key: str | None) -> tuple[dict[str, Any], str | None]:
    """Match the next part of at most ``part_rows`` records (record keys after ``after_key``) as one run; returns
    its figures and the last record key matched when more may follow (None: this part was the last)."""
    started = time.perf_counter()
    since = T.last_run_seq(engine, dataset)
    linked_before, last_linking_run = T.link_summary(engine, dataset)
    mode = "full" if linked_before == 0 else "incremental"
    up_to, rows = _to_match(engine, dataset, after=0 if mode == "full" else since, after_key=after_key,
                            limit=part_rows + 1)  # one more says whether another part follows
    more = rows.num_rows > part_rows
    rows = rows.slice(0, part_rows)
    next_key = rows.column("record_key")[-1].as_py() if more else None
    linked = pc.is_valid(rows.column("linked_entity"))
    rows = rows.drop_columns(["linked_entity"])
    changed = rows.filter(linked)  # linked before, changed since: matched again like a new record
    new = pa.concat_tables([rows.filter(pc.invert(linked)), changed]) if changed.num_rows else rows
    laps = {"read": time.perf_counter() - started}
    # a part with more to follow leaves the cursor where it was: what it did not reach is still after it
    run_id = T.start_run(engine, dataset, since if more else up_to, mode, new.num_rows)
    accepted, rejected = T.decisions(engine, dataset)
    saved = None if retrain else T.latest_model(engine, dataset)
    features = None  # the comparison columns of every record, when training built them (a full run reuses them)
    model_rows = None if saved is None else T.latest_model_rows(engine, dataset)
    if saved is None or (model_rows is not None and model_rows <= 0):  # none, or the shipped one: train now?
        registry_size = linked_before + new.num_rows if not more else _live_count(engine, dataset)
        if saved is None or _time_to_train(model_rows, registry_size):
            saved, features = _trained_or_default(engine, dataset, config, registry_size, part_rows,
                                                  rows=new if mode == "full" and not more else None)
    laps["train"] = time.perf_counter() - started - sum(laps.values())
    stats: dict[str, Any] = {"mode": mode, "records": new.num_rows, "records_changed": changed.num_rows,
                             "run_id": run_id}
    if new.num_rows == 0:
        T.write_outcome(engine, dataset, run_id, stats=stats)
        return stats, None
    confirmed = pa.array(sorted(confirmed_keys(engine, dataset)), pa.string())  # population DB (issue 19)
    extra = {"org_member": _org_member(new), "id_confirmed": _confirmed(new.column("record_key"), confirmed)}
    relinked: list[str] = []
    splits: list[tuple[str, str, dict]] = []
    left_behind: set[str] = set()
    known = pa.table({"record_key": pa.array([], pa.string()), "entity_id": pa.array([], pa.string())})
    if mode == "full":
        result = match_records(new, config, model=saved, cannot_link=rejected, must_link=accepted, extra=extra,
                               features=features)
        clusters = result.clusters.column("cluster_id").combine_chunks()
        distinct = pc.unique(clusters)
        ids = pa.array([entity_id_for(c, dataset) for c in distinct.to_pylist()], pa.string())
        assignment = pa.table({"record_id": result.clusters.column("record_id"),
                               "entity_id": ids.take(pc.index_in(clusters, value_set=distinct))})
        merges: list[tuple[str, str]] = []
        links_table, review, batch = result.links, result.review, result.features
        stats.update(result.stats)
    else:
        model = saved
        batch = build_features(new, config).append_column("org_member", extra["org_member"])
        batch = batch.append_column("id_confirmed", extra["id_confirmed"])
        cache = _feature_cache(engine, dataset, config, cache_dir, linked_before, last_linking_run, part_rows)
        leave_out = changed.column("record_key").combine_chunks().cast(pa.string())  # matched again from batch
        name_counts = cache.name_counts(leave_out=leave_out)
        scored = None
        if config.backend == "duckdb" and batch.num_rows > SCORED_FROM_FILES:  # the registry is never loaded
            scored = score_against_cache(batch, cache, model, config, leave_out=leave_out, name_counts=name_counts)
            near = pa.concat_arrays([scored.column("unique_id_l").combine_chunks().cast(pa.string()),
                                     cache.candidates(batch, [], keys=("id_number", "org_member"))])
        else:  # the records sharing a blocking key with the batch, loaded and scored with it (Spark: always)
            near = cache.candidates(batch, _blocking_rules(model), keys=("id_number", "org_member"))
        known, registry = _neighbourhood(engine, dataset, config, cache, near, leave_out)
        stats["registry_records_read"] = registry.num_rows
        order = pc.index_in(registry.column("unique_id"), value_set=known.column("record_key"))
        entity_of = known.column("entity_id").take(order)
        registry = registry.append_column("id_confirmed", _confirmed(registry.column("unique_id"), confirmed))
        done = attach(registry, entity_of, batch, model, config, namespace=dataset, cannot_link=rejected,
                      must_link=accepted, name_counts=name_counts, scored=scored)
        assignment, merges, links_table, review = done.assignment, done.merges, done.links, done.review
        if changed.num_rows:
            regrouped = _regroup(done, changed, known, registry, entity_of, model, config, dataset, rejected,
                                 accepted)
            assignment, merges, splits = regrouped.assignment, [*merges, *regrouped.merges], regrouped.splits
            relinked, left_behind = regrouped.relinked, regrouped.left
    laps["match"] = time.perf_counter() - started - sum(laps.values())
    assignment = assignment.select(["record_id", "entity_id"])
    created = pc.invert(pc.is_in(assignment.column("entity_id"), value_set=known.column("entity_id")))
    if relinked:
        known = known.filter(pc.invert(pc.is_in(known.column("record_key"), value_set=pa.array(relinked, pa.string()))))
    moved_by_split = sorted(set(relinked) - set(new.column("record_key").to_pylist()))
    if moved_by_split:  # records moved by a split are not in this run's input: their rows are read for the links
        moved_rows = _published(engine, dataset, keys=pa.array(moved_by_split, pa.string()))
        new = pa.concat_tables([new, moved_rows.select(new.column_names).cast(new.schema)])
    links_out = _links_out(assignment, created, links_table, new)
    touched = pa.concat_arrays([assignment.column("entity_id").combine_chunks(),
                                pa.array([s for _, s in merges] + sorted(left_behind), pa.string())])
    entities = _golden(engine, dataset, pc.unique(touched), new, assignment, known, merges, priority)
    laps["golden"] = time.perf_counter() - started - sum(laps.values())
    review_out = review.select(["unique_id_l", "unique_id_r", "match_probability"]).rename_columns(
        ["record_key_l", "record_key_r", "match_probability"])
    stats.update({"entities_created": len(pc.unique(assignment.column("entity_id").filter(created))),
                  "merges": len(merges), "review_pairs": review_out.num_rows,
                  "seconds": time.perf_counter() - started})
    if changed.num_rows:
        stats.update({"records_relinked": len(relinked), "splits": len(splits)})
    T.write_outcome(engine, dataset, run_id, links=links_out, merges=merges, entities=entities, review=review_out,
                    stats={k: v for k, v in stats.items() if isinstance(v, int | float | str)},
                    relinked=relinked, splits=splits, last_part=not more)
    laps["write"] = time.perf_counter() - started - sum(laps.values())
    stats.update({f"seconds_stage_{k}": round(v, 3) for k, v in laps.items()})
    # The batch's columns join the cache (without id_confirmed: it is read afresh each run, answers change); the
    # changed records' new columns replace their old ones.
    FeatureCache.of(cache_dir, dataset).write(
        _without_confirmed(batch), run_id=run_id, links=linked_before - len(relinked) + links_out.num_rows,
        append=mode == "incremental", replaces=changed.column("record_key"))
    return stats, next_key


def _links_out(assignment: pa.Table, created: pa.Array, links: pa.Table, rows: pa.Table) -> pa.Table:
    """The links to write: each record's entity, organisation and the rule that brought it (``new`` when it starts
    an entity no rule or model pair brought it into)."""
    rule_of = _rules(links)
    records = assignment.column("record_id").combine_chunks()
    rule = pa.array(list(rule_of.values()), pa.string()).take(
        pc.index_in(records, value_set=pa.array(list(rule_of), pa.string())))
    rule = pc.coalesce(rule, pc.if_else(created, "new", "model"))
    organisation = rows.column("organisation").take(pc.index_in(records, value_set=rows.column("record_key")))
    return pa.table({"record_key": records, "entity_id": assignment.column("entity_id"),
                     "organisation": organisation, "rule": rule})


def _without_confirmed(features: pa.Table) -> pa.Table:
    return features.drop_columns([c for c in features.column_names if c == "id_confirmed"])


@dataclass
class _Regrouped:
    assignment: pa.Table  # record_id, entity_id: the batch's records, then those a split moved
    merges: list[tuple[str, str]]
    splits: list[tuple[str, str, dict]]
    relinked: list[str]  # already-linked records whose link is replaced
    left: set[str]  # entities a record left: their golden records are rebuilt


def _regroup(done: Attachment, changed: pa.Table, known: pa.Table, registry: pa.Table, entity_of: pa.Array,
             model: dict[str, Any], config: MatchConfig, dataset: str, rejected: list, accepted: list) -> _Regrouped:
    """Where the changed records went (:mod:`lienthong.match.rematch`), as the stage writes it."""
    survivor = dict(done.merges)
    before = dict(zip(known.column("record_key").to_pylist(), known.column("entity_id").to_pylist(), strict=True))
    keys = set(changed.column("record_key").to_pylist())
    assigned = dict(zip(done.assignment.column("record_id").to_pylist(),
                        done.assignment.column("entity_id").to_pylist(), strict=True))
    created = {e for e, c in zip(done.assignment.column("entity_id").to_pylist(),
                                 done.assignment.column("created").to_pylist(), strict=True) if c}
    changed_to = {k: survivor.get(assigned[k], assigned[k]) for k in keys}
    old = {k: survivor.get(before[k], before[k]) for k in keys}
    out = regroup(changed_to, created, old, registry, pc.fill_null(entity_of, ""), model, config,
                  namespace=dataset, cannot_link=rejected, must_link=accepted)
    final = {**assigned, **{k: (out.moved.get(k) or old[k]) for k in keys}}
    moved_out = [(old[k], final[k], {"record_keys": [k], "why": "the record changed"}) for k in sorted(keys)
                 if final[k] != old[k] and old[k] not in {a for a, _ in out.merges}]
    others = {r: e for r, e in out.moved.items() if r not in keys}
    ids = [*final, *others]
    return _Regrouped(
        assignment=pa.table({"record_id": pa.array(ids, pa.string()),
                             "entity_id": pa.array([final.get(r) or others[r] for r in ids], pa.string())}),
        merges=out.merges, splits=[*moved_out, *out.splits], relinked=[*sorted(keys), *others],
        left={old[k] for k in keys if final[k] != old[k]})


def _feature_cache(engine: Engine, dataset: str, config: MatchConfig, cache_dir: Path, links: int,
                   last_run: int | None, part_rows: int) -> FeatureCache:
    """The cache of the linked records' comparison columns, rebuilt from the warehouse when it does not cover
    exactly the links (first use, a crash between a run's commit and its cache, records erased since): a part of
    at most ``part_rows`` records at a time."""
    cache = FeatureCache.of(cache_dir, dataset)
    if not cache.covers(links, last_run):
        linked = T.links(engine, dataset).column("record_key").combine_chunks()
        linked = linked.take(pc.sort_indices(linked))
        starts = range(0, max(len(linked), 1), part_rows)
        for piece, start in enumerate(starts):
            rows = _published(engine, dataset, keys=linked.slice(start, part_rows))
            # covering nothing (-1 links) until the last part is in: a rebuild stopped half-way is done again
            cache.write(_cached_columns(rows, config), run_id=last_run or 0, append=piece > 0, piece=piece,
                        links=links if piece == len(starts) - 1 else -1)
    return cache


def _neighbourhood(engine: Engine, dataset: str, config: MatchConfig, cache: FeatureCache, near: pa.Array,
                   changed: pa.Array) -> tuple[pa.Table, pa.Table]:
    """What an incremental batch is clustered with: the linked records ``near`` it (paired with it, or sharing a
    blocking key, an ID number or a member id), and every other record of their entities and of the entities the
    changed records are in (a record's entity is rebuilt whole).

    Returns the links of those entities (``record_key``, ``entity_id``; the changed records included) and the
    comparison columns of their records (the changed records left out: they are matched again from the batch).
    """
    known = T.entity_links(engine, dataset, pa.concat_arrays([near, changed]))
    keys = known.column("record_key").filter(pc.invert(pc.is_in(known.column("record_key"), value_set=changed)))
    registry = cache.rows(keys.combine_chunks())
    if registry.num_rows < len(keys):  # linked but not cached: a record the cache lost is built again
        lost = keys.filter(pc.invert(pc.is_in(keys, value_set=registry.column("unique_id"))))
        rebuilt = _cached_columns(_published(engine, dataset, keys=lost.combine_chunks()), config)
        registry = pa.concat_tables([registry, rebuilt.select(registry.column_names).cast(registry.schema)])
    return known, registry


def _blocking_rules(model: dict[str, Any]) -> list[str]:
    return [r["blocking_rule"] if isinstance(r, dict) else r
            for r in model.get("blocking_rules_to_generate_predictions", [])]


def _cached_columns(rows: pa.Table, config: MatchConfig) -> pa.Table:
    """What the feature cache keeps of published ``rows``: their comparison columns and organisation member id."""
    return build_features(rows, config).append_column("org_member", _org_member(rows))


_TYPES = {"date_of_birth": pa.date32(), "published_seq": pa.int64(), "updated_at": pa.timestamp("us", tz="UTC")}


def _columns(dataset: str) -> list[Column]:
    table = PUBLISHED[dataset]
    return [table.c[c] for c in _READ if c in table.c]


def _published(engine: Engine, dataset: str, *, keys: pa.Array | None = None) -> pa.Table:
    """Live published records of ``dataset``: all of them, or those of ``keys``."""
    table = PUBLISHED[dataset]
    query = select(*_columns(dataset)).where(table.c.deleted.is_(False))
    with engine.begin() as conn:
        if keys is None:
            return query_arrow(conn, query, _TYPES)
        if len(keys) <= 5_000:  # a few: by primary key, so the cost follows the keys asked for, not the registry
            return query_arrow(conn, query.where(table.c.record_key.in_(keys.to_pylist())), _TYPES)
        # many: joined with a temporary table of them, so neither the statement nor what is read grows past them
        wanted = Table("match_wanted_keys", MetaData(), Column("record_key", Text, primary_key=True),
                       prefixes=["TEMPORARY"])
        wanted.create(conn)  # in the transaction: gone with it, whatever happens
        insert_arrow(conn, wanted, pa.table({"record_key": pc.unique(keys.cast(pa.string()))}))
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE match_wanted_keys")  # a temporary table has no statistics else
        out = query_arrow(conn, query.join_from(table, wanted, wanted.c.record_key == table.c.record_key), _TYPES)
        wanted.drop(conn)
        return out


def _live_count(engine: Engine, dataset: str) -> int:
    table = PUBLISHED[dataset]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(table.c.deleted.is_(False))).scalar())


def _training_sample(engine: Engine, dataset: str, size: int) -> pa.Table:
    """Live published records to train on: all of them, or ``size`` drawn evenly at random (the same ones for the
    same registry) when there are more, so the estimates see every organisation and every part of the registry."""
    table = PUBLISHED[dataset]
    with engine.connect() as conn:
        keys = query_arrow(conn, select(table.c.record_key).where(table.c.deleted.is_(False))).column("record_key")
    if len(keys) <= size:
        return _published(engine, dataset)
    keys = keys.combine_chunks().take(pc.sort_indices(keys))
    drawn = np.sort(np.random.default_rng(1).choice(len(keys), size=size, replace=False))
    return _published(engine, dataset, keys=keys.take(pa.array(drawn)))


def _to_match(engine: Engine, dataset: str, *, after: int, after_key: str | None = None,
              limit: int | None = None) -> tuple[int, pa.Table]:
    """The cursor this run moves to, and the live records published after ``after`` that need matching: not linked
    yet, or linked and changed since (``updated_at`` moves only when a value changes; a record republished for its
    entity id keeps it). ``linked_entity`` says which (null: not linked). Selected in the warehouse, so an
    incremental run reads its batch, not every record republished since; at most ``limit`` of them, the first in
    record-key order after ``after_key`` (a part: by the primary key's order, each part reads only itself)."""
    table, link = PUBLISHED[dataset], T.match_link
    with engine.connect() as conn:
        up_to = conn.execute(select(func.max(table.c.published_seq)).where(table.c.published_seq > after)).scalar()
        up_to = int(up_to or after)
        query = (select(*_columns(dataset), link.c.entity_id.label("linked_entity"))
                 .select_from(table.outerjoin(link, and_(link.c.dataset == dataset,
                                                         link.c.record_key == table.c.record_key)))
                 .where(table.c.deleted.is_(False), table.c.published_seq > after, table.c.published_seq <= up_to,
                        or_(link.c.record_key.is_(None), table.c.updated_at > link.c.linked_at)))
        if after_key is not None:
            query = query.where(table.c.record_key > after_key)
        if limit is not None:
            query = query.order_by(table.c.record_key).limit(limit)
        return up_to, query_arrow(conn, query, _TYPES)


def _org_member(rows: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(rows.column("organisation").combine_chunks(),
                                       rows.column("member_id").combine_chunks(), ":")


def _confirmed(record_keys: pa.ChunkedArray, confirmed: pa.Array) -> pa.Array:
    """Per record, whether the population database confirmed its ID number with name and date of birth."""
    return pc.is_in(record_keys.combine_chunks(), value_set=confirmed)


def _rules(links: pa.Table) -> dict[str, str]:
    """Per record, the rule of a link that brought it (the right-hand record of a rule link)."""
    out: dict[str, str] = {}
    for left, right, rule in zip(links.column("unique_id_l").to_pylist(), links.column("unique_id_r").to_pylist(),
                                 links.column("rule").to_pylist(), strict=True):
        for record in (left, right):
            out.setdefault(record, rule or "model")
    return out


# EM needs thousands of comparisons to estimate anything: below this many records a new registry is matched with the
# model shipped in data/ (trained on generated people by scripts/train_default_match_model.py), and trained on its
# own records once it has grown.
MIN_TRAINING_RECORDS = 2_000
_DEFAULT_NOTE = ("shipped default model (trained on generated people); the dataset's own model is trained "
                 f"once it has {MIN_TRAINING_RECORDS:,} records")


def _trained_or_default(engine: Engine, dataset: str, config: MatchConfig, registry_size: int, most: int, *,
                        rows: pa.Table | None = None) -> tuple[dict[str, Any], pa.Table | None]:
    """Train on every published record (``rows`` when the caller holds them all), or on ``most`` of them drawn at
    random, and save the model; or, for a registry too small to train on (or one EM cannot converge on), save and
    return the shipped default model, marked as such (0 training rows). Also returns the comparison columns built
    for training from ``rows``, if any (a sample's are of no use to the caller)."""
    if registry_size >= MIN_TRAINING_RECORDS:
        given = rows is not None
        rows = rows if given else _training_sample(engine, dataset, most)
        features = build_features(rows, config)
        try:
            trained, _ = M.train(features, config)
        except EMTrainingException as exc:
            log.warning("match %s: EM training failed (%s); using the shipped default model", dataset, exc)
            settings = default_model(dataset)
            # Negative training rows: EM failed at this size; tried again once the registry has doubled.
            T.save_model(engine, dataset, settings, [_DEFAULT_NOTE, f"EM failed on {rows.num_rows:,} records"],
                         -registry_size)
            return settings, features if given else None
        else:
            notes = trained.notes if given else [*trained.notes, f"trained on {rows.num_rows:,} records drawn at "
                                                                 f"random from {registry_size:,}"]
            T.save_model(engine, dataset, trained.settings, notes, rows.num_rows)
            return trained.settings, features if given else None
    settings = default_model(dataset)
    T.save_model(engine, dataset, settings, [_DEFAULT_NOTE], 0)
    return settings, None


def _time_to_train(model_rows: int | None, registry_size: int) -> bool:
    """Whether the saved model is the shipped default and the registry is now worth training on: it reached
    the minimum (default saved for a small registry, 0 rows), or doubled since EM failed on it (negative rows)."""
    if model_rows is None or model_rows > 0:
        return False
    return registry_size >= (MIN_TRAINING_RECORDS if model_rows == 0 else 2 * -model_rows)


def default_model(dataset: str) -> dict[str, Any]:
    """The Splink settings shipped with the hub for ``dataset`` (``data/<dataset>_default_model.json``)."""
    path = resources.files("lienthong.match").joinpath("data", f"{dataset}_default_model.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _golden(engine: Engine, dataset: str, touched: pa.Array, new: pa.Table, assignment: pa.Table,
            known: pa.Table, merges: list[tuple[str, str]], priority: dict[str, list[str]] | None) -> pa.Table:
    """Golden records of the touched entities, from all their records (old and new)."""
    entity = known.column("entity_id").combine_chunks()
    if merges:  # records of an absorbed entity belong to its survivor now
        absorbed = pa.array([a for a, _ in merges], pa.string())
        survivor = pa.array([s for _, s in merges], pa.string())
        entity = pc.coalesce(survivor.take(pc.index_in(entity, value_set=absorbed)), entity)
    old = pa.table({"record_key": known.column("record_key"), "entity_id": entity}).filter(
        pc.is_in(entity, value_set=touched))
    members = pa.concat_tables([old, assignment.rename_columns(["record_key", "entity_id"])])
    return golden_entities(engine, dataset, members, priority, rows=new)


def members_table(members: dict[str, list[str]]) -> pa.Table:
    """``record_key``, ``entity_id`` rows of an entity id -> record keys mapping."""
    pairs = [(k, e) for e, keys in members.items() for k in keys]
    return pa.table({"record_key": pa.array([k for k, _ in pairs], pa.string()),
                     "entity_id": pa.array([e for _, e in pairs], pa.string())})


def golden_entities(engine: Engine, dataset: str, members: pa.Table, priority: dict[str, list[str]] | None = None,
                    *, rows: pa.Table | None = None) -> pa.Table:
    """Entity rows (record count, organisations, golden record: :func:`golden_table`, null for an entity of one
    record) for ``members``
    (``record_key``, ``entity_id``), reading the published records not in ``rows``. Used by the stage and after a
    review decision. Records are taken in record-key order, so ties of the survivorship rules fall the same way on
    every run."""
    keys = members.column("record_key")
    missing = keys if rows is None else keys.filter(pc.invert(pc.is_in(keys, value_set=rows.column("record_key"))))
    have = rows
    if len(missing) or have is None:
        read = _published(engine, dataset, keys=missing.combine_chunks())
        have = read if have is None else pa.concat_tables([have, read.select(have.column_names).cast(have.schema)])
    return golden_table(have, priority, tiebreak="record_key", members=members, alone=False)
