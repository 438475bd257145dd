"""Disclosure control on generated tables: nothing small published, nothing suppressed recoverable."""

from __future__ import annotations

import random

import pytest

from lienthong.open_data.disclosure import Cube, Table, check, key_of, recoverable, suppress


def cube_table(name: str, cube: Cube, inner: dict[tuple[str, ...], int]) -> Table:
    """A table with every marginal of ``inner`` (cells keyed by the cube's dims, in order)."""
    cells: dict = {}
    for values, n in inner.items():
        if not n:
            continue
        full = dict(zip(cube.dims, values, strict=True))
        for level in cube.levels():
            k = key_of({d: full[d] for d in level})
            cells[k] = cells.get(k, 0) + n
    return Table(name, cube, cells)


@pytest.mark.parametrize("seed", range(25))
def test_random_two_way_tables_are_protected(seed: int) -> None:
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 8), rng.randint(1, 6)
    inner = {(f"r{i}", f"c{j}"): rng.choice([0, 0, 1, 2, 3, 4, 5, 7, 12, 40]) for i in range(rows) for j in range(cols)}
    table = cube_table("t", Cube(("r", "c")), inner)
    if not table.cells:
        return
    truth = dict(table.cells)
    hidden = suppress([table], 5)
    assert check([table], 5) == []
    assert all(table.cells[k] is None for k in hidden)
    assert all(v == truth[k] for k, v in table.cells.items() if v is not None)  # published values are true
    assert {k for k, v in truth.items() if 0 < v < 5} <= hidden


def test_single_suppressed_cell_is_found_recoverable() -> None:
    table = cube_table("t", Cube(("r", "c")), {("a", "x"): 3, ("a", "y"): 10, ("b", "x"): 8, ("b", "y"): 9})
    table.cells[key_of({"r": "a", "c": "x"})] = None  # suppress only the small cell: the row total gives it away
    assert [f.problem for f in check([table], 5)] == ["recoverable"]


def test_rectangle_pattern_is_safe_but_a_shared_margin_can_leak() -> None:
    cube = Cube(("r", "c"))
    table = cube_table("t", cube, {("a", "x"): 3, ("a", "y"): 10, ("b", "x"): 8, ("b", "y"): 9})
    for r, c in (("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")):
        table.cells[key_of({"r": r, "c": c})] = None
    assert recoverable([table]) == set()
    # another table of the same family publishing the cell's value makes the whole rectangle solvable
    other = Table("o", Cube(("r", "c")), {key_of({"r": "a", "c": "x"}): 3})
    assert recoverable([table, other]) == {key_of({"r": r, "c": c}) for r, c in
                                            (("a", "y"), ("b", "x"), ("b", "y"))}


def test_ward_with_three_members_of_one_ethnicity() -> None:
    """The tempting case, in miniature: ward cells nest in the province, whose total is published elsewhere."""
    wards = Cube(("province", "ward"), {"ward": "province"})
    table = cube_table("wards", wards, {("01", "w1"): 3, ("01", "w2"): 20, ("01", "w3"): 15, ("04", "w4"): 7})
    eth = cube_table("eth", Cube(("province", "ethnic_group")),
                     {("01", "kinh"): 35, ("01", "minority"): 3, ("04", "kinh"): 7})
    suppress([table, eth], 5)
    assert check([table, eth], 5) == []
    assert eth.cells[key_of({"province": "01", "ethnic_group": "minority"})] is None
    assert table.cells[key_of({"province": "01", "ward": "w1"})] is None


@pytest.mark.xfail(strict=True, reason="greedy complements over-suppress tiny tables: the province total of 38 is "
                   "hidden although hiding two inner cells would do (known limitation, docs/open-data.md)")
def test_province_total_stays_published_in_the_tempting_case() -> None:
    wards = Cube(("province", "ward"), {"ward": "province"})
    table = cube_table("wards", wards, {("01", "w1"): 3, ("01", "w2"): 20, ("01", "w3"): 15, ("04", "w4"): 7})
    eth = cube_table("eth", Cube(("province", "ethnic_group")),
                     {("01", "kinh"): 35, ("01", "minority"): 3, ("04", "kinh"): 7})
    suppress([table, eth], 5)
    assert table.cells[key_of({"province": "01"})] == 38


def test_levels_respect_nesting() -> None:
    cube = Cube(("province", "ward"), {"ward": "province"})
    assert cube.levels() == [("province", "ward"), ("province",), ()]
