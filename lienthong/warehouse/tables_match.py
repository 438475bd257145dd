"""Warehouse tables of entity resolution: entities, record links, match history and the review queue.

* ``match_entity`` — one row per person of a dataset: the golden record (survivorship, ``lienthong.match.golden``),
  its size and organisations; ``status`` ``active`` or ``merged`` (then ``merged_into`` names the survivor).
* ``match_link`` — every published record's entity, with how it got there (``rule``: a deterministic rule, the
  model, a review decision) and its probability. Memberships across organisations are the links grouped by
  (entity, organisation): one person, several memberships, no duplicate to delete.
* ``match_history`` — every creation, attachment, merge and split, append-only: published ids are never rewritten.
* ``match_review`` — pairs between the two thresholds, and the reviewer's decision; decisions are read by every
  later run (``accepted`` → must link, ``rejected`` → must not).
* ``match_model`` — the trained Splink model per dataset (its JSON), so every worker scores with the same one.
* ``match_run`` — one row per run, with the published sequence it matched up to (the incremental cursor).

The functions below are the only writers of these tables (rule 4 of STYLE.md: the warehouse is the one writer).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from lienthong.warehouse.bulk import insert_arrow
from lienthong.warehouse.tables_base import Json, Timestamp, metadata

match_entity = Table(
    "match_entity", metadata,
    Column("dataset", String(64), primary_key=True),
    Column("entity_id", String(16), primary_key=True),
    Column("status", String(16), nullable=False),  # active | merged
    Column("merged_into", String(16), nullable=True),
    Column("record_count", Integer, nullable=False),
    Column("organisations", Json, nullable=False),
    Column("golden", Json, nullable=False),  # field -> surviving value (see lienthong.match.golden)
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

match_link = Table(
    "match_link", metadata,
    Column("dataset", String(64), primary_key=True),
    Column("record_key", Text, primary_key=True),
    Column("entity_id", String(16), nullable=False),
    Column("organisation", String(64), nullable=True),
    Column("rule", String(32), nullable=False),  # model | same_cccd | same_org_member_id | review_accepted | new
    Column("run_id", Integer, nullable=False),
    Column("linked_at", Timestamp, nullable=False),
    Index("ix_match_link_entity", "dataset", "entity_id"),
)

match_history = Table(
    "match_history", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(64), nullable=False, index=True),
    Column("run_id", Integer, nullable=False),
    Column("event", String(16), nullable=False),  # created | merged | split | erased
    Column("entity_id", String(16), nullable=False),
    Column("other_entity_id", String(16), nullable=True),  # merged: the survivor; split: the new entity
    Column("detail", Json, nullable=True),
    Column("at", Timestamp, nullable=False),
)

match_review = Table(
    "match_review", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(64), nullable=False),
    Column("record_key_l", Text, nullable=False),
    Column("record_key_r", Text, nullable=False),
    Column("match_probability", Float, nullable=False),
    Column("status", String(16), nullable=False),  # open | accepted | rejected
    Column("decided_by", String(128), nullable=True),
    Column("decided_at", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_match_review_pair", "dataset", "record_key_l", "record_key_r", unique=True),
)

match_model = Table(
    "match_model", metadata,
    Column("dataset", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("settings", Json, nullable=False),
    Column("notes", Json, nullable=False),
    Column("training_rows", Integer, nullable=False),  # 0: shipped default (small registry); < 0: EM failed at -n
    Column("trained_at", Timestamp, nullable=False),
)

match_run = Table(
    "match_run", metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(64), nullable=False, index=True),
    Column("up_to_seq", Integer, nullable=False),  # published_seq matched up to (inclusive)
    Column("mode", String(16), nullable=False),  # full | incremental
    Column("records", Integer, nullable=False),
    Column("stats", Json, nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=True),
)


def _now() -> datetime:
    return datetime.now(UTC)


# --- reads ---------------------------------------------------------------------------------------------------


def last_run_seq(engine: Engine, dataset: str) -> int:
    """The published sequence the last finished run matched up to (0 before the first run)."""
    with engine.connect() as conn:
        seq = conn.execute(select(func.max(match_run.c.up_to_seq)).where(
            match_run.c.dataset == dataset, match_run.c.finished_at.is_not(None))).scalar()
    return int(seq or 0)


def latest_model(engine: Engine, dataset: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(match_model.c.settings).where(match_model.c.dataset == dataset)
                           .order_by(match_model.c.version.desc()).limit(1)).first()
    return row[0] if row else None


def latest_model_rows(engine: Engine, dataset: str) -> int | None:
    """How many records the newest model was trained on: 0 for the shipped default on a small registry, minus the
    registry size when EM failed on it and the default was used; None without a model."""
    with engine.connect() as conn:
        row = conn.execute(select(match_model.c.training_rows).where(match_model.c.dataset == dataset)
                           .order_by(match_model.c.version.desc()).limit(1)).first()
    return row[0] if row else None


def links(engine: Engine, dataset: str) -> pa.Table:
    """record_key → entity_id of every linked record of ``dataset``."""
    with engine.connect() as conn:
        rows = conn.execute(select(match_link.c.record_key, match_link.c.entity_id)
                            .where(match_link.c.dataset == dataset)).all()
    return pa.table({"record_key": pa.array([r[0] for r in rows], pa.string()),
                     "entity_id": pa.array([r[1] for r in rows], pa.string())})


def linked_at(engine: Engine, dataset: str, keys: list[str]) -> dict[str, datetime]:
    """When each of ``keys`` (linked records) was last linked: a record updated since must be matched again."""
    out: dict[str, datetime] = {}
    with engine.connect() as conn:
        for i in range(0, len(keys), 5_000):
            out.update(conn.execute(select(match_link.c.record_key, match_link.c.linked_at).where(
                match_link.c.dataset == dataset, match_link.c.record_key.in_(keys[i:i + 5_000]))).all())
    return out


def decisions(engine: Engine, dataset: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(accepted pairs, rejected pairs) of the review queue."""
    with engine.connect() as conn:
        rows = conn.execute(select(match_review.c.record_key_l, match_review.c.record_key_r, match_review.c.status)
                            .where(match_review.c.dataset == dataset,
                                   match_review.c.status.in_(("accepted", "rejected")))).all()
    accepted = [(a, b) for a, b, s in rows if s == "accepted"]
    return accepted, [(a, b) for a, b, s in rows if s == "rejected"]


def review_items(engine: Engine, dataset: str | None = None, status: str = "open") -> list[dict[str, Any]]:
    query = select(match_review).where(match_review.c.status == status).order_by(match_review.c.id)
    if dataset:
        query = query.where(match_review.c.dataset == dataset)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


# --- writes --------------------------------------------------------------------------------------------------


def save_model(engine: Engine, dataset: str, settings: dict[str, Any], notes: list[str], rows: int) -> int:
    with engine.begin() as conn:
        version = (conn.execute(select(func.max(match_model.c.version)).where(match_model.c.dataset == dataset))
                   .scalar() or 0) + 1
        conn.execute(insert(match_model).values(dataset=dataset, version=version, settings=settings, notes=notes,
                                                training_rows=rows, trained_at=_now()))
    return version


def start_run(engine: Engine, dataset: str, up_to_seq: int, mode: str, records: int) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(match_run).values(
            dataset=dataset, up_to_seq=up_to_seq, mode=mode, records=records, stats={}, started_at=_now())
        ).inserted_primary_key[0])


def write_outcome(engine: Engine, dataset: str, run_id: int, *, links_rows: list[dict[str, Any]],
                  merges: list[tuple[str, str]], entities: list[dict[str, Any]], review: list[dict[str, Any]],
                  stats: dict[str, Any], relinked: list[str] = (), splits: list[tuple[str, str, dict]] = ()
                  ) -> None:
    """One transaction: new links, merges (links re-pointed, entity marked merged, history), golden records
    of the touched entities, new review pairs, and the run marked finished (which moves the cursor).

    ``relinked``: records already linked whose link ``links_rows`` replaces (re-matched after a change, or moved
    by a split); ``splits``: (entity, new entity, detail) history events of entities that came apart.

    The published records whose ``entity_id`` changes (linked for the first time, or in an absorbed entity) get
    a new ``published_seq`` in the same transaction, so consumers following the change feed see the change."""
    now = _now()
    with engine.begin() as conn:
        from lienthong.warehouse.publishing import lock_publishing, republish_records  # it imports tables

        lock_publishing(conn, dataset)  # first: records whose entity changes get a new published_seq below
        if merges:  # the absorbed entities' records change entity_id: republished before their links move
            republish_records(conn, dataset, select(match_link.c.record_key).where(
                match_link.c.dataset == dataset, match_link.c.entity_id.in_([a for a, _ in merges])),
                why="entity merged")
        for chunk in range(0, len(relinked), 500):
            conn.execute(delete(match_link).where(match_link.c.dataset == dataset,
                                                  match_link.c.record_key.in_(list(relinked[chunk:chunk + 500]))))
        _bulk(conn, match_link, [{**r, "dataset": dataset, "run_id": run_id, "linked_at": now} for r in links_rows])
        _bulk(conn, match_history, [{"dataset": dataset, "run_id": run_id, "event": "split", "entity_id": e,
                                     "other_entity_id": other, "detail": detail, "at": now}
                                    for e, other, detail in splits])
        if links_rows:  # records linked for the first time now carry an entity_id
            republish_records(conn, dataset, select(match_link.c.record_key).where(
                match_link.c.dataset == dataset, match_link.c.run_id == run_id), why="entity assigned")
        created = [r["entity_id"] for r in links_rows if r["rule"] == "new"]
        _bulk(conn, match_history, [{"dataset": dataset, "run_id": run_id, "event": "created", "entity_id": e,
                                     "other_entity_id": None, "detail": None, "at": now}
                                    for e in dict.fromkeys(created)])
        for absorbed, survivor in merges:
            conn.execute(update(match_link).where(match_link.c.dataset == dataset,
                                                  match_link.c.entity_id == absorbed).values(entity_id=survivor))
            conn.execute(update(match_entity).where(match_entity.c.dataset == dataset,
                                                    match_entity.c.entity_id == absorbed)
                         .values(status="merged", merged_into=survivor, updated_at=now))
            conn.execute(insert(match_history).values(dataset=dataset, run_id=run_id, event="merged",
                                                      entity_id=absorbed, other_entity_id=survivor, at=now))
        ids = [e["entity_id"] for e in entities]
        for chunk in range(0, len(ids), 500):
            conn.execute(delete(match_entity).where(match_entity.c.dataset == dataset,
                                                    match_entity.c.entity_id.in_(ids[chunk:chunk + 500])))
        _bulk(conn, match_entity, [{**e, "dataset": dataset, "status": "active", "merged_into": None,
                                    "created_at": e.get("created_at") or now, "updated_at": now} for e in entities])
        if review:
            known = {(a, b) for a, b in conn.execute(select(match_review.c.record_key_l, match_review.c.record_key_r)
                                                     .where(match_review.c.dataset == dataset))}
            fresh = [r for r in review if (r["record_key_l"], r["record_key_r"]) not in known]
            if fresh:
                conn.execute(insert(match_review), [{**r, "dataset": dataset, "status": "open", "created_at": now}
                                                    for r in fresh])
        conn.execute(update(match_run).where(match_run.c.run_id == run_id).values(stats=stats, finished_at=now))


def _bulk(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: by COPY on PostgreSQL (a full run writes a million links, entities and history events;
    row-by-row that took minutes), by executemany elsewhere. JSON values go as JSON text, times as ISO text."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])

    def text_of(value: Any, column: str) -> Any:
        if value is None:
            return None
        if isinstance(table.c[column].type, JSON):
            return json.dumps(value, ensure_ascii=False, default=str)
        return value.isoformat() if isinstance(value, datetime) else value

    insert_arrow(conn, table, pa.table({c: pa.array([text_of(r.get(c), c) for r in rows]) for c in columns}))


def decide_review(engine: Engine, review_id: int, status: str, by: str) -> dict[str, Any] | None:
    """Record a reviewer's decision (``accepted`` or ``rejected``); returns the item, or None if unknown."""
    with engine.begin() as conn:
        row = conn.execute(select(match_review).where(match_review.c.id == review_id)).first()
        if row is None:
            return None
        conn.execute(update(match_review).where(match_review.c.id == review_id)
                     .values(status=status, decided_by=by, decided_at=_now()))
    return {**dict(row._mapping), "status": status}


def split_record(engine: Engine, dataset: str, record_key: str, new_entity_id: str, run_id: int) -> None:
    """Move one record out of its entity into a new one (after a rejection), recorded as a split."""
    now = _now()
    from lienthong.warehouse.publishing import lock_publishing, republish_records  # it imports tables

    with engine.begin() as conn:
        lock_publishing(conn, dataset)
        republish_records(conn, dataset, select(match_link.c.record_key).where(
            match_link.c.dataset == dataset, match_link.c.record_key == record_key), why="entity split")
        old = conn.execute(select(match_link.c.entity_id).where(match_link.c.dataset == dataset,
                                                                match_link.c.record_key == record_key)).scalar()
        conn.execute(update(match_link).where(match_link.c.dataset == dataset, match_link.c.record_key == record_key)
                     .values(entity_id=new_entity_id, rule="review_rejected", run_id=run_id, linked_at=now))
        conn.execute(insert(match_history).values(dataset=dataset, run_id=run_id, event="split", entity_id=old,
                                                  other_entity_id=new_entity_id, detail={"record_key": record_key},
                                                  at=now))
