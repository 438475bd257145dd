"""Relief: flag beneficiaries who received support from more than one organisation in the same campaign.

Relief records are thin — a name ("Hộ bà Nguyễn Thị Lan" for a household), often an ID number, a ward, no date of
birth — so only the ID number identifies a beneficiary well enough to raise a flag: records of one campaign with
the same (normalised) ID number are one beneficiary. The same name in the same ward is not enough: on the
generated relief data every such pair, with or without an ID on one side, was two namesakes.
A beneficiary supported by two or more organisations in one campaign is flagged for a person to check — support
may be legitimately shared; the flag is a question, not a verdict. Records without an ID number cannot be
flagged: that is the limit of the data, said in docs/match.md.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, select

from lienthong.cleaning.identity import normalize_id_number
from lienthong.match import duck
from lienthong.warehouse.tables import PUBLISHED


def flag_multi_org(relief: pa.Table) -> pa.Table:
    """One row per (campaign, beneficiary) supported by several organisations.

    Args:
        relief: ``record_id``, ``campaign``, ``role``, ``party_name``, ``id_number``, ``organisation``,
            ``ward_code``, ``amount_vnd``.

    Returns:
        campaign, beneficiary (smallest record id), organisations, record_ids, evidence (``id_number``),
        amount_vnd (total).
    """
    rows = relief.filter(pc.equal(relief.column("role"), "beneficiary"))
    ids = normalize_id_number(rows.column("id_number").cast(pa.string())).values
    people = pa.table({
        "record_id": rows.column("record_id").cast(pa.string()), "campaign": rows.column("campaign"),
        "organisation": rows.column("organisation"), "amount": rows.column("amount_vnd"),
        "id_number": ids,
    })
    con = duck.connect()
    con.register("p", people.filter(pc.is_valid(people.column("id_number"))))
    return con.sql("""
        SELECT campaign, min(record_id) AS beneficiary,
               list(DISTINCT organisation ORDER BY organisation) AS organisations,
               list(record_id ORDER BY record_id) AS record_ids, 'id_number' AS evidence,
               sum(TRY_CAST(regexp_replace(amount::VARCHAR, '[^0-9]', '', 'g') AS BIGINT))::BIGINT AS amount_vnd
        FROM p GROUP BY campaign, id_number HAVING count(DISTINCT organisation) > 1
        ORDER BY campaign, beneficiary""").to_arrow_table()


def relief_flags(engine: Engine) -> pa.Table:
    """:func:`flag_multi_org` over the published relief records of the warehouse."""
    table = PUBLISHED["relief"]
    cols = ["record_key", "campaign", "role", "party_name", "id_number", "organisation", "ward_code", "amount_vnd"]
    with engine.connect() as conn:
        rows = conn.execute(select(*(table.c[c] for c in cols)).where(table.c.deleted.is_(False))).all()
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    data["record_id"] = data.pop("record_key")
    types = {"amount_vnd": pa.int64()}
    return flag_multi_org(pa.table({c: pa.array(v, types.get(c, pa.string())) for c, v in data.items()}))
