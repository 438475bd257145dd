"""The staging zone and the quarantine: what processing a batch writes, in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, delete, select, update

from lienthong.warehouse.bulk import insert_arrow
from lienthong.warehouse.tables import STAGING, quarantine
from lienthong.warehouse.tables import batch as batch_t


@dataclass(frozen=True)
class QuarantinedRow:
    row_no: int
    record: dict[str, Any]  # mapped source values, as received
    reasons: list[dict[str, Any]]


def write_processed(
    engine: Engine,
    *,
    batch_id: str,
    source_id: str,
    dataset: str,
    valid: pa.Table,
    rejected: list[QuarantinedRow],
    outcomes: list[dict[str, Any]],
    seconds: float,
) -> None:
    """Replace whatever an earlier attempt wrote for ``batch_id`` with ``valid`` rows and ``rejected`` rows.

    ``valid`` has ``row_no``, ``record_key`` and the contract's columns. Re-processing a batch (a retried task)
    therefore never duplicates rows: the batch identity, not the attempt, keys everything.
    """
    staging = STAGING[dataset]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(delete(staging).where(staging.c.batch_id == batch_id))
        conn.execute(delete(quarantine).where(quarantine.c.batch_id == batch_id))
        insert_arrow(conn, staging, _with_batch(valid, batch_id, source_id))
        _insert_quarantine(conn, batch_id, source_id, dataset, rejected, now)
        conn.execute(
            update(batch_t).where(batch_t.c.batch_id == batch_id).values(
                status="staged", rows_valid=valid.num_rows, rows_quarantined=len(rejected), rows_published=None,
                processed_at=now, process_seconds=seconds, outcomes=outcomes,
            )
        )


def release_from_quarantine(
    engine: Engine, *, batch_id: str, dataset: str, source_id: str, valid: pa.Table, still_failing: list[QuarantinedRow]
) -> None:
    """Move rows that now pass from the quarantine to staging; refresh the reasons of the rest."""
    staging = STAGING[dataset]
    now = datetime.now(UTC)
    released = valid.column("row_no").to_pylist()
    with engine.begin() as conn:
        if released:
            conn.execute(delete(staging).where(staging.c.batch_id == batch_id, staging.c.row_no.in_(released)))
            insert_arrow(conn, staging, _with_batch(valid, batch_id, source_id))
            conn.execute(
                update(quarantine)
                .where(quarantine.c.batch_id == batch_id, quarantine.c.row_no.in_(released))
                .values(status="released", released_at=now)
            )
        for row in still_failing:
            conn.execute(
                update(quarantine)
                .where(quarantine.c.batch_id == batch_id, quarantine.c.row_no == row.row_no)
                .values(reasons=row.reasons)
            )
        open_count = conn.execute(
            select(quarantine.c.row_no).where(quarantine.c.batch_id == batch_id, quarantine.c.status == "open")
        ).all()
        rows_read = conn.execute(select(batch_t.c.rows_read).where(batch_t.c.batch_id == batch_id)).scalar_one()
        values: dict[str, Any] = {"rows_quarantined": len(open_count), "rows_valid": rows_read - len(open_count)}
        if released:
            values["status"] = "staged"
        conn.execute(update(batch_t).where(batch_t.c.batch_id == batch_id).values(**values))


def _with_batch(valid: pa.Table, batch_id: str, source_id: str) -> pa.Table:
    n = valid.num_rows
    valid = valid.append_column("batch_id", pa.repeat(pa.scalar(batch_id, pa.string()), n))
    return valid.append_column("source_id", pa.repeat(pa.scalar(source_id, pa.string()), n))


def _insert_quarantine(
    conn: Connection, batch_id: str, source_id: str, dataset: str, rows: list[QuarantinedRow], now: datetime
) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        dbapi = conn.connection.driver_connection
        cols = "batch_id, row_no, source_id, dataset, record, reasons, status, created_at"
        with dbapi.cursor() as cur, cur.copy(f"COPY quarantine ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((
                    batch_id, r.row_no, source_id, dataset,
                    json.dumps(r.record, ensure_ascii=False, default=str),
                    json.dumps(r.reasons, ensure_ascii=False), "open", now,
                ))
        return
    conn.execute(
        quarantine.insert(),
        [
            {"batch_id": batch_id, "row_no": r.row_no, "source_id": source_id, "dataset": dataset,
             "record": r.record, "reasons": r.reasons, "status": "open", "created_at": now}
            for r in rows
        ],
    )
