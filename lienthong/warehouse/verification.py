"""Reads and writes of identity verification (``verification`` table, lienthong.stages.verify decides).

Each answered request is stored with its audit entry in one transaction, so a run that dies midway keeps every
answer it got (and its entry) and the next run asks only the rest; an entry never claims a query whose answers
were lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, select, update

from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.bulk import chunks
from lienthong.warehouse.publishing import lock_publishing
from lienthong.warehouse.tables import PUBLISHED, STAGING, publication
from lienthong.warehouse.tables import batch as batch_t
from lienthong.warehouse.tables_api import audit_log
from lienthong.warehouse.tables_verify import verification as V

AUDIT_ACTION = "population.verify"


@dataclass(frozen=True)
class StagedPerson:
    """A staged row of a source that verifies, with what is asked about it."""

    record_key: str
    batch_id: str
    row_no: int
    id_number: str | None
    full_name: str | None
    date_of_birth: Any
    sex: str | None
    issues: str | None


def staged_people(engine: Engine, dataset: str, source_id: str) -> list[StagedPerson]:
    """The staged rows of ``source_id`` waiting for publication (batches ``staged``), newest batch last."""
    stg = STAGING[dataset]
    query = (select(stg.c.record_key, stg.c.batch_id, stg.c.row_no, stg.c.id_number, stg.c.full_name,
                    stg.c.date_of_birth, stg.c.sex, stg.c.issues)
             .join(batch_t, batch_t.c.batch_id == stg.c.batch_id)
             .where(batch_t.c.status == "staged", batch_t.c.source_id == source_id)
             .order_by(batch_t.c.seq, stg.c.row_no))
    with engine.connect() as conn:
        return [StagedPerson(*row) for row in conn.execute(query)]


def unverified_published(engine: Engine, dataset: str, source_id: str) -> list[StagedPerson]:
    """Live published records of ``source_id`` with a 12-digit ID number and no stored answer: published while the
    service could not be asked (``verify.required: false``), or before the source verified at all."""
    pub = PUBLISHED[dataset]
    query = (select(pub.c.record_key, pub.c.batch_id, pub.c.row_no, pub.c.id_number, pub.c.full_name,
                    pub.c.date_of_birth, pub.c.sex, pub.c.issues)
             .outerjoin(V, and_(V.c.dataset == dataset, V.c.record_key == pub.c.record_key))
             .where(pub.c.source_id == source_id, ~pub.c.deleted, V.c.record_key.is_(None),
                    func.length(pub.c.id_number) == 12)
             .order_by(pub.c.record_key))
    with engine.connect() as conn:
        return [StagedPerson(*row) for row in conn.execute(query)]


def flag_published(engine: Engine, dataset: str, flags: list[tuple[str, str | None]]) -> int:
    """Set the ``issues`` of published records, given as (record key, issues), as a new publication (version and
    ``published_seq`` bumped) so consumers syncing by cursor see the flags. Returns how many records changed."""
    if not flags:
        return 0
    pub = PUBLISHED[dataset]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        lock_publishing(conn, dataset)
        seq = conn.execute(insert(publication).values(dataset=dataset, published_at=now, batch_ids=[],
                                                      rows_inserted=0, rows_updated=0).returning(publication.c.seq)
                           ).scalar_one()
        statement = (update(pub).where(pub.c.record_key == bindparam("b_key"))
                     .values(issues=bindparam("b_issues"), version=pub.c.version + 1, published_seq=seq,
                             updated_at=now))
        moved = conn.execute(statement, [{"b_key": k, "b_issues": i} for k, i in flags]).rowcount
        conn.execute(update(publication).where(publication.c.seq == seq).values(rows_updated=len(flags)))
    return moved


def batch_verification(engine: Engine, dataset: str, batch_id: str) -> dict[str, int]:
    """For the records of one batch with a 12-digit ID number (published or staged from it): how many the
    population database answered, by outcome, and how many wait for an answer (``pending``)."""
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        for table in (PUBLISHED[dataset], STAGING[dataset]):
            query = (select(V).select_from(table.outerjoin(V, and_(V.c.dataset == dataset,
                                                                   V.c.record_key == table.c.record_key)))
                     .where(table.c.batch_id == batch_id, func.length(table.c.id_number) == 12))
            for row in conn.execute(query).mappings():
                counts["pending" if row["record_key"] is None else outcome_of(dict(row))] += 1
    return {k: counts.get(k, 0) for k in ("match", "mismatch", "not_found", "pending")}


def stored_results(engine: Engine, dataset: str, record_keys: Collection[str]) -> dict[str, dict[str, Any]]:
    """The stored answer of each of ``record_keys`` that has one."""
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for chunk in chunks(sorted(record_keys), 5_000):
            for row in conn.execute(select(V).where(V.c.dataset == dataset, V.c.record_key.in_(chunk))).mappings():
                out[row["record_key"]] = dict(row)
    return out


def store_answers(engine: Engine, dataset: str, rows: list[dict[str, Any]], *, actor: str,
                  audit: dict[str, Any]) -> None:
    """Replace the stored answers of ``rows``' records and append the query's audit entry, in one transaction.

    ``rows`` carry every column of ``verification``; ``audit`` is the entry's detail (no personal data).
    """
    with engine.begin() as conn:
        keys = [r["record_key"] for r in rows]
        for chunk in chunks(keys, 5_000):
            conn.execute(delete(V).where(V.c.dataset == dataset, V.c.record_key.in_(chunk)))
        if rows:
            conn.execute(insert(V), rows)
        append_audit(conn, actor=actor, action=AUDIT_ACTION, dataset=dataset, detail=audit, records=len(rows))


def flag_staged(engine: Engine, dataset: str, flags: list[tuple[str, int, str | None]]) -> None:
    """Set the ``issues`` of staged rows, given as (batch id, row number, issues)."""
    if not flags:
        return
    stg = STAGING[dataset]
    statement = (update(stg).where(and_(stg.c.batch_id == bindparam("b_batch"), stg.c.row_no == bindparam("b_row")))
                 .values(issues=bindparam("b_issues")))
    with engine.begin() as conn:
        conn.execute(statement, [{"b_batch": b, "b_row": r, "b_issues": i} for b, r, i in flags])


def erase_results(conn: Connection, dataset: str, record_keys: Iterable[str]) -> int:
    """Delete the stored answers (and so the cache entries) of ``record_keys``; how many there were."""
    n = 0
    for chunk in chunks(sorted(set(record_keys)), 5_000):
        n += conn.execute(delete(V).where(V.c.dataset == dataset, V.c.record_key.in_(chunk))).rowcount
    return n


def outcome_of(row: dict[str, Any]) -> str:
    """``match`` (found, no field differs; a field sent empty has nothing to compare), ``mismatch`` (found, some
    field differs) or ``not_found`` (the ID number is not in the register)."""
    if row["status"] == "not_found":
        return "not_found"
    fields = (row["id_number_result"], row["full_name_result"], row["date_of_birth_result"], row["sex_result"])
    return "mismatch" if "mismatch" in fields else "match"


def verification_counts(engine: Engine, *, dataset: str | None = None,
                        source_ids: Collection[str] | None = None) -> dict[str, dict[str, int]]:
    """Per source: records verified, ``match``, ``mismatch`` (with one count per field that differs) and
    ``not_found``, from the stored answers."""
    query = select(V.c.source_id, V.c.status, V.c.id_number_result, V.c.full_name_result,
                   V.c.date_of_birth_result, V.c.sex_result, func.count()).group_by(
        V.c.source_id, V.c.status, V.c.id_number_result, V.c.full_name_result, V.c.date_of_birth_result,
        V.c.sex_result)
    if dataset:
        query = query.where(V.c.dataset == dataset)
    if source_ids is not None:
        query = query.where(V.c.source_id.in_(list(source_ids)))
    out: dict[str, Counter[str]] = {}
    with engine.connect() as conn:
        for source_id, status, id_r, name_r, dob_r, sex_r, n in conn.execute(query):
            counts = out.setdefault(source_id, Counter())
            row = {"status": status, "id_number_result": id_r, "full_name_result": name_r,
                   "date_of_birth_result": dob_r, "sex_result": sex_r}
            counts["verified"] += n
            counts[outcome_of(row)] += n
            for field, result in (("full_name", name_r), ("date_of_birth", dob_r), ("sex", sex_r)):
                if result == "mismatch":
                    counts[f"{field}_mismatch"] += n
    return {s: {k: c.get(k, 0) for k in ("verified", "match", "mismatch", "not_found", "full_name_mismatch",
                                           "date_of_birth_mismatch", "sex_mismatch")} for s, c in sorted(out.items())}


def confirmed_keys(engine: Engine, dataset: str) -> set[str]:
    """Records whose ID number the population database confirmed together with full name and date of birth."""
    query = select(V.c.record_key).where(V.c.dataset == dataset, V.c.status == "found",
                                         V.c.id_number_result == "match", V.c.full_name_result == "match",
                                         V.c.date_of_birth_result == "match")
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def pusher_of(engine: Engine, batch_ids: Collection[str]) -> str | None:
    """Who pushed the first of ``batch_ids`` over the API (its ``batch.push`` audit entry), if anyone did."""
    if not batch_ids:
        return None
    wanted = set(batch_ids)
    query = (select(audit_log.c.actor, audit_log.c.detail).where(audit_log.c.action == "batch.push")
             .order_by(audit_log.c.seq.desc()).limit(1000))
    with engine.connect() as conn:
        for actor, detail in conn.execute(query):
            if isinstance(detail, dict) and detail.get("batch_id") in wanted:
                return actor
    return None


def as_of(value: datetime) -> datetime:
    """``value`` comparable with stored timestamps (SQLite gives them back without a time zone)."""
    return value.replace(tzinfo=None) if value.tzinfo is not None else value
