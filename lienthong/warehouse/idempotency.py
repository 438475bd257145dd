"""``Idempotency-Key``: a retried upload gets the batch of its first attempt (the API's own small table)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from lienthong.warehouse.tables_api import api_idempotency


def remembered(engine: Engine, key_id: str, idempotency_key: str) -> tuple[str, str] | None:
    """(source_id, batch_id) of an earlier upload with this key, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(api_idempotency.c.source_id, api_idempotency.c.batch_id).where(
            api_idempotency.c.key_id == key_id, api_idempotency.c.idempotency_key == idempotency_key)).first()
    return (row.source_id, row.batch_id) if row else None


def remember(engine: Engine, key_id: str, idempotency_key: str, source_id: str, batch_id: str) -> None:
    """Remember the batch an idempotency key produced; a concurrent twin that got there first wins."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(api_idempotency).values(key_id=key_id, idempotency_key=idempotency_key,
                                                        source_id=source_id, batch_id=batch_id,
                                                        created_at=datetime.now(UTC)))
    except IntegrityError:
        pass
