"""The golden record of an entity: one value per field, chosen from its records by written survivorship rules.

Rules, per field (``SURVIVORSHIP``), applied in order until one value is left:

1. source priority — when ``priority`` names organisations for a field, values from the first listed organisation
   that has one win (e.g. the Front's own registry for the ID number);
2. the field's own rule: ``complete`` (full_name: written with diacritics and the most words — the fullest
   spelling), ``cccd_first`` (id_number: a 12-digit CCCD over an old CMND), ``most_frequent`` (sex);
3. the most recent valid value (``updated_at``, then ``published_seq``) — for phone, ward, address, date of birth.

Null values never survive over a present one. Memberships are listed, not merged: ``organisations`` is every
organisation the person is a member of.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from lienthong.match import duck

SURVIVORSHIP: dict[str, str] = {
    "full_name": "complete", "sex": "most_frequent", "date_of_birth": "most_recent", "id_number": "cccd_first",
    "phone": "most_recent", "ward_code": "most_recent", "province_code": "most_recent", "address": "most_recent",
}


def _complete(value: str) -> tuple[int, int]:
    return (int(not value.isascii()), len(value.split()))


def golden_record(records: Iterable[dict[str, Any]], priority: dict[str, list[str]] | None = None
                  ) -> dict[str, Any]:
    """The surviving value of each field of :data:`SURVIVORSHIP` among one entity's ``records`` (dicts)."""
    rows = sorted(records, key=lambda r: (str(r.get("updated_at") or ""), r.get("published_seq") or 0),
                  reverse=True)  # most recent first
    out: dict[str, Any] = {}
    for field, rule in SURVIVORSHIP.items():
        candidates = [r for r in rows if r.get(field) not in (None, "")]
        for org in (priority or {}).get(field, []):
            preferred = [r for r in candidates if r.get("organisation") == org]
            if preferred:
                candidates = preferred
                break
        if not candidates:
            out[field] = None
            continue
        values = [r[field] for r in candidates]
        if rule == "complete":
            value = max(values, key=_complete)  # max keeps the first (most recent) of equals
        elif rule == "cccd_first":
            value = next((v for v in values if len(str(v)) == 12), values[0])
        elif rule == "most_frequent":
            counts = Counter(values)
            value = max(values, key=lambda v: counts[v])
        else:
            value = values[0]
        out[field] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


# --- set-wise: the same rules for many entities at once ------------------------------------------------------------
# A full run builds a million golden records; per entity in Python that took minutes. The rules above are the
# definition (and the test oracle, tests/lienthong/match/test_golden.py); this renders each of them as an aggregate
# over every entity in one DuckDB query: the surviving value is the arg_min of a sort key per field.
_RANK = {  # the field's own rule, as a sort key (smaller wins) after source priority; ``pos`` 1 = most recent
    "complete": "{'ascii': strlen(v) = length(v), 'words': -len(regexp_extract_all(v, '\\S+')), 'pos': pos}",
    "cccd_first": "{'cccd': length(v) <> 12, 'pos': pos}",
    "most_frequent": "{'count': -n, 'pos': pos}",
    "most_recent": "pos",
}


def golden_table(records: pa.Table, priority: dict[str, list[str]] | None = None, *,
                 tiebreak: str | None = None, members: pa.Table | None = None, alone: bool = True) -> pa.Table:
    """Golden records of many entities at once: the rules of :func:`golden_record`, set-wise.

    Args:
        records: one row per record with ``entity_id``, ``organisation``, ``updated_at``, ``published_seq`` and the
            fields of :data:`SURVIVORSHIP` (a missing field is taken as null); rows of one entity in any order,
            ties of (updated_at, published_seq) kept in row order as the per-entity rule does.
        priority: source priority per field (organisation codes, first wins).
        tiebreak: a column whose smallest value wins a tie of (updated_at, published_seq), instead of row order
            (so callers need not sort a million rows first).
        members: ``record_key``, ``entity_id``: which entity each record is in, when ``records`` has no
            ``entity_id``; joined here (DuckDB joins a million keys several times faster than Arrow), records no
            member names left out. Needs ``tiebreak``.
        alone: false to give entities of one record a null ``golden`` (their golden record is that record's values:
            what the warehouse stores; its readers apply :func:`golden_record` to that record).

    Returns:
        ``entity_id``, ``record_count``, ``organisations`` and ``golden`` (both JSON text), one row per entity.
    """
    con = duck.connect()
    con.execute("SET preserve_insertion_order = false")
    present = set(records.column_names) | ({"entity_id"} if members is not None else set())
    fields = ", ".join(f"CAST({_q(f)} AS VARCHAR) AS {_q(f)}" if f in present else f"NULL::VARCHAR AS {_q(f)}"
                       for f in SURVIVORSHIP)
    updated = "updated_at" if "updated_at" in present else "NULL::TIMESTAMPTZ"
    seq = "published_seq" if "published_seq" in present else "NULL::BIGINT"
    order = _q(tiebreak) if tiebreak else "row_no"
    if members is not None:
        con.register("members_in", members.select(["record_key", "entity_id"]))
        con.register("rows_in", records)
        con.execute("CREATE TEMP TABLE records_in AS SELECT m.entity_id, r.* FROM members_in m JOIN rows_in r "
                    "USING (record_key)")
    else:
        con.register("records_in", records if tiebreak else
                     records.append_column("row_no", pa.array(range(records.num_rows), pa.int64())))
    con.execute("CREATE TEMP TABLE sizes AS SELECT entity_id, count(*) AS n FROM records_in GROUP BY entity_id")
    # Most entities of a registry hold one record, whose golden record is that record: no ranking needed. Only
    # entities of several records go through the survivorship aggregates (at 1M records, a fifth of the time).
    con.execute(f"""CREATE TEMP TABLE r AS SELECT entity_id, organisation, {fields},
                        row_number() OVER (PARTITION BY entity_id
                                           ORDER BY {updated} DESC NULLS LAST, {seq} DESC NULLS LAST, {order}) AS pos
                    FROM records_in WHERE entity_id IN (SELECT entity_id FROM sizes WHERE n > 1)""")
    picks = []
    for field, rule in SURVIVORSHIP.items():
        orgs = (priority or {}).get(field, [])
        prio = ("CASE organisation " + " ".join(f"WHEN '{_lit(o)}' THEN {i}" for i, o in enumerate(orgs))
                + f" ELSE {len(orgs)} END") if orgs else "0"
        source = f"""SELECT entity_id, {_q(field)} AS v, {prio} AS prio, pos FROM r
                     WHERE {_q(field)} IS NOT NULL AND {_q(field)} <> ''"""
        if rule == "most_frequent":  # counted among the candidates of the winning source only
            source = f"""SELECT entity_id, v, prio, count(*) AS n, min(pos) AS pos FROM ({source})
                         GROUP BY entity_id, v, prio"""
        picks.append(f"""LEFT JOIN (SELECT entity_id, arg_min(v, {{'prio': prio, 'rank': {_RANK[rule]}}}) AS v
                                    FROM ({source}) GROUP BY entity_id) {_q('f_' + field)} USING (entity_id)""")
    golden = ", ".join(f"'{field}', {_q('f_' + field)}.v" for field in SURVIVORSHIP)
    alone_golden = ("json_object(" + ", ".join(f"'{field}', nullif({_q(field)}, '')" for field in SURVIVORSHIP)
                    + ")::VARCHAR") if alone else "NULL::VARCHAR"
    return con.sql(f"""
        WITH e AS (SELECT entity_id, count(*) AS record_count,
                          to_json(coalesce(list_sort(list_distinct(list(organisation)
                                  FILTER (WHERE organisation IS NOT NULL AND organisation <> ''))), []))::VARCHAR
                              AS organisations
                   FROM r GROUP BY entity_id)
        SELECT e.entity_id, e.record_count::INTEGER AS record_count, e.organisations,
               json_object({golden})::VARCHAR AS golden
        FROM e {' '.join(picks)}
        UNION ALL
        SELECT entity_id, 1, to_json(CASE WHEN organisation IS NULL OR organisation = '' THEN []::VARCHAR[]
                                          ELSE [organisation] END)::VARCHAR,
               {alone_golden}
        FROM (SELECT entity_id, organisation, {fields} FROM records_in
              WHERE entity_id IN (SELECT entity_id FROM sizes WHERE n = 1))""").to_arrow_table()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return value.replace("'", "''")
