"""``Idempotency-Key``: a retried upload gets the batch of its first attempt (the API's own small table).

The key is claimed in the transaction that lands the batch (:func:`lienthong.warehouse.landing.land`), by
``INSERT … ON CONFLICT DO NOTHING``: of several concurrent requests with one key exactly one claims it, and the
others wait for that transaction and then read what it claimed. A claim remembers the *fingerprint* of the parsed
records, so a client that re-encodes the same rows (line endings, BOM, delimiter) gets its first batch, while other
rows under a used key are refused — as the IETF Idempotency-Key draft (draft-ietf-httpapi-idempotency-key-header)
asks: 422 for a key reused with another payload; 409 for a key used for another source (another resource).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, Engine, select, update

from lienthong.errors import HubError
from lienthong.warehouse.conflicts import insert_if_absent
from lienthong.warehouse.tables_api import api_idempotency


@dataclass(frozen=True)
class Claim:
    """An upload's ``Idempotency-Key``, scoped to the API key that sent it, and what it carries."""

    key_id: str
    idempotency_key: str
    source_id: str
    fingerprint: str  # records_fingerprint() of the upload


class KeyReused(HubError):
    """The ``Idempotency-Key`` was used before for another source (``other == "source"``) or other rows."""

    def __init__(self, message: str, *, message_vi: str, other: str, batch_id: str) -> None:
        super().__init__(message, message_vi=message_vi)
        self.other, self.batch_id = other, batch_id


def records_fingerprint(records: pa.Table) -> str:
    """SHA-256 of the parsed records: column names, then each column's values and nulls, in order.

    Independent of how the file was encoded or chunked: the same rows read from a CSV with CRLF line endings, a
    BOM or another delimiter give the same fingerprint.
    """
    digest = hashlib.sha256()
    for name, column in zip(records.column_names, records.columns, strict=True):
        digest.update(name.encode() + b"\0")
        values = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        digest.update(np.asarray(values.is_null()).tobytes())
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            digest.update(_string_bytes(values))
        else:  # not produced by our readers (every column is text), but never silently unhashed
            digest.update(repr(values.to_pylist()).encode())
    return digest.hexdigest()


def _string_bytes(values: pa.Array) -> bytes:
    """The offsets (rebased to 0) and characters of a string array, whatever slice of its buffers it is."""
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buf, data_buf = values.buffers()
    if offsets_buf is None:  # an empty array
        return b""
    offsets = np.frombuffer(offsets_buf, dtype=width)[values.offset:values.offset + len(values) + 1]
    data = data_buf.to_pybytes()[offsets[0]:offsets[-1]] if data_buf is not None else b""
    return (offsets - offsets[0]).astype(np.int64).tobytes() + data


def claim(conn: Connection, wanted: Claim, batch_id: str) -> str:
    """Claim the key for ``batch_id``, inside the caller's landing transaction; the batch id the key stands for.

    Raises:
        KeyReused: the key was claimed before for another source or for other records.
    """
    if insert_if_absent(conn, api_idempotency, {
            "key_id": wanted.key_id, "idempotency_key": wanted.idempotency_key, "source_id": wanted.source_id,
            "batch_id": batch_id, "fingerprint": wanted.fingerprint, "created_at": datetime.now(UTC)}):
        return batch_id
    row = conn.execute(select(api_idempotency).where(
        api_idempotency.c.key_id == wanted.key_id,
        api_idempotency.c.idempotency_key == wanted.idempotency_key)).one()
    shown = wanted.idempotency_key
    if row.source_id != wanted.source_id:
        raise KeyReused(f"Idempotency-Key {shown!r} was used for source {row.source_id}: use a new key for each "
                        "upload", message_vi=f"Khóa Idempotency-Key {shown!r} đã dùng cho nguồn {row.source_id}: "
                        "mỗi lần gửi một tệp mới hãy dùng một khóa mới", other="source", batch_id=row.batch_id)
    if row.fingerprint is not None and row.fingerprint != wanted.fingerprint:
        raise KeyReused(f"Idempotency-Key {shown!r} was used for other rows (batch {row.batch_id}): a retry must "
                        "send the same rows; a new file needs a new key",
                        message_vi=f"Khóa Idempotency-Key {shown!r} đã dùng cho một tệp có nội dung khác (lô "
                        f"{row.batch_id}): gửi lại phải đúng tệp cũ; tệp mới hãy dùng khóa mới",
                        other="content", batch_id=row.batch_id)
    return row.batch_id


def repoint(conn: Connection, wanted: Claim, batch_id: str) -> None:
    """Make a claim stand for ``batch_id`` (its first batch is gone from the warehouse, e.g. erased)."""
    conn.execute(update(api_idempotency).where(
        api_idempotency.c.key_id == wanted.key_id, api_idempotency.c.idempotency_key == wanted.idempotency_key)
        .values(batch_id=batch_id, fingerprint=wanted.fingerprint))


def remembered(engine: Engine, key_id: str, idempotency_key: str) -> tuple[str, str] | None:
    """(source_id, batch_id) of an earlier upload with this key, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(api_idempotency.c.source_id, api_idempotency.c.batch_id).where(
            api_idempotency.c.key_id == key_id, api_idempotency.c.idempotency_key == idempotency_key)).first()
    return (row.source_id, row.batch_id) if row else None
