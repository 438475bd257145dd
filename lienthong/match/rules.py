"""Deterministic rules around the model: sure links before it, vetoes after it.

Links (probability 1, the rule's name kept): two records with the same CCCD (12 digits: a card for life) whose
birth years do not disagree and whose given names are alike; two records with the same organisation and member id
(``org_member``, when the caller provides it); two records with the same ID number that the national population
database confirmed together with full name and date of birth (``id_confirmed``, when the caller provides it:
``population_confirmed``; a record with any mismatch is not confirmed, so a mismatch never links).

Vetoes — a scored pair is dropped, however high its probability, when

* both records carry a CCCD and the CCCDs differ (one person, one CCCD);
* the given names clearly differ (Jaro-Winkler < 0.8, and the names are not one another reversed: given and
  family name swapped, as a reversed name the cleaning could not undo shows) and no ID number is shared;
* the birth years are more than one year apart and no ID number is shared.

The last two separate relatives and twins: they share family name, ward, address, phone and (twins) birth date,
so the fields the model multiplies as if independent all agree; the given name (or, for a parent and child of
one name, the birth year) is what says they are two people. A typo keeps Jaro-Winkler above 0.8.
"""

from __future__ import annotations

import pyarrow as pa

from lienthong.match import duck

_GIVEN_ALIKE = ("(l.given = r.given OR jaro_winkler_similarity(l.given, r.given) >= 0.8 "
                "OR (r.given = l.family AND l.given IN (r.family, r.middle)) "
                "OR (l.given = r.family AND r.given IN (l.family, l.middle)))")
_NO_SHARED_ID = "NOT coalesce(l.id_number = r.id_number, false)"
VETO = (f"(l.id_kind = 'cccd' AND r.id_kind = 'cccd' AND l.id_number <> r.id_number) "
        f"OR (l.given IS NOT NULL AND r.given IS NOT NULL AND NOT {_GIVEN_ALIKE} AND {_NO_SHARED_ID}) "
        f"OR (abs(l.dob_year - r.dob_year) > 1 AND {_NO_SHARED_ID})")
# Generic data (any locale): a name typo may fall under 0.8 on a short name, and given name and surname swapped
# may carry a typo too; relatives are told apart there by the date and the other fields the model weighs.
_GIVEN_ALIKE_GENERIC = ("(l.given = r.given OR jaro_winkler_similarity(l.given, r.given) >= 0.8 "
                        "OR damerau_levenshtein(l.given, r.given) <= 1 "
                        "OR (jaro_winkler_similarity(l.given, r.family) >= 0.9 "
                        "AND jaro_winkler_similarity(l.family, r.given) >= 0.9))")
VETO_GENERIC = VETO.replace(_GIVEN_ALIKE, _GIVEN_ALIKE_GENERIC)
_SAME_CCCD = (f"l.id_kind = 'cccd' AND l.id_number = r.id_number "
              f"AND (l.dob_year IS NULL OR r.dob_year IS NULL OR l.dob_year = r.dob_year) "
              f"AND (l.given IS NULL OR r.given IS NULL OR {_GIVEN_ALIKE})")


def deterministic_links(features: pa.Table, other: pa.Table | None = None) -> pa.Table:
    """Pairs linked by rule, with ``match_probability`` 1 and the ``rule``.

    Within ``features`` (``unique_id_l < unique_id_r``), or, with ``other``, between ``other`` (left) and
    ``features`` (right) only.
    """
    con = duck.connect()
    con.register("fr", features)
    con.register("fl", other if other is not None else features)
    order = "" if other is not None else "AND l.unique_id < r.unique_id"
    parts = [f"""SELECT l.unique_id AS unique_id_l, r.unique_id AS unique_id_r, 'same_cccd' AS rule
                 FROM fl l JOIN fr r ON l.id_number = r.id_number {order} WHERE {_SAME_CCCD}"""]
    if "org_member" in features.column_names and (other is None or "org_member" in other.column_names):
        parts.append(f"""SELECT l.unique_id, r.unique_id, 'same_org_member_id' FROM fl l JOIN fr r
                         ON l.org_member = r.org_member {order}""")
    if "id_confirmed" in features.column_names and (other is None or "id_confirmed" in other.column_names):
        parts.append(f"""SELECT l.unique_id, r.unique_id, 'population_confirmed' FROM fl l JOIN fr r
                         ON l.id_number = r.id_number {order} WHERE l.id_confirmed AND r.id_confirmed""")
    sql = " UNION ".join(parts)
    return con.sql(f"""SELECT unique_id_l, unique_id_r, 1.0::DOUBLE AS match_probability,
                                  64.0::DOUBLE AS match_weight, min(rule) AS rule
                           FROM ({sql}) GROUP BY ALL ORDER BY 1, 2""").to_arrow_table()


def apply_vetoes(edges: pa.Table, left: pa.Table, right: pa.Table | None = None, *, locale: str = "vi"
                 ) -> tuple[pa.Table, int]:
    """``edges`` without the vetoed pairs, and how many were vetoed.

    Args:
        edges: scored pairs (``unique_id_l``, ``unique_id_r``, ...).
        left: features of the records named in ``unique_id_l``; ``right`` of those in ``unique_id_r``
            (default: the same table).
        locale: ``generic`` tolerates a short name's typo and a swap with a typo in the given-name veto.
    """
    con = duck.connect()
    con.register("e", edges)
    con.register("fl", left)
    con.register("fr", right if right is not None else left)
    kept = con.sql(f"""SELECT e.* FROM e JOIN fl l ON l.unique_id = e.unique_id_l
                           JOIN fr r ON r.unique_id = e.unique_id_r
                           WHERE NOT coalesce({VETO_GENERIC if locale == "generic" else VETO}, false)
                        """).to_arrow_table()
    return kept, edges.num_rows - kept.num_rows
