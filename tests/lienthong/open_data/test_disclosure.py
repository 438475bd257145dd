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


def test_province_total_stays_published_in_the_tempting_case() -> None:
    wards = Cube(("province", "ward"), {"ward": "province"})
    table = cube_table("wards", wards, {("01", "w1"): 3, ("01", "w2"): 20, ("01", "w3"): 15, ("04", "w4"): 7})
    eth = cube_table("eth", Cube(("province", "ethnic_group")),
                     {("01", "kinh"): 35, ("01", "minority"): 3, ("04", "kinh"): 7})
    suppress([table, eth], 5)
    assert table.cells[key_of({"province": "01"})] == 38
    assert check([table, eth], 5) == []


MEMBER_CUBES = {"by_organisation": Cube(("province", "organisation")),
                "by_ward": Cube(("province", "ward"), {"ward": "province"}),
                "by_sex": Cube(("province", "sex")), "by_age_band": Cube(("province", "age_band"))}


def member_tables(members: list[dict[str, str]]) -> list[Table]:
    """The members tables of open data (in miniature), every marginal included, from member rows."""
    tables = []
    for name, cube in MEMBER_CUBES.items():
        cells: dict = {}
        for m in members:
            for level in cube.levels():
                k = key_of({d: m[d] for d in level})
                cells[k] = cells.get(k, 0) + 1
        tables.append(Table(name, cube, cells))
    return tables


def registry_with_a_small_push(wards_per_province: int) -> list[dict[str, str]]:
    """Three provinces of women members of one organisation (6 per ward, 2% age unknown), then a push of 7 men
    of a new organisation: the bug report's 200,000 + 100 in miniature."""
    rng = random.Random(101)
    bands = ["18-30", "31-45", "46-60", "61-75", "unknown"]
    members = []
    for p in range(3):
        for w in range(wards_per_province):
            for _ in range(6):
                band = rng.choice(bands[:-1]) if rng.random() > 0.02 else "unknown"
                members.append({"province": f"{p:02d}", "ward": f"{p:02d}{w:03d}", "organisation": "HLHPN",
                                "sex": "2", "age_band": band})
    for _ in range(7):
        p, w = rng.randrange(3), rng.randrange(wards_per_province)
        members.append({"province": f"{p:02d}", "ward": f"{p:02d}{w:03d}", "organisation": "HND", "sex": "1",
                        "age_band": rng.choice(bands)})
    return members


@pytest.mark.parametrize("wards_per_province", [3, 12, 48])
def test_a_small_push_from_a_new_organisation_is_protected_in_a_few_rounds(wards_per_province: int) -> None:
    """The bug: a hidden province total, given away by its age bands, got one more hidden *ward* per round (one
    complement per round, in the wrong table): rounds grew with the wards (20, 45, 70 here; thousands at 200k)."""
    tables = member_tables(registry_with_a_small_push(wards_per_province))
    truth = {k: v for t in tables for k, v in t.cells.items()}
    hidden = suppress(tables, 5, max_rounds=5)
    assert check(tables, 5) == []
    assert {k for k, v in truth.items() if 0 < v < 5} <= hidden
    assert all(v == truth[k] for t in tables for k, v in t.cells.items() if v is not None)
    assert len(hidden) <= 25  # the old greedy hid 40-86 cells here


def test_suppress_gives_up_after_max_rounds_rather_than_publishing() -> None:
    tables = member_tables(registry_with_a_small_push(3))
    with pytest.raises(RuntimeError, match="did not converge in 1 rounds"):
        suppress(tables, 5, max_rounds=1)


def test_levels_respect_nesting() -> None:
    cube = Cube(("province", "ward"), {"ward": "province"})
    assert cube.levels() == [("province", "ward"), ("province",), ()]
