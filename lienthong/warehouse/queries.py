"""Read-only questions the CLI, reports and API ask of the warehouse."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from lienthong.warehouse.tables import PUBLISHED, quarantine, source_state
from lienthong.warehouse.tables import batch as batch_t


def batches(engine: Engine, *, source_id: str | None = None, batch_ids: list[str] | None = None) -> list[dict]:
    """Batches in landing order with their counts and whether they reconcile."""
    q = select(batch_t).order_by(batch_t.c.seq)
    if source_id:
        q = q.where(batch_t.c.source_id == source_id)
    if batch_ids is not None:
        q = q.where(batch_t.c.batch_id.in_(batch_ids))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for r in rows:
        processed = r["rows_valid"] is not None
        r["reconciled"] = processed and r["rows_read"] == r["rows_valid"] + r["rows_quarantined"]
    return rows


def source_cursors(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {r.source_id: r.cursor for r in conn.execute(select(source_state))}


def quarantined(
    engine: Engine, *, source_id: str | None = None, batch_id: str | None = None, status: str = "open",
    limit: int | None = None,
) -> list[dict]:
    q = select(quarantine).where(quarantine.c.status == status).order_by(quarantine.c.batch_id, quarantine.c.row_no)
    if source_id:
        q = q.where(quarantine.c.source_id == source_id)
    if batch_id:
        q = q.where(quarantine.c.batch_id == batch_id)
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def published_count(engine: Engine, dataset: str) -> int:
    table = PUBLISHED[dataset]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(~table.c.deleted)).scalar_one()
