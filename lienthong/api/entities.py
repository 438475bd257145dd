"""Entities: one person across feeds and organisations, as the match stage resolved them (docs/match.md).

``GET /api/v1/entities/{entity_id}`` gives the golden record, the memberships (the entity's records grouped by
organisation) and the records themselves, each as the records pull shows it. Who sees what is the records'
rule (``lienthong.api.records.view_for``), so nothing here can show more than a pull would:

- the key needs ``read:<dataset>`` of the entity's dataset;
- an organisation's key sees the entity only through its own organisation's records: the memberships and
  records of that organisation, and no golden record (it is built from other organisations' records too);
  an entity with none of its records is "not found", as it would be absent from its pulls;
- a key without ``read:pii`` gets the golden record and the records with direct identifiers withheld, ID
  number and phone as the same keyed pseudonyms as in the pull.

A merged entity answers with ``status: merged`` and ``merged_into``: follow it to the survivor. Every read is
audited (``entity.read``) in the transaction that read it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy import Connection, Select, select

from lienthong.api.auth import Caller, Context, caller_detail
from lienthong.api.errors import AUTHED, R404, ApiError
from lienthong.api.records import View, records_query, shape, shape_values, view_for
from lienthong.match.golden import SURVIVORSHIP, golden_record
from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.tables_match import match_entity, match_link

router = APIRouter(prefix="/api/v1", tags=["pull"])


@router.get("/entities/{entity_id}", responses=AUTHED | R404,
            summary="A person resolved across feeds: golden record, memberships and records")
def get_entity(
    entity_id: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9]+$")], key: Caller, ctx: Context,
    request: Request,
) -> dict[str, Any]:
    with ctx.hub.engine.begin() as conn:
        entity = conn.execute(select(match_entity).where(match_entity.c.entity_id == entity_id)).mappings().first()
        if entity is None or not key.can_read(entity["dataset"]):
            raise _not_found(entity_id)
        dataset = entity["dataset"]
        view = view_for(ctx.hub, key, dataset, entity_ids=True)
        keys = select(match_link.c.record_key).where(match_link.c.dataset == dataset,
                                                     match_link.c.entity_id == entity_id)
        query = records_query(view, since=None, filters={}, limit=None).where(
            PUBLISHED[dataset].c.record_key.in_(keys))
        records = shape(conn.execute(query).all(), view)
        if view.organisation and not records:  # none of its records is the organisation's: not its to know
            raise _not_found(entity_id)
        body = _body(entity, _golden(conn, entity, keys), view, records)
        append_audit(conn, actor=key.actor, action="entity.read", dataset=dataset, records=len(records),
                     detail={"entity_id": entity_id, **view.describe(), **caller_detail(request)})
    return body


def _golden(conn: Connection, entity: Any, keys: Select) -> dict[str, Any]:
    """The entity's golden record. An entity of one record has none stored (a registry is mostly such entities, and
    a copy of each record cost a first match run of a million records about 4 s): the same rules build it from
    that record."""
    if entity["golden"] is not None or entity["status"] != "active":
        return entity["golden"] or {}
    table = PUBLISHED[entity["dataset"]]
    wanted = [c for c in (*SURVIVORSHIP, "organisation", "updated_at", "published_seq") if c in table.c]
    rows = conn.execute(select(*(table.c[c] for c in wanted)).where(table.c.record_key.in_(keys), ~table.c.deleted))
    return golden_record(rows.mappings())


def _body(entity: Any, golden: dict[str, Any], view: View, records: list[dict[str, Any]]) -> dict[str, Any]:
    memberships: dict[str, list[str]] = {}
    for r in records:
        memberships.setdefault(r.get("organisation") or "", []).append(r["record_key"])
    whole = view.organisation is None  # the golden record mixes every organisation's records
    return {
        "entity_id": entity["entity_id"], "dataset": entity["dataset"], "status": entity["status"],
        "merged_into": entity["merged_into"],
        "golden": shape_values(golden, view) if whole and entity["status"] == "active" else None,
        "organisations": sorted(entity["organisations"] or []) if whole else sorted(memberships),
        "memberships": [{"organisation": org or None, "records": len(keys), "record_keys": keys}
                        for org, keys in sorted(memberships.items())],
        "records": records,
        "pseudonymised": view.pseudonymised, "withheld": view.withheld + ([] if whole else ["golden"]),
        "updated_at": entity["updated_at"],
    }


def _not_found(entity_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no entity {entity_id!r} this key may read; entity ids come from the "
                    "`entity_id` of records pulled with the same key",
                    f"Không có thực thể {entity_id!r} mà khóa này được đọc")

