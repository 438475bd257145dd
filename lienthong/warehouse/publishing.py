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

from sqlalchemy import Connection, Engine, Select, bindparam, delete, func, insert, select, text, update

from lienthong.warehouse.bulk import chunks
from lienthong.warehouse.landing import delivery
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
        upsert = _upsert_sql(conn.dialect.name, staging.name, published.name, fields, ranked=len(batch_ids) > 1)
        conn.execute(text(upsert).bindparams(bindparam("held", expanding=True)),
                     {"seq": seq, "now": now, "held": sorted(held_sources) or [""]})
        deleted = _apply_snapshots(conn, dataset, batch_ids, set(snapshot_sources), seq, now)
        inserted, updated = conn.execute(
            select(
                func.count().filter(published.c.version == 1),
                func.count().filter(published.c.version > 1),
            ).where(published.c.published_seq == seq)
        ).one()
        conn.execute(update(publication).where(publication.c.seq == seq)
                     .values(rows_inserted=inserted, rows_updated=updated))
        conn.execute(delete(staging).where(staging.c.batch_id.in_(batch_ids)))
        conn.execute(
            update(batch_t).where(batch_t.c.batch_id.in_(batch_ids))
            .values(status="published", published_at=now, rows_published=batch_t.c.rows_valid)
        )
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


def _key_part(value: object) -> str:
    """A key value of a quarantined row as the clean stage would have written it (NFC, single spaces)."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split()) if value is not None else ""



def _upsert_sql(dialect: str, staging: str, published: str, fields: list[str], *, ranked: bool) -> str:
    """INSERT ... SELECT ... ON CONFLICT, valid on PostgreSQL and SQLite (≥ 3.24).

    With several staged batches a record may be in more than one, and the newest wins (``ranked``). A single
    batch holds each key once (a repeated key is quarantined), so it skips the ranking, a sort of every row.
    """
    quoted = [f'"{f}"' for f in fields]
    differs = " OR ".join(
        f'p.{q} IS DISTINCT FROM excluded.{q}' if dialect == "postgresql" else f"p.{q} IS NOT excluded.{q}"
        for q in quoted
    )
    assignments = ", ".join(f"{q} = excluded.{q}" for q in quoted)
    cols = ", ".join(quoted)
    # The newest batch (highest landing seq), then the last row within it, wins for a record key.
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
