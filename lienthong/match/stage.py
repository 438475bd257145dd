"""The match stage: resolve what was published since the last match run into entities, in the warehouse.

First run of a dataset (no links yet): every published record is matched (the model is trained on them when the
dataset has none saved, then saved), clusters become entities with ids derived from their smallest record key.
Later runs: only the records published since the last run's ``published_seq`` and not linked yet are attached
(:func:`lienthong.match.incremental.attach`), so the cost grows with the batch. Reviewers' decisions are
respected, merges are recorded, golden records of the touched entities are recomputed.

A stage function (STYLE.md rule 3): the CLI, Airflow and the API call :func:`match_dataset`; it reads through
and writes through :mod:`lienthong.warehouse.tables_match` only.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from splink.internals.exceptions import EMTrainingException
from sqlalchemy import Connection, Engine, Select, select

from lienthong.match import model as M
from lienthong.match.config import MatchConfig, Thresholds, members_config
from lienthong.match.features import build_features
from lienthong.match.golden import golden_record
from lienthong.match.incremental import Attachment, attach, entity_id_for
from lienthong.match.rematch import regroup
from lienthong.match.report import write_match_report
from lienthong.match.run import match_records
from lienthong.warehouse import tables_match as T
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.verification import confirmed_keys

log = logging.getLogger(__name__)
_READ = ("record_key", "source_id", "member_id", "full_name", "family_name", "middle_name", "given_name", "sex",
         "date_of_birth", "id_number", "phone", "ward_code", "province_code", "address", "organisation",
         "updated_at", "published_seq")


def match_dataset(engine: Engine, dataset: str = "members", *, backend: str = "duckdb",
                  thresholds: Thresholds | None = None, retrain: bool = False,
                  priority: dict[str, list[str]] | None = None, report_dir: Path | None = None,
                  cache_dir: Path | None = None) -> dict[str, Any]:
    """Match the records of ``dataset`` published since the last run; returns the run's figures.

    Args:
        engine: the warehouse.
        dataset: a dataset whose contract has person roles (``members``).
        backend: Splink backend, ``duckdb`` or ``spark``.
        thresholds: link/review probabilities (default 0.99 / 0.8).
        retrain: train a new model version on the whole dataset even if one is saved.
        priority: source priority per golden-record field (organisation codes, first wins).
        report_dir: where to write the run report (match weights chart and their checks), if given.
        cache_dir: where to keep the comparison columns of the linked records between runs (a Parquet file per
            dataset, rebuilt from the warehouse when missing or stale), so an incremental run does not re-clean
            the whole registry.
    """
    config = members_config(backend=backend, **({"thresholds": thresholds} if thresholds else {}))
    started = time.perf_counter()
    since = T.last_run_seq(engine, dataset)
    known = T.links(engine, dataset)
    rows = _published(engine, dataset, after=0 if known.num_rows == 0 else since)
    up_to = max(rows.column("published_seq").to_pylist(), default=since)
    new = rows.filter(pc.invert(pc.is_in(rows.column("record_key"), value_set=known.column("record_key"))))
    mode = "full" if known.num_rows == 0 else "incremental"
    changed = _changed_since_linked(engine, dataset, rows, known) if mode == "incremental" else rows.slice(0, 0)
    new = pa.concat_tables([new, changed]) if changed.num_rows else new
    run_id = T.start_run(engine, dataset, up_to, mode, new.num_rows)
    accepted, rejected = T.decisions(engine, dataset)
    saved = None if retrain else T.latest_model(engine, dataset)
    registry_size = known.num_rows + new.num_rows
    if saved is None or _time_to_train(T.latest_model_rows(engine, dataset), registry_size):
        saved = _trained_or_default(engine, dataset, config, registry_size)
    stats: dict[str, Any] = {"mode": mode, "records": new.num_rows, "records_changed": changed.num_rows}
    if new.num_rows == 0:
        T.write_outcome(engine, dataset, run_id, links_rows=[], merges=[], entities=[], review=[], stats=stats)
        return stats
    confirmed = pa.array(sorted(confirmed_keys(engine, dataset)), pa.string())  # population DB (issue 19)
    extra = {"org_member": _org_member(new), "id_confirmed": _confirmed(new.column("record_key"), confirmed)}
    relinked: list[str] = []
    splits: list[tuple[str, str, dict]] = []
    left_behind: set[str] = set()
    if mode == "full":
        result = match_records(new, config, model=saved, cannot_link=rejected, must_link=accepted, extra=extra)
        smallest = result.clusters.column("cluster_id").to_pylist()
        entity = [entity_id_for(c, dataset) for c in smallest]
        assignment = pa.table({"record_id": result.clusters.column("record_id"), "entity_id": entity})
        merges: list[tuple[str, str]] = []
        links_table, review, batch = result.links, result.review, result.features
        stats.update(result.stats)
    else:
        model = saved
        registry = _registry_features(engine, dataset, config, known, cache_dir)
        order = pc.index_in(registry.column("unique_id"), value_set=known.column("record_key"))
        entity_of = known.column("entity_id").take(order)
        if changed.num_rows:  # a changed record is matched again like a new one, its old features left out
            stay = pc.invert(pc.is_in(registry.column("unique_id"), value_set=changed.column("record_key")))
            registry, entity_of = registry.filter(stay), entity_of.filter(stay)
        registry = registry.append_column("id_confirmed", _confirmed(registry.column("unique_id"), confirmed))
        batch = build_features(new, config).append_column("org_member", extra["org_member"])
        batch = batch.append_column("id_confirmed", extra["id_confirmed"])
        done = attach(registry, entity_of, batch, model, config, namespace=dataset, cannot_link=rejected,
                      must_link=accepted)
        assignment, merges, links_table, review = done.assignment, done.merges, done.links, done.review
        if changed.num_rows:
            regrouped = _regroup(done, changed, known, registry, entity_of, model, config, dataset, rejected,
                                 accepted)
            assignment, merges, splits = regrouped.assignment, [*merges, *regrouped.merges], regrouped.splits
            relinked, left_behind = regrouped.relinked, regrouped.left
    rule_of = _rules(links_table)
    created = set(assignment.column("entity_id").to_pylist()) - set(known.column("entity_id").to_pylist())
    known = known.filter(pc.invert(pc.is_in(known.column("record_key"), value_set=pa.array(relinked, pa.string()))))
    moved_by_split = sorted(set(relinked) - set(new.column("record_key").to_pylist()))
    if moved_by_split:  # records moved by a split are not in this run's input: their rows are read for the links
        moved_rows = _published(engine, dataset, keys=pa.array(moved_by_split, pa.string()))
        new = pa.concat_tables([new, moved_rows.select(new.column_names).cast(new.schema)])
    organisation = dict(zip(new.column("record_key").to_pylist(), new.column("organisation").to_pylist(),
                            strict=True))
    links_rows = [{"record_key": r, "entity_id": e, "organisation": organisation.get(r),
                   "rule": "new" if e in created and rule_of.get(r) is None else (rule_of.get(r) or "model")}
                  for r, e in zip(assignment.column("record_id").to_pylist(),
                                  assignment.column("entity_id").to_pylist(), strict=True)]
    touched = set(assignment.column("entity_id").to_pylist()) | {s for _, s in merges} | left_behind
    entities = _golden(engine, dataset, touched, new, assignment, known, merges, priority)
    review_rows = [{"record_key_l": r["unique_id_l"], "record_key_r": r["unique_id_r"],
                    "match_probability": r["match_probability"]}
                   for r in review.select(["unique_id_l", "unique_id_r", "match_probability"]).to_pylist()]
    stats.update({"entities_created": len(created), "merges": len(merges), "review_pairs": len(review_rows),
                  "seconds": time.perf_counter() - started})
    if changed.num_rows:
        stats.update({"records_relinked": len(relinked), "splits": len(splits)})
    T.write_outcome(engine, dataset, run_id, links_rows=links_rows, merges=merges, entities=entities,
                    review=review_rows, stats={k: v for k, v in stats.items() if isinstance(v, int | float | str)},
                    relinked=relinked, splits=splits)
    if cache_dir is not None:  # without id_confirmed: it is read afresh each run, answers change
        batch = _without_confirmed(batch)
        if changed.num_rows:  # the changed records' old columns are dropped from the cache, the new ones added
            registry = _without_confirmed(registry)
            _store_cache(cache_dir, dataset, pa.concat_tables([registry, batch.cast(registry.schema)]), append=False)
        else:
            _store_cache(cache_dir, dataset, batch, append=mode == "incremental")
    if report_dir is not None:
        used = T.latest_model(engine, dataset)
        stats["report"] = str(write_match_report(report_dir / f"match-{dataset}-{run_id}.html", used, stats,
                                                 f"Match run {run_id} of {dataset}"))
    return stats


def _without_confirmed(features: pa.Table) -> pa.Table:
    return features.drop_columns([c for c in features.column_names if c == "id_confirmed"])


def _changed_since_linked(engine: Engine, dataset: str, rows: pa.Table, known: pa.Table) -> pa.Table:
    """The rows of ``rows`` already linked whose values changed after their link (``updated_at`` moves only
    when a value changes; a record republished for its entity id keeps it)."""
    linked = rows.filter(pc.is_in(rows.column("record_key"), value_set=known.column("record_key")))
    if not linked.num_rows:
        return linked
    when = T.linked_at(engine, dataset, linked.column("record_key").to_pylist())
    keep = [_utc(updated) > _utc(when[key]) for key, updated in
            zip(linked.column("record_key").to_pylist(), linked.column("updated_at").to_pylist(), strict=True)]
    return linked.filter(pa.array(keep, pa.bool_()))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


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


def _cache_path(cache_dir: Path, dataset: str) -> Path:
    return cache_dir / f"{dataset}-features.parquet"


def _registry_features(engine: Engine, dataset: str, config: MatchConfig, known: pa.Table,
                       cache_dir: Path | None) -> pa.Table:
    """The comparison columns of the linked records: from the cache when it covers exactly them, else rebuilt."""
    if cache_dir is not None and _cache_path(cache_dir, dataset).exists():
        cached = pq.read_table(_cache_path(cache_dir, dataset))
        if cached.num_rows == known.num_rows and pc.all(pc.is_in(cached.column("unique_id"),
                                                                 value_set=known.column("record_key"))).as_py():
            return cached
    rows = _published(engine, dataset, keys=known.column("record_key"))
    return build_features(rows, config).append_column("org_member", _org_member(rows))


def _store_cache(cache_dir: Path, dataset: str, batch: pa.Table, *, append: bool) -> None:
    """Append the batch's columns to the cache (or start it on a full run)."""
    path = _cache_path(cache_dir, dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = batch
    if append and path.exists():
        table = pa.concat_tables([pq.read_table(path), batch.cast(pq.read_schema(path))])
    pq.write_table(table, path)


def _published(engine: Engine, dataset: str, *, after: int | None = None, keys: pa.Array | None = None) -> pa.Table:
    table = PUBLISHED[dataset]
    columns = [table.c[c] for c in _READ if c in table.c]
    query = select(*columns).where(table.c.deleted.is_(False))
    if after is not None:
        query = query.where(table.c.published_seq > after)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql" and (keys is None or len(keys) > 50_000):
            out = _copy_out(conn, query, [c.name for c in columns])
            return out if keys is None else out.filter(pc.is_in(out.column("record_key"), value_set=keys))
        if keys is None:
            rows = list(conn.execute(query))
        elif len(keys) > 50_000:  # most of the registry: one scan beats many lookups
            wanted = set(keys.to_pylist())
            rows = [r for r in conn.execute(query) if r[0] in wanted]
        else:  # a few: by primary key, in chunks, so the cost follows the keys asked for, not the registry
            few = keys.to_pylist()
            rows = [r for i in range(0, len(few), 5_000)
                    for r in conn.execute(query.where(table.c.record_key.in_(few[i:i + 5_000])))]
    names = [c.name for c in columns]
    data = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    out = pa.table({n: pa.array(v, pa.string()) if n not in ("date_of_birth", "published_seq", "updated_at")
                    else pa.array(v) for n, v in data.items()})
    if "date_of_birth" in names and out.num_rows == 0:
        out = out.set_column(names.index("date_of_birth"), "date_of_birth", pa.array([], pa.date32()))
    return out


_TYPES = {"date_of_birth": pa.date32(), "published_seq": pa.int64(), "updated_at": pa.timestamp("us", tz="UTC")}


def _copy_out(conn: Connection, query: Select, names: list[str]) -> pa.Table:
    """The rows of ``query`` by ``COPY … TO STDOUT`` read by pyarrow: for the whole registry, ten times leaner
    than Python row objects (a million members took 4 GiB that way)."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    buf = io.BytesIO()
    with conn.connection.driver_connection.cursor() as cur, \
            cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy:
        for chunk in copy:
            buf.write(chunk)
    buf.seek(0)
    return pacsv.read_csv(buf, convert_options=pacsv.ConvertOptions(
        column_types={n: _TYPES.get(n, pa.string()) for n in names}, strings_can_be_null=True,
        quoted_strings_can_be_null=False))


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


def _trained_or_default(engine: Engine, dataset: str, config: MatchConfig, registry_size: int) -> dict[str, Any]:
    """Train on every published record and save the model; or, for a registry too small to train on (or one EM
    cannot converge on), save and return the shipped default model, marked as such (0 training rows)."""
    if registry_size >= MIN_TRAINING_RECORDS:
        rows = _published(engine, dataset)
        try:
            trained, _ = M.train(build_features(rows, config), config)
        except EMTrainingException as exc:
            log.warning("match %s: EM training failed (%s); using the shipped default model", dataset, exc)
            settings = default_model(dataset)
            # Negative training rows: EM failed at this size; tried again once the registry has doubled.
            T.save_model(engine, dataset, settings, [_DEFAULT_NOTE, f"EM failed on {rows.num_rows:,} records"],
                         -rows.num_rows)
            return settings
        else:
            T.save_model(engine, dataset, trained.settings, trained.notes, rows.num_rows)
            return trained.settings
    settings = default_model(dataset)
    T.save_model(engine, dataset, settings, [_DEFAULT_NOTE], 0)
    return settings


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


def _golden(engine: Engine, dataset: str, touched: set[str], new: pa.Table, assignment: pa.Table,
            known: pa.Table, merges: list[tuple[str, str]], priority: dict[str, list[str]] | None
            ) -> list[dict[str, Any]]:
    """Golden records of the touched entities, from all their records (old and new)."""
    survivor = dict(merges)
    members: dict[str, list[str]] = {}
    for key, entity in zip(known.column("record_key").to_pylist(), known.column("entity_id").to_pylist(),
                           strict=True):
        entity = survivor.get(entity, entity)
        if entity in touched:
            members.setdefault(entity, []).append(key)
    for key, entity in zip(assignment.column("record_id").to_pylist(), assignment.column("entity_id").to_pylist(),
                           strict=True):
        members.setdefault(entity, []).append(key)
    return golden_entities(engine, dataset, members, priority, rows={r["record_key"]: r for r in new.to_pylist()})


def golden_entities(engine: Engine, dataset: str, members: dict[str, list[str]],
                    priority: dict[str, list[str]] | None = None, *, rows: dict[str, dict] | None = None,
                    ) -> list[dict[str, Any]]:
    """Entity rows (record count, organisations, golden record) for ``members`` (entity id -> record keys),
    reading the published records not already in ``rows``. Used by the stage and after a review decision."""
    rows = dict(rows or {})
    missing = [k for keys in members.values() for k in keys if k not in rows]
    if missing:
        rows.update({r["record_key"]: r for r in _published(engine, dataset, keys=pa.array(missing)).to_pylist()})
    out = []
    for entity, keys in members.items():
        records = [rows[k] for k in keys if k in rows]
        out.append({"entity_id": entity, "record_count": len(records),
                    "organisations": sorted({r["organisation"] for r in records if r.get("organisation")}),
                    "golden": golden_record(records, priority)})
    return out
