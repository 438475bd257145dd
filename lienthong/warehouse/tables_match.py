"""Warehouse tables of entity resolution: entities, record links, match history and the review queue.

* ``match_entity`` — one row per person of a dataset: the golden record (survivorship, ``lienthong.match.golden``;
  not stored for an entity of one record, whose golden record is that record's values), its size and
  organisations; ``status`` ``active`` or ``merged`` (then ``merged_into`` names the survivor).
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
import pyarrow.compute as pc
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from lienthong.warehouse.arrow_read import query_arrow
from lienthong.warehouse.bulk import insert_arrow
from lienthong.warehouse.statistics import refresh_statistics
from lienthong.warehouse.tables_base import Json, Timestamp, metadata

match_entity = Table(
    "match_entity", metadata,
    Column("dataset", String(64), primary_key=True),
    Column("entity_id", String(16), primary_key=True),
    Column("status", String(16), nullable=False),  # active | merged
    Column("merged_into", String(16), nullable=True),
    Column("record_count", Integer, nullable=False),
    Column("organisations", Json, nullable=False),
    # field -> surviving value (see lienthong.match.golden); null for an entity of one record: that record's values
    Column("golden", Json, nullable=True),
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
    Column("dataset", String(64), nullable=False),  # no index: nothing reads the log by dataset (migration 0008)
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
        return query_arrow(conn, select(match_link.c.record_key, match_link.c.entity_id)
                           .where(match_link.c.dataset == dataset))


def entity_links(engine: Engine, dataset: str, keys: pa.Array) -> pa.Table:
    """record_key → entity_id of every record of the entities ``keys`` are linked to: one statement, which
    PostgreSQL answers by index for a few keys and by one hashed scan of the links for many."""
    wanted = pc.unique(keys.cast(pa.string())).drop_null().to_pylist()
    of_dataset = match_link.c.dataset == dataset
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one statement, the keys as one bound array
            entities = select(match_link.c.entity_id).where(
                of_dataset, match_link.c.record_key == func.any(bindparam("keys", wanted, type_=ARRAY(Text))))
            rows = conn.execute(select(match_link.c.record_key, match_link.c.entity_id)
                                .where(of_dataset, match_link.c.entity_id.in_(entities))).all()
        else:
            entities = {e for i in range(0, len(wanted), 500) for e in conn.execute(
                select(match_link.c.entity_id).where(of_dataset, match_link.c.record_key.in_(wanted[i:i + 500])))
                .scalars()}
            found = sorted(entities)
            rows = [r for i in range(0, len(found), 500) for r in conn.execute(
                select(match_link.c.record_key, match_link.c.entity_id)
                .where(of_dataset, match_link.c.entity_id.in_(found[i:i + 500]))).all()]
    return pa.table({"record_key": pa.array([r[0] for r in rows], pa.string()),
                     "entity_id": pa.array([r[1] for r in rows], pa.string())})


def link_summary(engine: Engine, dataset: str) -> tuple[int, int | None]:
    """How many records of ``dataset`` are linked, and the last run that linked any (None: none)."""
    with engine.connect() as conn:
        count, last = conn.execute(select(func.count(), func.max(match_link.c.run_id))
                                   .where(match_link.c.dataset == dataset)).one()
    return int(count), last


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


def write_outcome(engine: Engine, dataset: str, run_id: int, *, links: pa.Table | None = None,
                  merges: list[tuple[str, str]] = (), entities: pa.Table | None = None,
                  review: pa.Table | None = None, stats: dict[str, Any], relinked: list[str] = (),
                  splits: list[tuple[str, str, dict]] = (), last_part: bool = True) -> None:
    """One transaction: new links, merges (links re-pointed, entity marked merged, history), golden records
    of the touched entities, new review pairs, and the run marked finished (which moves the cursor).

    Args:
        links: ``record_key``, ``entity_id``, ``organisation``, ``rule``: the links this run makes (rule ``new``:
            the record starts an entity, recorded as created).
        merges: (absorbed entity, survivor) pairs.
        entities: ``entity_id``, ``record_count``, ``organisations``, ``golden`` (JSON text): entities whose golden
            record is rebuilt; an existing entity keeps its ``created_at``.
        review: ``record_key_l``, ``record_key_r``, ``match_probability``: pairs to review (known pairs skipped).
        relinked: records already linked whose link ``links`` replaces (re-matched after a change, or moved by a
            split).
        splits: (entity, new entity, detail) history events of entities that came apart.
        last_part: false for a part of a run with more to match (``lienthong.match.stage``): the cursor stays.

    The published records whose ``entity_id`` changes (linked for the first time, or in an absorbed entity) get
    a new ``published_seq`` in the same transaction, so consumers following the change feed see the change; when
    nothing else was published since the run read its records, the run's cursor moves past those republications
    too (the next run would otherwise read the whole registry again to find nothing new in it)."""
    now = _now()
    with engine.begin() as conn:
        from lienthong.warehouse.publishing import lock_publishing, republish_records  # it imports tables
        from lienthong.warehouse.tables import PUBLISHED, publication

        lock_publishing(conn, dataset)  # first: records whose entity changes get a new published_seq below
        if conn.dialect.name == "postgresql":  # a million links hashed to republish their records: in memory, not
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")  # spilled in 4 MB pieces (as publishing does)
        up_to = conn.execute(select(match_run.c.up_to_seq).where(match_run.c.run_id == run_id)).scalar()
        newest = conn.execute(select(func.max(publication.c.seq)).where(publication.c.dataset == dataset)).scalar()
        caught_up = last_part and (newest or 0) <= (up_to or 0)
        republished = 0
        if merges:  # the absorbed entities' records change entity_id: republished before their links move
            republished += republish_records(conn, dataset, select(match_link.c.record_key).where(
                match_link.c.dataset == dataset, match_link.c.entity_id.in_([a for a, _ in merges])),
                why="entity merged")
        stayed = _staying(conn, dataset, links, list(relinked))
        _delete_keys(conn, match_link, dataset, match_link.c.record_key, list(relinked))
        if links is not None and links.num_rows:
            # in key order: PostgreSQL then appends to the primary key's index instead of splitting pages all over
            # it (a first run's million links: about half the time)
            _insert_links(conn, _with(links.sort_by("record_key"), dataset=dataset, run_id=run_id, linked_at=now))
            # records linked for the first time, or moved to another entity, now serve another entity_id; a
            # record matched again into the entity it had serves the same one: not published again for it
            linked = select(match_link.c.record_key).where(match_link.c.dataset == dataset,
                                                           match_link.c.run_id == run_id)
            assigned = linked.where(_not_among(conn, match_link.c.record_key, stayed)) if stayed else linked
            republished += republish_records(conn, dataset, assigned, why="entity assigned")
            created = pc.unique(links.filter(pc.equal(links.column("rule"), "new")).column("entity_id"))
            _history(conn, dataset, run_id, "created", created, now)
        for entity, other, detail in splits:
            conn.execute(insert(match_history).values(dataset=dataset, run_id=run_id, event="split", entity_id=entity,
                                                      other_entity_id=other, detail=detail, at=now))
        for absorbed, survivor in merges:
            conn.execute(update(match_link).where(match_link.c.dataset == dataset,
                                                  match_link.c.entity_id == absorbed).values(entity_id=survivor))
            conn.execute(update(match_entity).where(match_entity.c.dataset == dataset,
                                                    match_entity.c.entity_id == absorbed)
                         .values(status="merged", merged_into=survivor, updated_at=now))
            conn.execute(insert(match_history).values(dataset=dataset, run_id=run_id, event="merged",
                                                      entity_id=absorbed, other_entity_id=survivor, at=now))
        if entities is not None and entities.num_rows:
            _upsert_entities(conn, dataset, entities, now)
        if review is not None and review.num_rows:
            _insert_review(conn, dataset, review, now)
        values: dict[str, Any] = {"stats": stats, "finished_at": now}
        if caught_up:
            values["up_to_seq"] = conn.execute(select(func.max(publication.c.seq))
                                               .where(publication.c.dataset == dataset)).scalar() or up_to
        conn.execute(update(match_run).where(match_run.c.run_id == run_id).values(**values))
    links_written = (links.num_rows if links is not None else 0) + len(relinked)  # and those deleted first
    refresh_statistics(engine, {
        match_link.name: links_written,
        match_entity.name: (entities.num_rows if entities is not None else 0) + len(merges),
        match_history.name: links_written + len(merges) + len(splits),  # at most one "created" per new link
        PUBLISHED[dataset].name: republished,
    }, columns={match_entity.name: ("dataset", "entity_id", "status", "merged_into")})


# Links written at once past which, into an empty table, the entity index is built after them rather than kept up
# during the COPY.
BULK_LINKS = 100_000


def _insert_links(conn: Connection, rows: pa.Table) -> None:
    """COPY the links in. The registry's first links, when many (a first run: every record of the dataset), go into
    the table without its entity index, built once after them: its ids are hashes, so kept up during the COPY it
    takes each link at a random place (a million links on PostgreSQL: 5.1 s with it, 1.9 + 1.3 s without and then
    built). Only into an empty table: the index is dropped for this transaction, and others wait on the table."""
    if conn.dialect.name != "postgresql" or rows.num_rows < BULK_LINKS or \
            conn.execute(select(match_link.c.record_key).limit(1)).first() is not None:
        insert_arrow(conn, match_link, rows)
        return
    entity_index = next(i for i in match_link.indexes if i.name == "ix_match_link_entity")
    entity_index.drop(conn)
    insert_arrow(conn, match_link, rows)
    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")  # the index's sort in memory, in one piece
    entity_index.create(conn)


def _staying(conn: Connection, dataset: str, links: pa.Table | None, relinked: list[str]) -> list[str]:
    """The relinked records whose new link keeps the entity they had (matched again after a change)."""
    if not relinked or links is None or not links.num_rows:
        return []
    new = dict(zip(links.column("record_key").to_pylist(), links.column("entity_id").to_pylist(), strict=True))
    old = {}
    for i in range(0, len(relinked), 5_000):
        old.update(conn.execute(select(match_link.c.record_key, match_link.c.entity_id).where(
            match_link.c.dataset == dataset, match_link.c.record_key.in_(relinked[i:i + 5_000]))).all())
    return sorted(k for k, e in old.items() if new.get(k) == e)


def _not_among(conn: Connection, column: Column, keys: list[str]) -> Any:
    """``column NOT IN keys``; on PostgreSQL as one bound array, as :func:`_delete_keys` does (a re-sent file can
    relink more records than a statement takes bound parameters, 65,535)."""
    if conn.dialect.name == "postgresql":
        return column != func.all(bindparam("stayed", keys, type_=ARRAY(Text)))
    return column.not_in(keys)


def _with(table: pa.Table, **constants: Any) -> pa.Table:
    """``table`` with a column per constant (same value in every row)."""
    for name, value in constants.items():
        table = table.append_column(name, pa.repeat(pa.scalar(value), table.num_rows))
    return table


def _history(conn: Connection, dataset: str, run_id: int, event: str, entities: pa.Array, at: datetime) -> None:
    if len(entities):
        insert_arrow(conn, match_history, _with(pa.table({"entity_id": entities}), dataset=dataset, run_id=run_id,
                                                event=event, at=at))


def _delete_keys(conn: Connection, table: Table, dataset: str, column: Column, keys: list[str]) -> None:
    """Delete the dataset's rows whose ``column`` is one of ``keys``: in bounded IN lists (one bound array on
    PostgreSQL, so a million keys cost one statement, not two thousand)."""
    if not keys:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(delete(table).where(table.c.dataset == dataset,
                                         column == func.any(bindparam("keys", type_=ARRAY(Text)))), {"keys": keys})
        return
    for chunk in range(0, len(keys), 500):
        conn.execute(delete(table).where(table.c.dataset == dataset, column.in_(keys[chunk:chunk + 500])))


def _upsert_entities(conn: Connection, dataset: str, entities: pa.Table, now: datetime) -> None:
    """Write the rebuilt entities, active, keeping the ``created_at`` of those that existed. PostgreSQL: COPY into a
    temporary table and one ``INSERT … ON CONFLICT``; elsewhere the same upsert per row batch."""
    rows = _with(entities.select(["entity_id", "record_count", "organisations", "golden"]).sort_by("entity_id"),
                 dataset=dataset, status="active", created_at=now, updated_at=now)  # key order, as the links
    rows = rows.append_column("merged_into", pa.nulls(rows.num_rows, pa.string()))
    if conn.dialect.name == "postgresql":
        if conn.execute(select(match_entity.c.entity_id).where(match_entity.c.dataset == dataset).limit(1)).first() \
                is None:  # a first run: nothing to keep, straight in
            insert_arrow(conn, match_entity, rows)
            return
        conn.exec_driver_sql("CREATE TEMP TABLE match_entity_in (LIKE match_entity) ON COMMIT DROP")
        insert_arrow(conn, Table("match_entity_in", MetaData(), *(Column(c.name, c.type) for c in match_entity.c)),
                     rows)
        columns = ", ".join(c.name for c in match_entity.c)
        conn.exec_driver_sql(f"""INSERT INTO match_entity ({columns}) SELECT {columns} FROM match_entity_in
            ON CONFLICT (dataset, entity_id) DO UPDATE SET status = excluded.status, merged_into = NULL,
                record_count = excluded.record_count, organisations = excluded.organisations,
                golden = excluded.golden, updated_at = excluded.updated_at""")
        conn.exec_driver_sql("DROP TABLE match_entity_in")
        return
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    statement = sqlite_insert(match_entity)
    statement = statement.on_conflict_do_update(
        index_elements=["dataset", "entity_id"],
        set_={c: statement.excluded[c] for c in ("status", "merged_into", "record_count", "organisations", "golden",
                                                 "updated_at")})
    records = rows.to_pylist()
    for r in records:  # JSON columns arrive as text; SQLAlchemy's JSON type wants the values
        r["organisations"] = json.loads(r["organisations"])
        r["golden"] = None if r["golden"] is None else json.loads(r["golden"])
    for chunk in range(0, len(records), 20_000):
        conn.execute(statement, records[chunk:chunk + 20_000])


def _insert_review(conn: Connection, dataset: str, review: pa.Table, now: datetime) -> None:
    """New review pairs, open; a pair already queued (or decided) is left as it is."""
    rows = _with(review.select(["record_key_l", "record_key_r", "match_probability"]), dataset=dataset,
                 status="open", created_at=now)
    known = {(a, b) for a, b in conn.execute(select(match_review.c.record_key_l, match_review.c.record_key_r)
                                             .where(match_review.c.dataset == dataset))}
    fresh = [r for r in rows.to_pylist() if (r["record_key_l"], r["record_key_r"]) not in known]
    if fresh:
        insert_arrow(conn, match_review, pa.Table.from_pylist(fresh, schema=rows.schema))


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
