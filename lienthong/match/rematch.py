"""Records that changed after they were linked: re-scored, moved where they now belong, their old entity re-checked.

A published person record changes — a corrected date of birth, a new CCCD replacing a CMND — and what linked it
may no longer hold, or a link it lacked may now exist. The match stage then takes the record out of its entity
and attaches it again like a new one (:func:`lienthong.match.incremental.attach`): it may stay, join another
entity (its old entity, if left empty, is recorded as merged into that one) or start one. The entity it left is
clustered again from its remaining records with the same model, rules, vetoes and reviewers' decisions: when
they no longer hold together, the part with the most records keeps the id and every other part becomes an entity
of its own, recorded as a ``split`` in the history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.match import model as M
from lienthong.match.config import MatchConfig
from lienthong.match.incremental import entity_id_for
from lienthong.match.rules import deterministic_links
from lienthong.match.run import decide


@dataclass
class Regrouping:
    """What re-matching changed records does beyond their own new links."""

    moved: dict[str, str] = field(default_factory=dict)  # record -> its new entity (only when it changed)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (emptied entity, the one its record joined)
    splits: list[tuple[str, str, dict]] = field(default_factory=list)  # (entity, new entity, detail)


def regroup(changed_to: dict[str, str], created: set[str], old_entity: dict[str, str], registry: pa.Table,
            entity: pa.Array, model: M.TrainedModel | dict, config: MatchConfig, *, namespace: str,
            cannot_link: Iterable[tuple[str, str]] = (), must_link: Iterable[tuple[str, str]] = ()) -> Regrouping:
    """Where the changed records went, and how the entities they left hold up.

    Args:
        changed_to: changed record -> the entity :func:`attach` gave it (after merges).
        created: the entity ids :func:`attach` created.
        old_entity: changed record -> its entity before.
        registry / entity: features of the other linked records and their entity ids (the changed ones left out).
        model, config, cannot_link, must_link: as for the match itself.
        namespace: salt of new entity ids (the dataset).
    """
    out = Regrouping()
    left = Counter(entity.to_pylist())
    for record, new in changed_to.items():
        old = old_entity[record]
        if new == old:
            continue
        if new in created and not left[old]:  # alone before and alone again: it keeps its entity
            continue
        out.moved[record] = new
        if not left[old] and new not in created:  # its only record joined another person: a merge
            out.merges.append((old, new))
    emptied = {old for old, _ in out.merges}
    for old in sorted({old_entity[r] for r in out.moved} - emptied):
        if left[old] >= 2:
            _split_if_apart(old, registry, entity, model, config, namespace, cannot_link, must_link, out)
    return out


def _split_if_apart(entity_id: str, registry: pa.Table, entity: pa.Array, model: M.TrainedModel | dict,
                    config: MatchConfig, namespace: str, cannot_link: Iterable[tuple[str, str]],
                    must_link: Iterable[tuple[str, str]], out: Regrouping) -> None:
    members = registry.filter(pc.equal(entity, entity_id))
    linker = M.linker_for(model, members, config.backend)
    scored = M.predict(linker, config.thresholds.review)
    clusters = decide(members, scored, deterministic_links(members), config, cannot_link=cannot_link,
                      must_link=must_link)["clusters"]
    parts: dict[str, list[str]] = {}
    for record, cluster in zip(clusters.column("record_id").to_pylist(), clusters.column("cluster_id").to_pylist(),
                               strict=True):
        parts.setdefault(cluster, []).append(record)
    if len(parts) < 2:
        return
    keep = min(parts, key=lambda c: (-len(parts[c]), c))  # the most records, then the smallest key
    for cluster, records in sorted(parts.items()):
        if cluster == keep:
            continue
        new = entity_id_for(cluster, f"{namespace}:split")
        out.moved.update(dict.fromkeys(records, new))
        out.splits.append((entity_id, new, {"record_keys": sorted(records), "why": "a record of it changed"}))
