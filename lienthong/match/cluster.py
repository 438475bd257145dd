"""Clusters of records from scored pairs: strongest links first, never joining what must stay apart.

Connected components over every link above a threshold chain weak links into wrong merges (A~B, B~C, so A=C).
Here links are taken strongest first (union-find) and a merge is refused when the two clusters

* would hold two different CCCDs (a person has one; the model's vetoes already drop such direct pairs, this
  stops the indirect ones), or
* contain a pair a reviewer rejected ("not the same person"): decisions are respected by every later run.

Cluster ids are stable: the smallest record id of the cluster, so the same data gives the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def cluster(ids: pa.Array, edges: pa.Table, *, cccd: pa.Array | None = None,
            groups: pa.Array | None = None, cannot_link: Iterable[tuple[str, str]] = ()) -> pa.Array:
    """The cluster id (smallest member id) of each of ``ids``.

    Args:
        ids: record ids (unique strings).
        edges: ``unique_id_l``, ``unique_id_r``, ``match_probability``: the links to take (already thresholded).
        cccd: per record, its CCCD or null (aligned with ``ids``).
        groups: per record, a group it starts in (existing entity), or null; records of a group start joined.
        cannot_link: pairs of record ids that must not end in one cluster.
    """
    n = len(ids)
    parent = np.arange(n)
    order = pc.sort_indices(ids).to_numpy()
    sorted_ids = ids.take(pa.array(order))
    owner_cccd: dict[int, str] = {}
    if cccd is not None:
        owner_cccd = {i: c for i, c in enumerate(cccd.to_pylist()) if c is not None}
    forbidden: dict[int, set[int]] = {}
    index = {v: i for i, v in enumerate(ids.to_pylist())} if cannot_link else {}
    for a, b in cannot_link:
        if a in index and b in index:
            forbidden.setdefault(index[a], set()).add(index[b])
            forbidden.setdefault(index[b], set()).add(index[a])
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(a: int, b: int, *, check: bool) -> bool:
        ra, rb = find(a), find(b)
        if ra == rb:
            return True
        ca, cb = owner_cccd.get(ra), owner_cccd.get(rb)
        if check and ca is not None and cb is not None and ca != cb:
            return False
        if check and forbidden:
            ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
            fa = set().union(*(forbidden.get(x, ()) for x in ma))
            if fa and not fa.isdisjoint(mb):
                return False
        if ra > rb:
            ra, rb = rb, ra
        parent[rb] = ra
        merged = ca if ca is not None else cb
        if merged is not None:
            owner_cccd[ra] = merged
        if forbidden:
            members[ra] = members.get(ra, [ra]) + members.pop(rb, [rb])
        return True

    if groups is not None:
        first_of: dict[str, int] = {}
        for i, g in enumerate(groups.to_pylist()):
            if g is not None:
                union(first_of.setdefault(g, i), i, check=False)
    if edges.num_rows:
        position = pc.index_in  # record id -> row
        left = position(edges.column("unique_id_l"), value_set=ids).to_numpy(zero_copy_only=False)
        right = position(edges.column("unique_id_r"), value_set=ids).to_numpy(zero_copy_only=False)
        strength = pc.fill_null(edges.column("match_probability"), 0).to_numpy(zero_copy_only=False)
        for k in np.argsort(-strength, kind="stable"):
            union(int(left[k]), int(right[k]), check=True)
    roots = np.array([find(i) for i in range(n)])
    # the smallest id of each cluster: rank of each id in sorted order, minimum per root
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    smallest = np.full(n, n, dtype=np.int64)
    np.minimum.at(smallest, roots, rank)
    return sorted_ids.take(pa.array(smallest[roots]))
