"""Publish: move every staged batch of a dataset into its published table in one transaction.

Readers of ``pub_<dataset>`` never see half a publication: the upsert, the staging clean-up and the batch status
change commit together or not at all (SQLite in WAL mode and PostgreSQL both give readers the last committed
version meanwhile). A record whose values did not change keeps its version, so re-publishing the same data is a
no-op for consumers pulling changes since a ``published_seq``.

A source whose every delivery is its whole list (``full_snapshot: true`` in its YAML) also loses what a delivery no
longer holds: those records become tombstones (``deleted``, version and ``published_seq`` bumped) so consumers see
the deletion. A record that is still in the delivery but quarantined is not deleted, a record that comes back is
published again, and a delivery that would delete more than half of the source's live records is taken for a
truncated export: nothing is deleted and a warning says so.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Select, Table, bindparam, delete, func, insert, select, text, update

from lienthong.warehouse.bulk import chunks
from lienthong.warehouse.landing import delivery
from lienthong.warehouse.statistics import refresh_statistics
from lienthong.warehouse.tables import PUBLISHED, STAGING, publication, quarantine
from lienthong.warehouse.tables import batch as batch_t
from schemas import get_contract

log = logging.getLogger(__name__)
MAX_DELETED_SHARE = 0.5  # a snapshot deleting more of a source's live records than this is taken for a truncation


@dataclass(frozen=True)
class Publication:
    dataset: str
    seq: int | None  # None when nothing was staged
    batches: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_deleted: int = 0  # records a full snapshot no longer held, now tombstones (counted in rows_updated too)
    batch_ids: tuple[str, ...] = ()  # the batches published (landing order)


def publish(engine: Engine, dataset: str, *, snapshot_sources: Collection[str] = (),
            held_sources: Collection[str] = ()) -> Publication:
    """Publish all staged batches of ``dataset``; the newest batch wins when several carry the same record.

    Args:
        engine: the warehouse.
        dataset: the dataset to publish.
        snapshot_sources: ids of the sources whose deliveries are their whole list (see the module docstring).
        held_sources: ids of the sources whose staged batches wait (their identity verification is required and
            could not be done): they stay staged for the next publication.
    """
    staging, published = STAGING[dataset], PUBLISHED[dataset]
    fields = get_contract(dataset).field_names()
    with engine.begin() as conn:
        # One publisher per dataset at a time (Airflow and the API's processing workers may run several), and
        # the staged batches are read only once the lock is held, so two publishers never take the same batch.
        lock_publishing(conn, dataset)
        batch_ids = conn.execute(
            select(batch_t.c.batch_id).where(batch_t.c.dataset == dataset, batch_t.c.status == "staged",
                                             batch_t.c.source_id.not_in(list(held_sources)))
            .order_by(batch_t.c.seq)
        ).scalars().all()
        if not batch_ids:
            return Publication(dataset, None, 0, 0, 0, 0)
        now = datetime.now(UTC)
        seq = conn.execute(
            insert(publication).values(dataset=dataset, published_at=now, batch_ids=list(batch_ids),
                                       rows_inserted=0, rows_updated=0).returning(publication.c.seq)
        ).scalar_one()
        staged_rows = conn.execute(
            select(func.count()).select_from(staging).where(staging.c.batch_id.in_(batch_ids))
        ).scalar_one()
        params = {"seq": seq, "now": now, "held": sorted(held_sources) or [""]}
        inserted, updated = _write_published(conn, staging.name, published.name, fields, params,
                                             ranked=len(batch_ids) > 1)
        deleted = _apply_snapshots(conn, dataset, batch_ids, set(snapshot_sources), seq, now)
        if inserted is None or deleted:  # a tombstoned record may also have been updated: count each record once
            inserted, updated = conn.execute(
                select(
                    func.count().filter(published.c.version == 1),
                    func.count().filter(published.c.version > 1),
                ).where(published.c.published_seq == seq)
            ).one()
        conn.execute(update(publication).where(publication.c.seq == seq)
                     .values(rows_inserted=inserted, rows_updated=updated))
        _clear_staging(conn, staging, batch_ids)
        conn.execute(
            update(batch_t).where(batch_t.c.batch_id.in_(batch_ids))
            .values(status="published", published_at=now, rows_published=batch_t.c.rows_valid)
        )
    refresh_statistics(engine, {published.name: inserted + updated + deleted})
    distinct_keys = inserted + updated - deleted
    return Publication(dataset, seq, len(batch_ids), inserted, updated, max(staged_rows - distinct_keys, 0), deleted,
                       tuple(batch_ids))


def lock_publishing(conn: Connection, dataset: str) -> None:
    """Take the dataset's publishing lock for the rest of ``conn``'s transaction; call it first in a transaction.

    Held by whatever gives records a new ``published_seq`` (publishing, an entity change), so seqs of a dataset
    commit in the order they were drawn and nothing ever appears behind a cursor a consumer already holds.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:d))"), {"d": f"publish:{dataset}"})
    else:  # SQLite: take the database's write lock now, not at the first write after a read
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def republish_records(conn: Connection, dataset: str, keys: Select, *, why: str) -> int:
    """Give the live records whose key ``keys`` selects a new publication: ``published_seq`` and ``version``
    bumped, values and ``updated_at`` unchanged. For a change of what is served beside the values — a record's
    ``entity_id`` after a match, merge or split — so a consumer syncing ``since`` a cursor sees it again.

    The caller holds :func:`lock_publishing` (taken first in its transaction). Returns how many records moved.
    """
    published = PUBLISHED[dataset]
    now = datetime.now(UTC)
    seq = conn.execute(insert(publication).values(dataset=dataset, published_at=now, batch_ids=[],
                                                  rows_inserted=0, rows_updated=0).returning(publication.c.seq)
                       ).scalar_one()
    moved = conn.execute(update(published).where(published.c.record_key.in_(keys), ~published.c.deleted)
                         .values(published_seq=seq, version=published.c.version + 1)).rowcount
    if moved:
        conn.execute(update(publication).where(publication.c.seq == seq).values(rows_updated=moved))
    else:
        conn.execute(delete(publication).where(publication.c.seq == seq))
    log.info("%s: %d records republished (%s), publication %s", dataset, moved, why, seq if moved else "-")
    return moved


def _apply_snapshots(conn: Connection, dataset: str, batch_ids: list[str], snapshots: set[str], seq: int,
                     now: datetime) -> int:
    """Tombstone the records of each snapshot source that its newest delivery here no longer holds."""
    if not snapshots:
        return 0
    staging, published = STAGING[dataset], PUBLISHED[dataset]
    newest = dict(conn.execute(select(batch_t.c.source_id, batch_t.c.batch_id).where(
        batch_t.c.batch_id.in_(batch_ids), batch_t.c.source_id.in_(snapshots)).order_by(batch_t.c.seq)).all())
    key_fields = get_contract(dataset).key
    deleted = 0
    for source_id, batch_id in newest.items():
        delivered = delivery(conn, batch_id, batch_ids)  # a file landed in parts: all its parts
        if delivered is None:
            log.warning("%s: delivery %s is not staged whole (parts missing); nothing deleted", source_id, batch_id)
            continue
        present = set(conn.execute(select(staging.c.record_key).where(staging.c.batch_id.in_(delivered))).scalars())
        for record in conn.execute(select(quarantine.c.record).where(quarantine.c.batch_id.in_(delivered))).scalars():
            present.add(":".join([source_id, *(_key_part(record.get(k)) for k in key_fields)]))
        live = set(conn.execute(select(published.c.record_key).where(
            published.c.source_id == source_id, ~published.c.deleted)).scalars())
        gone = live - present
        if not gone:
            continue
        if len(gone) > MAX_DELETED_SHARE * len(live):
            log.warning("%s: delivery %s would delete %d of %d live records; taken for a truncated export, "
                        "nothing deleted", source_id, batch_id, len(gone), len(live))
            continue
        for chunk in chunks(sorted(gone), 10_000):
            deleted += conn.execute(update(published).where(published.c.record_key.in_(chunk)).values(
                deleted=True, version=published.c.version + 1, published_seq=seq, updated_at=now)).rowcount
    return deleted


def _clear_staging(conn: Connection, staging: Table, batch_ids: list[str]) -> None:
    """Remove the published batches' rows from staging.

    On PostgreSQL, when staging holds nothing else (the usual case), TRUNCATE it: deleting a million rows one by one
    costs a sixth of the publication. The table is locked first, so a batch being staged meanwhile either committed
    before (and its rows are seen, so the rows are deleted one by one) or waits for this transaction to end.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text(f'LOCK TABLE "{staging.name}" IN ACCESS EXCLUSIVE MODE'))
        others = conn.execute(select(staging.c.batch_id).where(staging.c.batch_id.not_in(batch_ids)).limit(1)).first()
        if others is None:
            conn.execute(text(f'TRUNCATE "{staging.name}"'))
            return
    conn.execute(delete(staging).where(staging.c.batch_id.in_(batch_ids)))


def _key_part(value: object) -> str:
    """A key value of a quarantined row as the clean stage would have written it (NFC, single spaces)."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split()) if value is not None else ""



def _write_published(conn: Connection, staging: str, published: str, fields: list[str], params: dict, *,
                     ranked: bool) -> tuple[int | None, int | None]:
    """Write the staged rows into the published table; (inserted, updated) when the database says, else Nones.

    PostgreSQL, set-based: one UPDATE of the records whose values changed (a hash join of the staged rows against
    the table), then one INSERT of the new keys (an anti-join), each a single pass. An ``INSERT … ON CONFLICT``
    probes the key index row by row and was 2–3× slower here (docs/BENCHMARKS.md); it is safe without it because
    no other writer adds records to a published table while the publishing lock is held. Rows are not sorted by
    key first: the sort of a large batch spilled to disk and cost more than it saved in index maintenance.
    SQLite: one ``INSERT … ON CONFLICT``.
    """
    held = bindparam("held", expanding=True)
    if conn.dialect.name != "postgresql":
        conn.execute(text(_upsert_sql(staging, published, fields, ranked=ranked)).bindparams(held), params)
        return None, None
    # The hash joins of a whole batch against the table stay in memory rather than spilling in 4 MB pieces.
    conn.execute(text("SET LOCAL work_mem = '64MB'"))
    update_sql, insert_sql = _set_based_sql(staging, published, fields, ranked=ranked)
    updated = conn.execute(text(update_sql).bindparams(held), params).rowcount
    inserted = conn.execute(text(insert_sql).bindparams(held), params).rowcount
    return inserted, updated


def _staged_rows(staging: str, *, ranked: bool) -> str:
    """The staged rows to publish, one per record key: with several batches the newest batch (highest landing
    seq), then the last row within it, wins. A single batch holds each key once (a repeated key is quarantined),
    so it skips the ranking, a sort of every row."""
    if ranked:
        return f"""SELECT DISTINCT ON (s.record_key) s.* FROM "{staging}" s JOIN batch b ON b.batch_id = s.batch_id
            WHERE b.status = 'staged' AND b.source_id NOT IN :held ORDER BY s.record_key, b.seq DESC, s.row_no DESC"""
    return f"""SELECT s.* FROM "{staging}" s JOIN batch b ON b.batch_id = s.batch_id
            WHERE b.status = 'staged' AND b.source_id NOT IN :held"""


def _set_based_sql(staging: str, published: str, fields: list[str], *, ranked: bool) -> tuple[str, str]:
    """PostgreSQL: (UPDATE of the changed or tombstoned records, INSERT of the new ones), in that order."""
    quoted = [f'"{f}"' for f in fields]
    rows = _staged_rows(staging, ranked=ranked)
    differs = " OR ".join(f"p.{q} IS DISTINCT FROM r.{q}" for q in quoted)
    update = f"""
        UPDATE "{published}" AS p SET
            source_id = r.source_id, batch_id = r.batch_id, row_no = r.row_no,
            {", ".join(f"{q} = r.{q}" for q in quoted)},
            version = p.version + 1, published_seq = :seq, updated_at = :now, deleted = false
        FROM ({rows}) AS r
        WHERE p.record_key = r.record_key AND ({differs} OR p.deleted)
    """
    cols = ", ".join(quoted)
    insert = f"""
        INSERT INTO "{published}" (record_key, source_id, batch_id, row_no, {cols}, version, published_seq,
                                   updated_at, deleted)
        SELECT r.record_key, r.source_id, r.batch_id, r.row_no, {", ".join(f"r.{q}" for q in quoted)}, 1, :seq,
               :now, false
        FROM ({rows}) AS r
        WHERE NOT EXISTS (SELECT 1 FROM "{published}" AS q WHERE q.record_key = r.record_key)
    """
    return update, insert


def _upsert_sql(staging: str, published: str, fields: list[str], *, ranked: bool) -> str:
    """SQLite (≥ 3.24): INSERT ... SELECT ... ON CONFLICT, the newest staged row winning for a record key."""
    quoted = [f'"{f}"' for f in fields]
    differs = " OR ".join(f"p.{q} IS NOT excluded.{q}" for q in quoted)
    assignments = ", ".join(f"{q} = excluded.{q}" for q in quoted)
    cols = ", ".join(quoted)
    rows = f"""
        WITH ranked AS (
            SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.record_key ORDER BY b.seq DESC, s.row_no DESC) AS rn
            FROM "{staging}" s JOIN batch b ON b.batch_id = s.batch_id
            WHERE b.status = 'staged' AND b.source_id NOT IN :held
        )""" if ranked else f"""
        WITH ranked AS (
            SELECT s.*, 1 AS rn FROM "{staging}" s JOIN batch b ON b.batch_id = s.batch_id
            WHERE b.status = 'staged' AND b.source_id NOT IN :held
        )"""
    return f"""{rows}
        INSERT INTO "{published}" AS p
            (record_key, source_id, batch_id, row_no, {cols}, version, published_seq, updated_at, deleted)
        SELECT record_key, source_id, batch_id, row_no, {cols}, 1, :seq, :now, false
        FROM ranked WHERE rn = 1
        ON CONFLICT (record_key) DO UPDATE SET
            source_id = excluded.source_id, batch_id = excluded.batch_id, row_no = excluded.row_no,
            {assignments},
            version = p.version + 1, published_seq = excluded.published_seq, updated_at = excluded.updated_at,
            deleted = false
        WHERE {differs} OR p.deleted
    """
