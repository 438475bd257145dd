"""Read-only questions the CLI, reports and API ask of the warehouse."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from lienthong.warehouse.bulk import chunks
from lienthong.warehouse.tables import PUBLISHED, STAGING, quarantine, source_state
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


def staged_keys(engine: Engine, dataset: str, batch_ids: list[str], keys: list[str]) -> dict[str, tuple[str, int]]:
    """Which of ``keys`` the staged rows of ``batch_ids`` hold: record key -> (batch id, row number)."""
    staging = STAGING[dataset]
    found: dict[str, tuple[str, int]] = {}
    with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"  # one scan of staging (no index there): keys as one array
        for chunk in [keys] if postgres else chunks(keys, 10_000):
            match = (staging.c.record_key == any_(bindparam("keys", chunk, type_=ARRAY(Text)))) if postgres \
                else staging.c.record_key.in_(chunk)
            rows = conn.execute(select(staging.c.record_key, staging.c.batch_id, staging.c.row_no)
                                .where(staging.c.batch_id.in_(batch_ids), match))
            found.update({key: (batch_id, row_no) for key, batch_id, row_no in rows})
    return found


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


def dataset_stats(engine: Engine, dataset: str) -> dict[str, Any]:
    """For the API's catalogue: live record count, last publication time and the share of rows read that passed.

    ``quality_score`` is rows valid / rows read over every processed batch of the dataset (None before any).
    """
    from lienthong.warehouse.tables import publication

    table = PUBLISHED[dataset]
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(table).where(~table.c.deleted)).scalar_one()
        last = conn.execute(select(func.max(publication.c.published_at))
                            .where(publication.c.dataset == dataset)).scalar()
        read, valid = conn.execute(
            select(func.sum(batch_t.c.rows_read), func.sum(batch_t.c.rows_valid))
            .where(batch_t.c.dataset == dataset, batch_t.c.rows_valid.is_not(None))
        ).one()
    return {"row_count": rows, "last_updated": last,
            "quality_score": round(valid / read, 4) if read else None}


def code_list_versions(engine: Engine, name: str) -> list[dict[str, Any]]:
    """Every stored version of one code list, the current one first."""
    from lienthong.warehouse.tables import code_list

    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(code_list).where(code_list.c.name == name)
            .order_by(code_list.c.is_current.desc(), code_list.c.loaded_at.desc())
        ).mappings()]


def code_values(engine: Engine, name: str, version: str) -> list[dict[str, Any]]:
    """The values of one version of one code list, in code order."""
    from lienthong.warehouse.tables import code_value

    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(code_value).where(code_value.c.list_name == name, code_value.c.version == version)
            .order_by(code_value.c.code)
        ).mappings()]


def batch_status(engine: Engine, batch_id: str) -> dict[str, Any] | None:
    """One batch's row (counts, status, times), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(batch_t).where(batch_t.c.batch_id == batch_id)).mappings().first()
    return dict(row) if row else None
