"""Reviewers' decisions on uncertain pairs, applied at once and remembered for every later run.

Accepting a pair whose records sit in two entities merges them (the smaller id survives, recorded in the
history); rejecting a pair whose records sit in one entity moves the second record out into an entity of its
own (a split, recorded); the golden records of the entities it changes are rebuilt at once. Either way the
decision is stored in ``match_review``, and later runs read it as a
must-link or cannot-link constraint (:mod:`lienthong.match.cluster`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from lienthong.match.incremental import entity_id_for
from lienthong.match.stage import golden_entities, members_table
from lienthong.warehouse import tables_match as T


def apply_decision(engine: Engine, item_id: int, status: str, by: str) -> dict[str, Any] | None:
    """Store the decision on review item ``item_id`` and apply it to the entities; None if no such item."""
    item = T.decide_review(engine, item_id, status, by)
    if item is None:
        return None
    dataset, left, right = item["dataset"], item["record_key_l"], item["record_key_r"]
    links = T.links(engine, dataset)
    entity = dict(zip(links.column("record_key").to_pylist(), links.column("entity_id").to_pylist(), strict=True))
    el, er = entity.get(left), entity.get(right)
    outcome: dict[str, Any] = {"item": item_id, "decision": status}
    if el is None or er is None:
        return outcome | {"effect": "records not linked yet: the next match run applies it"}
    run_id = T.start_run(engine, dataset, T.last_run_seq(engine, dataset), "review", 0)
    records_of: dict[str, list[str]] = {}
    for key, ent in entity.items():
        records_of.setdefault(ent, []).append(key)
    # The golden records of the entities the decision changes are rebuilt at once, not at the next match run.
    if status == "accepted" and el != er:
        keep, gone = sorted((el, er))
        golden = golden_entities(engine, dataset, members_table({keep: records_of[keep] + records_of[gone]}))
        T.write_outcome(engine, dataset, run_id, merges=[(gone, keep)], entities=golden,
                        stats={"review_item": item_id})
        return outcome | {"effect": f"entity {gone} merged into {keep}"}
    if status == "rejected" and el == er:
        new = entity_id_for(right, f"{dataset}:split")
        T.split_record(engine, dataset, right, new, run_id)
        golden = golden_entities(engine, dataset, members_table({el: [k for k in records_of[el] if k != right],
                                                                 new: [right]}))
        T.write_outcome(engine, dataset, run_id, entities=golden, stats={"review_item": item_id})
        return outcome | {"effect": f"record moved out of {el} into {new}"}
    T.write_outcome(engine, dataset, run_id, stats={"review_item": item_id})
    return outcome | {"effect": "nothing to change now; remembered for later runs"}
