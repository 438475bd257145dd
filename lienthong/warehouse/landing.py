"""The raw zone and source state: land a batch once, keep it immutable, and remember each source's cursor."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, insert, select, update

from connectors.base import Batch, Cursor
from lienthong.warehouse.tables import batch as batch_t
from lienthong.warehouse.tables import raw_payload, source_state

# zstd: a 200 MiB CSV lands in ~0.7 s as 57 MiB, where PostgreSQL's own pglz TOAST takes ~7 s (docs/BENCHMARKS.md).
RAW_CODEC = "zstd"


@dataclass(frozen=True)
class Landed:
    batch_id: str
    is_new: bool
    status: str


@dataclass(frozen=True)
class RawBatch:
    batch_id: str
    source_id: str
    dataset: str
    payload: bytes
    media_type: str
    origin: str
    read_options: dict[str, Any]


def batch_identity(source_id: str, payload: bytes) -> tuple[str, str]:
    """(batch_id, sha256): the same payload from the same source is the same batch, whenever it arrives."""
    sha = hashlib.sha256(payload).hexdigest()
    batch_id = "b" + hashlib.sha256(f"{source_id}\0{sha}".encode()).hexdigest()[:24]
    return batch_id, sha


def land(engine: Engine, *, source_id: str, dataset: str, item: Batch) -> Landed:
    """Store ``item`` in the raw zone unless the same payload was landed before for this source."""
    batch_id, sha = batch_identity(source_id, item.payload)
    with engine.begin() as conn:
        found = conn.execute(select(batch_t.c.status).where(batch_t.c.batch_id == batch_id)).first()
        if found:
            return Landed(batch_id, is_new=False, status=found.status)
        conn.execute(
            insert(batch_t).values(
                batch_id=batch_id, source_id=source_id, dataset=dataset, content_sha256=sha,
                origin=item.origin, media_type=item.media_type, read_options=item.read_options,
                cursor=item.cursor, status="landed", rows_read=item.row_count, landed_at=datetime.now(UTC),
            )
        )
        conn.execute(insert(raw_payload).values(
            batch_id=batch_id, sha256=sha, codec=RAW_CODEC, size=len(item.payload),
            payload=pa.Codec(RAW_CODEC).compress(item.payload, asbytes=True),
        ))
    return Landed(batch_id, is_new=True, status="landed")


def landed_status(engine: Engine, batch_id: str) -> str | None:
    """The status of a batch, or ``None`` when it was never landed."""
    with engine.connect() as conn:
        return conn.execute(select(batch_t.c.status).where(batch_t.c.batch_id == batch_id)).scalar()


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
