"""Erasure: ``lienthong forget --id-number ...`` removes a person's personal data from every zone of the hub.

Who: every record whose ID number is the one given, in any dataset with an ID-number field, and every version of
those records (same source key) in staging, quarantine and the raw payloads. What happens, per zone:

- published: ``members`` rows become tombstones (``deleted``, every field but the source key emptied, version and
  ``published_seq`` bumped, so API consumers syncing incrementally learn of the erasure and propagate it);
  ``relief`` rows keep the transaction (amount, campaign, organisation, province, date — accounting law keeps
  them) and lose every personal field;
- staging and quarantine: the rows are deleted (relief staging rows are redacted like the published ones);
- raw: every payload holding the person (found by any cell equal to the ID number, digits only, or by a source
  key of theirs) is rewritten as canonical NDJSON without their rows (relief: with their personal cells
  emptied), recompressed, its checksum and the batch's counts updated; later rows are renumbered everywhere so
  ``(batch_id, row_no)`` still points at the right raw row. ``batch.content_sha256`` keeps the original file's
  hash, so the same file arriving again is still recognised as landed and does not bring the person back;
- verification: the population database's answers about their records (and so the cache entries) are deleted;
- audit: one ``forget`` entry per dataset, naming the ID only masked (and as a keyed token when a pseudonym key
  is set), so the log proves the erasure without keeping what was erased.

Then the open aggregates are rebuilt by the caller (:func:`lienthong.open_data.build.build_open_data`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, case, delete, func, insert, literal, select, update

from connectors.base import MEDIA_NDJSON
from connectors.formats import read_payload, to_ndjson
from lienthong.errors import HubError
from lienthong.masking import mask
from lienthong.pseudonymise import pseudonymise
from lienthong.registry import SourceConfig
from lienthong.warehouse import tables_match as T
from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.landing import RAW_CODEC, batch_identity, read_raw
from lienthong.warehouse.tables import PUBLISHED, STAGING, publication, quarantine, raw_payload
from lienthong.warehouse.tables import batch as batch_t
from lienthong.warehouse.verification import erase_results
from schemas import CONTRACTS, FieldKind, Privacy

RETAIN_TRANSACTION = frozenset({"relief"})  # datasets whose rows the law keeps, minus the personal fields
_DIGITS = re.compile(r"\D")


@dataclass
class Erasure:
    """What :func:`forget` did, per dataset; counts only, never the erased values."""

    subject: str  # the ID number masked
    published: dict[str, int] = field(default_factory=dict)
    staging: dict[str, int] = field(default_factory=dict)
    quarantine: dict[str, int] = field(default_factory=dict)
    raw_rows: dict[str, int] = field(default_factory=dict)
    raw_batches: dict[str, list[str]] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)  # entities whose golden record was erased
    verification: dict[str, int] = field(default_factory=dict)  # population-database answers (and cache) erased

    @property
    def datasets(self) -> list[str]:
        return sorted(set(self.published) | set(self.staging) | set(self.quarantine) | set(self.raw_rows))

    def total(self, dataset: str) -> int:
        return sum(z.get(dataset, 0) for z in (self.published, self.staging, self.quarantine, self.raw_rows))


def forget(engine: Engine, id_number: str, *, sources: dict[str, SourceConfig], actor: str,
           pseudonym_key: tuple[bytes, str] | None = None) -> Erasure:
    """Erase the personal data of the person with ``id_number`` from the published, staging, quarantine and raw
    zones, in one transaction, and record it in the audit log.

    Args:
        engine: the warehouse.
        id_number: the CCCD (12 digits) or CMND (9 digits); spaces and dots are ignored.
        sources: the source registry (to know which raw columns are personal when a row is only redacted).
        actor: who asked, for the audit log (``cli:<user>``).
        pseudonym_key: (key, key id) to record the subject as a keyed token besides the mask.

    Raises:
        HubError: ``id_number`` is not 9 or 12 digits.
    """
    digits = _DIGITS.sub("", id_number or "")
    if len(digits) not in (9, 12):
        msg = f"an ID number has 9 (CMND) or 12 (CCCD) digits; got {len(digits)}"
        raise HubError(msg, message_vi=f"Số CCCD/CMND phải có 9 hoặc 12 chữ số; nhận được {len(digits)} chữ số")
    erasure = Erasure(mask(digits))
    datasets = [ds for ds, c in CONTRACTS.items() if any(f.kind is FieldKind.ID_NUMBER for f in c.fields())]
    with engine.connect() as conn:
        keys = {ds: _record_keys(conn, ds, digits) for ds in datasets}
        rewrites = {ds: _raw_rewrites(engine, conn, ds, digits, keys[ds], sources) for ds in datasets}
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for ds in datasets:
            _erase_dataset(conn, ds, keys[ds], rewrites[ds], erasure, now)
        token = pseudonymise([digits], key=pseudonym_key[0], key_id=pseudonym_key[1])[0] if pseudonym_key else None
        for ds in erasure.datasets or [None]:
            append_audit(conn, actor=actor, action="forget", dataset=ds, records=erasure.total(ds) if ds else 0,
                         detail={"subject": erasure.subject, "subject_token": token,
                                 "published": erasure.published.get(ds, 0), "staging": erasure.staging.get(ds, 0),
                                 "quarantine": erasure.quarantine.get(ds, 0), "raw_rows": erasure.raw_rows.get(ds, 0),
                                 "raw_batches": erasure.raw_batches.get(ds, []),
                                 "entities": erasure.entities.get(ds, 0),
                                 "verification": erasure.verification.get(ds, 0),
                                 "kept": "transaction without personal fields" if ds in RETAIN_TRANSACTION else None})
    return erasure


def _id_fields(dataset: str) -> list[str]:
    return [f.name for f in CONTRACTS[dataset].fields() if f.kind is FieldKind.ID_NUMBER]


def _record_keys(conn: Connection, dataset: str, digits: str) -> set[str]:
    """Source keys of the person's records: by ID in published and staging rows and in quarantined records."""
    found: set[str] = set()
    for table in (PUBLISHED[dataset], STAGING[dataset]):
        for f in _id_fields(dataset):
            found.update(conn.execute(select(table.c.record_key).where(table.c[f] == digits)).scalars())
    contract = CONTRACTS[dataset]
    rows = conn.execute(select(quarantine.c.source_id, quarantine.c.record)
                        .where(quarantine.c.dataset == dataset)).all()
    for source_id, record in rows:
        if _holds(record.values(), digits):
            found.add(":".join([source_id, *(str(record.get(k) or "") for k in contract.key)]))
    return found


def _holds(values: Any, digits: str) -> bool:
    return any(v is not None and _DIGITS.sub("", str(v)) == digits for v in values)


@dataclass
class _Rewrite:
    batch_id: str
    payload: bytes
    columns: list[str]
    removed: list[int]  # row numbers dropped (ascending)
    redacted: int


def _raw_rewrites(engine: Engine, conn: Connection, dataset: str, digits: str, keys: set[str],
                  sources: dict[str, SourceConfig]) -> list[_Rewrite]:
    """Every raw payload of ``dataset`` holding the person, rewritten without them (read-only here)."""
    out = []
    contract = CONTRACTS[dataset]
    personal = {f.name for f in contract.fields() if f.privacy is not Privacy.PUBLIC}
    for batch_id, source_id in conn.execute(select(batch_t.c.batch_id, batch_t.c.source_id)
                                            .where(batch_t.c.dataset == dataset).order_by(batch_t.c.seq)).all():
        raw = read_raw(engine, batch_id)
        table = read_payload(raw.payload, raw.media_type, raw.read_options, origin=raw.origin)
        records = table.to_pylist()
        source = sources.get(source_id)
        key_columns = [source.mapping.get(k) for k in contract.key] if source else []
        hits = [i for i, r in enumerate(records) if _holds(r.values(), digits)
                or (all(key_columns) and ":".join([source_id, *(str(r.get(c) or "") for c in key_columns)]) in keys)]
        if not hits:
            continue
        if dataset in RETAIN_TRANSACTION and source is not None:
            blank = {source.mapping[f] for f in personal if f in source.mapping}
            for i in hits:
                records[i] = {c: (None if c in blank else v) for c, v in records[i].items()}
            out.append(_Rewrite(batch_id, to_ndjson(records), table.column_names, [], len(hits)))
        else:
            dropped = set(hits)
            kept = [r for i, r in enumerate(records) if i not in dropped]
            out.append(_Rewrite(batch_id, to_ndjson(kept), table.column_names, sorted(dropped), 0))
    return out


def _erase_dataset(conn: Connection, dataset: str, keys: set[str], rewrites: list[_Rewrite], erasure: Erasure,
                   now: datetime) -> None:
    pub, stg = PUBLISHED[dataset], STAGING[dataset]
    contract = CONTRACTS[dataset]
    retain = dataset in RETAIN_TRANSACTION
    if keys:
        if retain:
            cleared = {f.name: None for f in contract.fields() if f.privacy is not Privacy.PUBLIC}
        else:
            cleared = {f.name: None for f in contract.fields() if f.name not in contract.key}
        seq = conn.execute(insert(publication).values(
            dataset=dataset, published_at=now, batch_ids=[], rows_inserted=0, rows_updated=0,
        ).returning(publication.c.seq)).scalar_one()
        changes = {**cleared, "version": pub.c.version + 1, "published_seq": seq, "updated_at": now}
        if not retain:
            changes["deleted"] = True
        n = conn.execute(update(pub).where(pub.c.record_key.in_(keys)).values(**changes)).rowcount
        conn.execute(update(publication).where(publication.c.seq == seq).values(rows_updated=n))
        erasure.published[dataset] = n
        if retain:
            erasure.staging[dataset] = conn.execute(
                update(stg).where(stg.c.record_key.in_(keys)).values(**cleared)).rowcount
        else:
            erasure.staging[dataset] = conn.execute(delete(stg).where(stg.c.record_key.in_(keys))).rowcount
    if keys:
        _erase_entities(conn, dataset, keys, erasure, now)
        verified = erase_results(conn, dataset, keys)
        if verified:
            erasure.verification[dataset] = verified
    in_quarantine = _quarantined_rows(conn, dataset, keys)
    for batch_id, row_no in in_quarantine:
        conn.execute(delete(quarantine).where(quarantine.c.batch_id == batch_id, quarantine.c.row_no == row_no))
    if in_quarantine:
        erasure.quarantine[dataset] = len(in_quarantine)
    quarantined_by_batch: dict[str, set[int]] = defaultdict(set)
    for batch_id, row_no in in_quarantine:
        quarantined_by_batch[batch_id].add(row_no)
    for rw in rewrites:
        _store_rewrite(conn, dataset, rw, quarantined_by_batch[rw.batch_id])
        erasure.raw_rows[dataset] = erasure.raw_rows.get(dataset, 0) + len(rw.removed) + rw.redacted
        erasure.raw_batches.setdefault(dataset, []).append(rw.batch_id)


def _erase_entities(conn: Connection, dataset: str, keys: set[str], erasure: Erasure, now: datetime) -> None:
    """The person's links, review pairs and golden records go too. An entity left with other records (matched
    without the ID number) keeps them but loses its golden values until the next match run rebuilds them from
    what remains; an entity left with none is deleted. The history keeps ids and counts, never values."""
    link, entity, review = T.match_link, T.match_entity, T.match_review
    entity_ids = set(conn.execute(select(link.c.entity_id).where(
        link.c.dataset == dataset, link.c.record_key.in_(keys))).scalars())
    if not entity_ids:
        return
    conn.execute(delete(link).where(link.c.dataset == dataset, link.c.record_key.in_(keys)))
    conn.execute(delete(review).where(review.c.dataset == dataset,
                                      review.c.record_key_l.in_(keys) | review.c.record_key_r.in_(keys)))
    for entity_id in entity_ids:
        left = conn.execute(select(func.count()).select_from(link).where(
            link.c.dataset == dataset, link.c.entity_id == entity_id)).scalar_one()
        where = (entity.c.dataset == dataset) & (entity.c.entity_id == entity_id)
        if left:
            conn.execute(update(entity).where(where).values(golden={}, record_count=left, updated_at=now))
        else:
            conn.execute(delete(entity).where(where))
        conn.execute(insert(T.match_history).values(dataset=dataset, run_id=0, event="erased", entity_id=entity_id,
                                                    detail={"records_erased": len(keys), "records_left": left},
                                                    at=now))
    erasure.entities[dataset] = len(entity_ids)


def _quarantined_rows(conn: Connection, dataset: str, keys: set[str]) -> list[tuple[str, int]]:
    contract = CONTRACTS[dataset]
    out = []
    for batch_id, row_no, source_id, record in conn.execute(
            select(quarantine.c.batch_id, quarantine.c.row_no, quarantine.c.source_id, quarantine.c.record)
            .where(quarantine.c.dataset == dataset)).all():
        if ":".join([source_id, *(str(record.get(k) or "") for k in contract.key)]) in keys:
            out.append((batch_id, row_no))
    return out


def _store_rewrite(conn: Connection, dataset: str, rw: _Rewrite, quarantined: set[int]) -> None:
    """Replace the raw payload, fix the batch's counts and renumber the rows after each removed one."""
    _, sha = batch_identity("", rw.payload)
    conn.execute(update(raw_payload).where(raw_payload.c.batch_id == rw.batch_id).values(
        sha256=sha, codec=RAW_CODEC, size=len(rw.payload),
        payload=pa.Codec(RAW_CODEC).compress(rw.payload, asbytes=True)))
    values: dict[str, Any] = {"media_type": MEDIA_NDJSON, "read_options": {"encoding": "utf-8", "columns": rw.columns}}
    if rw.removed:
        n, q = len(rw.removed), len(quarantined & set(rw.removed))
        values |= {"rows_read": batch_t.c.rows_read - n,
                   "rows_valid": case((batch_t.c.rows_valid.is_(None), None), else_=batch_t.c.rows_valid - (n - q)),
                   "rows_quarantined": case((batch_t.c.rows_quarantined.is_(None), None),
                                            else_=batch_t.c.rows_quarantined - q)}
    conn.execute(update(batch_t).where(batch_t.c.batch_id == rw.batch_id).values(**values))
    if not rw.removed:
        return
    for table in (STAGING[dataset], PUBLISHED[dataset]):
        conn.execute(update(table).where(table.c.batch_id == rw.batch_id)
                     .values(row_no=_shifted(table.c.row_no, rw.removed)))
    # quarantine's key includes row_no: move rows out of the way (negative) first, then back
    q = quarantine.c
    conn.execute(update(quarantine).where(q.batch_id == rw.batch_id, q.row_no > rw.removed[0])
                 .values(row_no=-1 - _shifted(q.row_no, rw.removed)))
    conn.execute(update(quarantine).where(q.batch_id == rw.batch_id, q.row_no < 0).values(row_no=-1 - q.row_no))


def _shifted(column, removed: list[int]):  # noqa: ANN001, ANN202 - SQL expressions
    """``column`` minus the number of removed rows before it."""
    expr = column
    for r in removed:
        expr = expr - case((column > literal(r), literal(1)), else_=literal(0))
    return expr
