"""The raw zone and source state: land a batch once, keep it immutable, and remember each source's cursor.

A batch's life: ``landed`` → ``staged`` → ``published``, or ``failed`` with a reason in English and Vietnamese
(:func:`mark_failed`: processing raised, or the sweeper found it stuck). Landing the same content again resets a
failed batch to ``landed`` (reason cleared) so a re-send, a re-run or a retried task processes it again.
Identity is enforced by the database (``INSERT … ON CONFLICT DO NOTHING`` on the batch id), so concurrent landings
of the same payload give one batch and no error.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from connectors.base import Batch, Cursor
from lienthong.warehouse import idempotency
from lienthong.warehouse.conflicts import insert_if_absent
from lienthong.warehouse.tables import batch as batch_t
from lienthong.warehouse.tables import raw_payload, source_state

log = logging.getLogger(__name__)

# zstd: a 200 MiB CSV lands in ~0.7 s as 57 MiB, where PostgreSQL's own pglz TOAST takes ~7 s (docs/BENCHMARKS.md).
RAW_CODEC = "zstd"
FINAL_STATUSES = frozenset({"published", "failed"})


@dataclass(frozen=True)
class Landed:
    batch_id: str
    is_new: bool
    status: str
    retried: bool = False  # a failed batch landed again: reset to ``landed`` to be processed once more


@dataclass(frozen=True)
class RawBatch:
    batch_id: str
    source_id: str
    dataset: str
    payload: bytes
    media_type: str
    origin: str
    read_options: dict[str, Any]


def batch_identity(source_id: str, payload: bytes, identity: str | None = None) -> tuple[str, str]:
    """(batch_id, sha256): the same payload from the same source is the same batch, whenever it arrives.

    ``identity`` (``Batch.identity``) replaces the payload's hash in the id: a part of a large file is the same
    batch whenever the same file arrives again, and only then.
    """
    sha = hashlib.sha256(payload).hexdigest()
    batch_id = "b" + hashlib.sha256(f"{source_id}\0{identity or sha}".encode()).hexdigest()[:24]
    return batch_id, sha


def land(engine: Engine, *, source_id: str, dataset: str, item: Batch,
         claim: idempotency.Claim | None = None) -> Landed:
    """Store ``item`` in the raw zone unless the same payload was landed before for this source.

    Safe under concurrency: of several simultaneous landings of one payload, one inserts the batch and the others
    get it as a duplicate. A failed batch landed again is reset to ``landed`` (``retried``).

    Args:
        engine: the warehouse.
        source_id: the source the payload belongs to.
        dataset: the source's dataset.
        item: the payload and its parsed records.
        claim: an upload's ``Idempotency-Key``, claimed in the same transaction; when the key already stands for
            a batch of the same records (re-encoded), that batch is returned and ``item`` is not landed.

    Raises:
        lienthong.warehouse.idempotency.KeyReused: the key was used for another source or other records.
    """
    batch_id, sha = batch_identity(source_id, item.payload, item.identity)
    if claim is None:  # a re-send of a batch that is not failed: nothing to write, no need to compress
        found = landed_status(engine, batch_id)
        if found is not None and found != "failed":
            return Landed(batch_id, is_new=False, status=found)
    compressed = pa.Codec(RAW_CODEC).compress(item.payload, asbytes=True)  # before the transaction: keep it short
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if claim is not None:
            claimed = idempotency.claim(conn, claim, batch_id)
            if claimed != batch_id:
                if _status(conn, claimed) is not None:
                    return _again(conn, claimed, now)
                idempotency.repoint(conn, claim, batch_id)
        new = insert_if_absent(conn, batch_t, {
            "batch_id": batch_id, "source_id": source_id, "dataset": dataset, "content_sha256": _content_key(item, sha),
            "origin": item.origin, "media_type": item.media_type, "read_options": item.read_options,
            "cursor": item.cursor, "status": "landed", "rows_read": item.row_count, "landed_at": now})
        if not new:
            return _again(conn, batch_id, now)
        conn.execute(insert(raw_payload).values(batch_id=batch_id, sha256=sha, codec=RAW_CODEC,
                                                size=len(item.payload), payload=compressed))
    return Landed(batch_id, is_new=True, status="landed")


def _content_key(item: Batch, sha: str) -> str:
    """What ``batch.content_sha256`` holds, unique per source: the payload's SHA-256, or for a part of a file the
    SHA-256 of its identity (two files may share a part's bytes: next month's list starting as this month's)."""
    return sha if item.identity is None else hashlib.sha256(item.identity.encode()).hexdigest()


def _again(conn: Connection, batch_id: str, now: datetime) -> Landed:
    """A batch landed before: reset it when it failed, else say where it is."""
    reset = conn.execute(update(batch_t).where(batch_t.c.batch_id == batch_id, batch_t.c.status == "failed").values(
        status="landed", error_en=None, error_vi=None, failed_at=None, processing_since=None, landed_at=now))
    if reset.rowcount:
        log.info("batch %s failed before and was landed again: reset to landed, to be processed again", batch_id)
        return Landed(batch_id, is_new=False, status="landed", retried=True)
    return Landed(batch_id, is_new=False, status=_status(conn, batch_id) or "landed")


def _status(conn: Connection, batch_id: str) -> str | None:
    return conn.execute(select(batch_t.c.status).where(batch_t.c.batch_id == batch_id)).scalar()


def delivery(conn: Connection, batch_id: str, among: Collection[str]) -> list[str] | None:
    """The batches of ``batch_id``'s delivery among ``among``: every part of a file landed in parts (None when some
    part is not among them: the delivery cannot be judged whole), else the batch alone."""
    options = conn.execute(select(batch_t.c.read_options).where(batch_t.c.batch_id == batch_id)).scalar() or {}
    part = options.get("part")
    if not part:
        return [batch_id]
    rows = conn.execute(select(batch_t.c.batch_id, batch_t.c.read_options).where(batch_t.c.batch_id.in_(among)))
    parts = [b for b, o in rows if (o or {}).get("part", {}).get("file_sha256") == part["file_sha256"]
             and (o or {}).get("part", {}).get("rows") == part["rows"]]
    return parts if len(parts) == int(part["of"]) else None


def landed_status(engine: Engine, batch_id: str) -> str | None:
    """The status of a batch, or ``None`` when it was never landed."""
    with engine.connect() as conn:
        return _status(conn, batch_id)


def mark_failed(engine: Engine, batch_id: str, message_en: str, message_vi: str) -> bool:
    """Mark a batch that is not published ``failed`` with its reason; False when it was published (or unknown).

    The reason is shown to the clerk (batch report, web page) and the operator (``lienthong status``): say what
    happened and what to do, never a traceback. Landing the same content again retries the batch.
    """
    with engine.begin() as conn:
        done = conn.execute(update(batch_t).where(batch_t.c.batch_id == batch_id, batch_t.c.status != "published")
                            .values(status="failed", error_en=message_en, error_vi=message_vi,
                                    failed_at=datetime.now(UTC), processing_since=None))
    if done.rowcount:
        log.warning("batch %s failed: %s", batch_id, message_en)
    return bool(done.rowcount)


def claim_processing(engine: Engine, batch_id: str, *, stale_after: timedelta) -> bool:
    """Take a landed batch for processing; False when it is not landed or another worker took it recently.

    One worker at a time per batch: two writing the same batch's staging rows at once would duplicate them. A
    claim older than ``stale_after`` (its worker died) may be taken over.
    """
    now = datetime.now(UTC)
    with engine.begin() as conn:
        took = conn.execute(update(batch_t).where(
            batch_t.c.batch_id == batch_id, batch_t.c.status == "landed",
            or_(batch_t.c.processing_since.is_(None), batch_t.c.processing_since < now - stale_after),
        ).values(processing_since=now))
    return bool(took.rowcount)


def release_processing(engine: Engine, batch_id: str) -> None:
    """Give a landed batch back (its worker stopped before finishing), so another may take it at once."""
    with engine.begin() as conn:
        conn.execute(update(batch_t).where(batch_t.c.batch_id == batch_id, batch_t.c.status == "landed")
                     .values(processing_since=None))


def sweep_stuck(engine: Engine, *, older_than: timedelta) -> list[str]:
    """Mark failed every batch still ``landed`` ``older_than`` after landing (or after a worker took it).

    Such a batch was orphaned: the server or the run processing it stopped. Its reason says so and what to do.
    Returns the ids of the batches marked.
    """
    cutoff = datetime.now(UTC) - older_than
    waiting_since = func.coalesce(batch_t.c.processing_since, batch_t.c.landed_at)
    stuck = (batch_t.c.status == "landed", waiting_since < cutoff)
    with engine.connect() as conn:
        found = conn.execute(select(batch_t.c.batch_id, batch_t.c.source_id).where(*stuck)).all()
    minutes = f"{older_than.total_seconds() / 60:g}"
    marked = []
    for batch_id, source_id in found:
        with engine.begin() as conn:  # re-checked: a worker may have finished or taken it meanwhile
            done = conn.execute(update(batch_t).where(batch_t.c.batch_id == batch_id, *stuck).values(
                status="failed", failed_at=datetime.now(UTC), processing_since=None,
                error_en=f"not processed within {minutes} minutes of landing: the server or run processing it "
                         f"stopped. Send the file again, or run `lienthong sync {source_id}`, to retry.",
                error_vi=f"Lô dữ liệu không được xử lý trong {minutes} phút sau khi nhận: tiến trình xử lý đã "
                         f"dừng. Hãy gửi lại tệp (hoặc chạy `lienthong sync {source_id}`) để xử lý lại."))
        if done.rowcount:
            marked.append(batch_id)
    if marked:
        log.warning("sweeper: %d batches stuck in landed for over %s minutes marked failed: %s", len(marked),
                    minutes, ", ".join(marked))
    return marked


def read_raw(engine: Engine, batch_id: str) -> RawBatch:
    """A landed batch's payload, checked against its recorded checksum."""
    with engine.connect() as conn:
        row = conn.execute(
            select(batch_t, raw_payload.c.payload, raw_payload.c.sha256, raw_payload.c.codec, raw_payload.c.size)
            .join(raw_payload, raw_payload.c.batch_id == batch_t.c.batch_id)
            .where(batch_t.c.batch_id == batch_id)
        ).one()
    payload = bytes(row.payload)
    if row.codec != "none":
        payload = pa.Codec(row.codec).decompress(payload, decompressed_size=row.size, asbytes=True)
    if hashlib.sha256(payload).hexdigest() != row.sha256:
        msg = f"raw payload of batch {batch_id} does not match its checksum: the raw zone was altered"
        raise RuntimeError(msg)
    return RawBatch(batch_id, row.source_id, row.dataset, payload, row.media_type, row.origin, row.read_options)


def get_cursor(engine: Engine, source_id: str) -> Cursor | None:
    with engine.connect() as conn:
        return conn.execute(select(source_state.c.cursor).where(source_state.c.source_id == source_id)).scalar()


def save_cursor(engine: Engine, source_id: str, cursor: Cursor) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        done = conn.execute(
            update(source_state).where(source_state.c.source_id == source_id).values(cursor=cursor, updated_at=now)
        )
        if done.rowcount == 0:
            conn.execute(insert(source_state).values(source_id=source_id, cursor=cursor, updated_at=now))
