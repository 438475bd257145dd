"""Disclosure control: small-cell suppression, complementary suppression, and the checker that proves it.

An open table is a *cube*: counts by some dimensions (province × organisation, province → ward, ...) published
with every marginal total (by province, by organisation, the grand total). Each marginal equals the sum of the
cells one dimension finer, so the published numbers satisfy linear equations, and a suppressed cell can be solved
for when it is the only unknown of one equation — or, less visibly, of a combination of equations. The tables of
one dataset share marginals (the province totals appear in every members table), so they form one system.

We therefore decide exactly, not by rule of thumb: a suppressed cell ``x`` is *recoverable* when every solution
of the equations gives it the same value, i.e. when no vector of the null space of the unknowns' coefficient
matrix moves it. :func:`recoverable` computes that per connected block of equations (usually small: one
province's wards, one campaign's provinces; a hidden province total ties a dataset's tables into one block).
:func:`suppress` suppresses every cell below the threshold (primary), then adds complementary cells in rounds
until nothing is recoverable. Each round, every equation that gives a recoverable cell away on its own (all its
other cells published) gets a hidden cell — a hidden total published in several tables needs one in each; only
when there is none, a cell recoverable through a combination of equations gets one beside it. Candidates: not
the only part of a total, inner cells, cells closing a cycle with hidden cells, cells beside several recoverable
cells, the smallest. A few rounds suffice; ``max_rounds`` stops it rather than publish. :func:`check` is what a
test (or an auditor) runs on the published output alone: no published count below the threshold, no suppressed
cell recoverable.

Complements are never zero cells: a hidden zero next to a hidden 3 lets non-negativity pin the 3. Sensitive
attributes rely on the same machinery (they are only ever crossed with provinces, see ``guard``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

Key = tuple[tuple[str, str], ...]  # sorted (dimension, value) pairs; () is the grand total
_TOLERANCE = 1e-9


def key_of(values: Mapping[str, str]) -> Key:
    """The canonical key of a cell given as {dimension: value}."""
    return tuple(sorted(values.items()))


@dataclass(frozen=True)
class Cube:
    """The shape of one open table: its dimensions and which dimension nests in which (ward in province).

    Attributes:
        dims: the table's finest dimensions, e.g. ``("province", "organisation")``.
        parents: child dimension -> parent dimension, for nested dimensions (``{"ward": "province"}``): a
            marginal may drop the child but never keep a child without its parent.
    """

    dims: tuple[str, ...]
    parents: Mapping[str, str] = field(default_factory=dict)

    def levels(self) -> list[tuple[str, ...]]:
        """Every published level (subset of dims closed under nesting), finest first."""
        out = []
        for size in range(len(self.dims), -1, -1):
            for subset in combinations(self.dims, size):
                if all(self.parents.get(d) in (None, *subset) for d in subset):
                    out.append(subset)
        return out

    def equations(self, keys: Iterable[Key]) -> list[tuple[Key, list[Key]]]:
        """(total, parts) for every marginal of ``keys``: total = sum(parts); absent parts are known zeros."""
        by_level: dict[tuple[str, ...], list[Key]] = defaultdict(list)
        for k in keys:
            by_level[tuple(d for d in self.dims if d in dict(k))].append(k)
        out = []
        for level in self.levels():
            for d in self.dims:
                if d in level or self.parents.get(d) not in (None, *level):
                    continue
                finer = tuple(x for x in self.dims if x in level or x == d)
                parts: dict[Key, list[Key]] = defaultdict(list)
                for k in by_level.get(finer, ()):
                    parts[tuple(p for p in k if p[0] != d)].append(k)
                out.extend((total, parts.get(total, [])) for total in by_level.get(level, ()))
        return out


@dataclass
class Table:
    """One open table for disclosure purposes: its cube and its cells (``None`` = suppressed)."""

    name: str
    cube: Cube
    cells: dict[Key, int | None]


def recoverable(tables: Iterable[Table]) -> set[Key]:
    """Suppressed cells whose value follows from the published cells of ``tables`` (one dataset's system).

    A cell suppressed in one table but published in another counts as published: the reader has both.
    """
    tables = list(tables)
    known = {k for t in tables for k, v in t.cells.items() if v is not None}
    unknown = {k for t in tables for k, v in t.cells.items() if v is None} - known
    if not unknown:
        return set()
    rows: list[list[Key]] = []  # each equation reduced to its unknowns (the coefficient signs do not matter
    signs: list[list[float]] = []  # for which cells are free, but we keep them exact anyway)
    for t in tables:
        for total, parts in t.cube.equations(t.cells):
            row = [(total, 1.0)] if total in unknown else []
            row += [(p, -1.0) for p in parts if p in unknown]
            if row:
                rows.append([k for k, _ in row])
                signs.append([s for _, s in row])
    # connected blocks of unknowns (union-find), each solved on its own
    parent: dict[Key, Key] = {k: k for k in unknown}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for row in rows:
        for k in row[1:]:
            parent[find(k)] = find(row[0])
    blocks: dict[Key, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        blocks[find(row[0])].append(i)
    out: set[Key] = set()
    for eq_ids in blocks.values():
        variables = sorted({k for i in eq_ids for k in rows[i]})
        index = {k: j for j, k in enumerate(variables)}
        matrix = np.zeros((len(eq_ids), len(variables)))
        for r, i in enumerate(eq_ids):
            for k, s in zip(rows[i], signs[i], strict=True):
                matrix[r, index[k]] += s
        _, sv, vt = np.linalg.svd(matrix)
        rank = int((sv > _TOLERANCE * max(matrix.shape)).sum())
        null = vt[rank:]  # rows span the null space
        moved = np.abs(null).max(axis=0) if len(null) else np.zeros(len(variables))
        out.update(k for k, j in index.items() if moved[j] < 1e-7)
    return out


def suppress(tables: list[Table], threshold: int, *, max_rounds: int = 100) -> set[Key]:
    """Suppress in place: cells under ``threshold`` (primary), then complements until none is recoverable.

    Each round hides, for every recoverable cell, one complement in *every* equation that gives it away alone
    (all its other cells published): a hidden total published as the sum of its parts in several tables needs a
    hidden part in each of them. A cell recoverable only through a combination of equations gets one complement
    beside it. Candidates are ranked: not the grand total, not pinned (the only part of some total), inner cells,
    cells that close a cycle with hidden cells, cells beside several exposed cells, then the smallest.

    Args:
        tables: one dataset's tables with their true counts (none ``None``); cells are set to ``None`` in place.
        threshold: counts ``0 < n < threshold`` are never published.
        max_rounds: rounds of complements before giving up (a round is one :func:`recoverable`).

    Returns:
        Every suppressed key.

    Raises:
        RuntimeError: no complement can protect a cell (every neighbour is zero or already hidden), or no
            protection after ``max_rounds`` — not seen on real tables, but never published silently.
    """
    truth: dict[Key, int] = {}
    for t in tables:
        truth.update({k: v for k, v in t.cells.items() if v is not None})
    hidden = {k for k, v in truth.items() if 0 < v < threshold}
    inner = {k for t in tables for k in t.cells if len(k) == len(t.cube.dims)}
    unique = {(total, frozenset(parts)) for t in tables for total, parts in t.cube.equations(t.cells)}
    equations = [(total, sorted(parts)) for total, parts in sorted(unique, key=lambda e: (e[0], sorted(e[1])))]
    members: dict[Key, list[int]] = defaultdict(list)
    for i, (total, parts) in enumerate(equations):
        for k in (total, *parts):
            members[k].append(i)

    def cells_of(i: int) -> tuple[Key, ...]:
        return (equations[i][0], *equations[i][1])

    near_exposed: dict[Key, int] = defaultdict(int)  # cell -> exposed cells sharing an equation with it

    def rank(c: Key, i: int) -> tuple:
        closes = any(j != i and any(x in hidden for x in cells_of(j)) for j in members[c])
        # a cell equal to a total (the only part of it) just moves the problem there: last resort
        pinned = any(len(equations[j][1]) == 1 for j in members[c])
        return (c == (), pinned, c not in inner, not closes, -near_exposed[c], -len(c), truth[c], c)

    def candidates(eq_ids: Iterable[int]) -> list[tuple[tuple, int, Key]]:
        return [(rank(c, i), i, c) for i in eq_ids for c in cells_of(i)
                if c not in hidden and truth.get(c, 0) != 0]

    for _ in range(max_rounds):
        _apply(tables, hidden)
        exposed = recoverable(tables)
        if not exposed:
            return hidden
        near_exposed.clear()
        for k in exposed:
            for i in members[k]:
                for c in cells_of(i):
                    near_exposed[c] += 1

        added: set[Key] = set()
        order = sorted(exposed, key=lambda k: (-len(k), k))
        for k in order:
            # every equation that gives k away on its own (no other cell hidden) needs a complement
            alone = [i for i in members[k] if not any(c != k and c in hidden for c in cells_of(i))]
            for _, _, c in [min(options) for i in alone if (options := candidates([i]))]:
                hidden.add(c)
                added.add(c)
        stuck: list[Key] = []
        for k in order if not added else ():
            # recoverable only through a combination: one complement beside it, unless one was just added there
            if any(c in added for i in members[k] for c in cells_of(i)):
                continue
            picks = _widen(k, hidden, equations, members, candidates)
            stuck += [] if picks else [k]
            for _, _, c in picks:
                hidden.add(c)
                added.add(c)
        if not added:
            msg = f"cannot protect suppressed cell {dict(stuck[0])}: no non-zero cell left to hide beside it"
            raise RuntimeError(msg)
    msg = f"complementary suppression did not converge in {max_rounds} rounds"
    raise RuntimeError(msg)


def _widen(k: Key, hidden: set[Key], equations: list[tuple[Key, list[Key]]], members: Mapping[Key, list[int]],
           candidates: Callable[[Iterable[int]], list]) -> list:
    """The best complement beside ``k``, or, when every neighbour is zero or hidden, beside the hidden cells it is
    tied to (a row whose only cell equals its total is pinned one level further out)."""
    frontier, seen = {k}, {k}
    while frontier:
        eq_ids = {i for c in frontier for i in members[c]}
        options = candidates(eq_ids)
        if options:
            return [min(options)]
        frontier = {c for i in eq_ids for c in (equations[i][0], *equations[i][1]) if c in hidden and c not in seen}
        seen |= frontier
    return []


def _apply(tables: list[Table], hidden: set[Key]) -> None:
    for t in tables:
        for k in t.cells:
            if k in hidden:
                t.cells[k] = None


@dataclass(frozen=True)
class Finding:
    """A disclosure problem found by :func:`check`."""

    table: str
    cell: dict[str, str]
    problem: str  # "below_threshold" | "recoverable"


def check(tables: list[Table], threshold: int) -> list[Finding]:
    """Prove a set of published tables safe: returns every small published count and every recoverable cell.

    Works from the published values alone (what a reader has), so it can be run on the files read back.
    """
    findings = [Finding(t.name, dict(k), "below_threshold")
                for t in tables for k, v in t.cells.items() if v is not None and 0 < v < threshold]
    exposed = recoverable(tables)
    findings += [Finding(t.name, dict(k), "recoverable") for t in tables for k in t.cells if k in exposed]
    return findings
