"""The audit log: every read or write of personal data, appended inside the transaction that did it.

Callers pass their own SQLAlchemy ``Connection`` so the audit entry commits or rolls back with the work it
describes: an entry never claims a read that failed, and a committed write never lacks its entry. Nothing here
updates or deletes; ``lienthong audit`` reads through :func:`query_audit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from lienthong.warehouse.tables_api import audit_log


def append_audit(
    conn: Connection, *, actor: str, action: str, dataset: str | None, detail: dict[str, Any], records: int
) -> None:
    """Append one entry to the audit log within the caller's transaction.

    Args:
        conn: a connection inside the transaction that read or wrote the data.
        actor: who: ``key:<key_id> (<name>)`` for an API key, ``cli:<user>``, ``anonymous`` for open data.
        action: what, as ``area.verb`` (``records.read``, ``batch.push``, ``open_data.download`` ...).
        dataset: the dataset touched, if any.
        detail: the filter, cursor, format, batch id, client address: JSON-serialisable.
        records: how many records were read or written.
    """
    conn.execute(insert(audit_log).values(
        at=datetime.now(UTC), actor=actor, action=action, dataset=dataset, detail=detail, records=int(records),
    ))


@dataclass(frozen=True)
class AuditQuery:
    """Filters of :func:`query_audit`; every one optional."""

    actor: str | None = None  # substring match, so "key:abc" finds "key:abc (portal)"
    action: str | None = None
    dataset: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def query_audit(engine: Engine, query: AuditQuery | None = None) -> list[dict[str, Any]]:
    """Audit entries, newest first, matching ``query``."""
    query = query or AuditQuery()
    q = select(audit_log).order_by(audit_log.c.seq.desc()).limit(query.limit)
    if query.actor:
        q = q.where(audit_log.c.actor.contains(query.actor, autoescape=True))
    if query.action:
        q = q.where(audit_log.c.action == query.action)
    if query.dataset:
        q = q.where(audit_log.c.dataset == query.dataset)
    if query.since:
        q = q.where(audit_log.c.at >= query.since)
    if query.until:
        q = q.where(audit_log.c.at < query.until)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
