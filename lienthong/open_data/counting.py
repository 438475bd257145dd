"""The open tables counted in the warehouse: only the aggregate cells cross into Python, never the records.

One statement per family (one dataset, one filter) counts and sums the finest cells of every table of the family:
on PostgreSQL ``GROUP BY GROUPING SETS``, one scan of ``pub_<dataset>`` whatever the number of tables; on SQLite
(small installs, tests) the same select grouped once per set and joined by ``UNION ALL``. Tables whose dimensions
together make few cells share a grouping set. The marginal levels of each cube are then summed here from its
finest cells (a few thousand at most: one per ward). A median cannot be
summed: the feedback tables' median days to resolve come from a second statement that picks, per cell, the
middle durations with window functions, at every level.

The dimensions are SQL expressions: nulls become ``unknown``; an age band is a range of birth dates computed here
from ``as_of`` (no age arithmetic per record); a month is the UTC ``YYYY-MM`` of ``received_at``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from math import prod

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from lienthong.open_data.aggregates import AGE_BANDS, DIMS, KINH, UNKNOWN, Computed, OpenTable
from lienthong.open_data.disclosure import Key, key_of
from lienthong.warehouse.tables import PUBLISHED

_COUNT, _RESOLVED = "n_", "resolved_"
_MICROS = 1_000_000
# About how many values each dimension takes (unknown included), to decide which grouping sets to merge: every set
# costs PostgreSQL a hash lookup per record, a merged one only more cells to sum here. Never changes a count.
_VALUES_ABOUT = {"province": 35, "ward": 3400, "organisation": 10, "sex": 3, "age_band": 7, "ethnic_group": 3,
                 "ethnicity": 55, "religion": 20, "category": 10, "month": 25, "satisfaction": 6, "campaign": 10}
_MERGED_CELLS = 5000  # a merged grouping set of at most about this many cells


def count_family(engine: Engine, tables: Sequence[OpenTable], *, as_of: date) -> list[Computed]:
    """Count (and sum) every level of each of ``tables`` (one family) in the warehouse, before suppression.

    Args:
        engine: the warehouse.
        tables: the open tables of one family (same dataset, same filter).
        as_of: the date ages are computed at.

    Returns:
        One :class:`Computed` per table, in order: every cell of every level, finest level first, each level's
        cells sorted; the grand total always (0 for an empty table).
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # JIT compiles the projection for seconds at a million rows and gains nothing back; a hash table per
            # grouping set needs a few MB, which the default work_mem would spill to a sort instead.
            conn.exec_driver_sql("SET LOCAL jit = off")
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        sets = _grouping_sets(tables)
        cells = _cells(conn, tables, sets, as_of=as_of)
        medians = {t.name: _medians(conn, t, as_of=as_of) for t in tables if t.feedback_measures}
    out = []
    for t in tables:
        merged = next(s for s in sets if set(t.dims) <= set(s))
        out.append(_roll_up(t, _project(cells.get(frozenset(merged), {}), merged, t.dims), medians.get(t.name)))
    return out


def _grouping_sets(tables: Sequence[OpenTable]) -> list[tuple[str, ...]]:
    """The tables' dimension sets, each folded into the first set it fits in under ``_MERGED_CELLS`` cells.

    The seven members tables become four sets (province × organisation × sex × ethnic group, province × ward,
    province × age band × religion, ethnic group × ethnicity): four hash lookups per record instead of seven.
    """
    parents = {child: parent for t in tables for child, parent in t.parents.items()}

    def cells(dims: set[str]) -> int:
        # a parent beside its child adds nothing: a ward lies in one province
        return prod(_VALUES_ABOUT.get(d, 100) for d in dims if not any(parents.get(c) == d for c in dims))

    merged: list[set[str]] = []
    for t in tables:
        into = next((m for m in merged if set(t.dims) <= m or cells(m | set(t.dims)) <= _MERGED_CELLS), None)
        if into is None:
            merged.append(set(t.dims))
        else:
            into |= set(t.dims)
    return [tuple(sorted(m)) for m in merged]


def _project(cells: dict[tuple, dict], dims: tuple[str, ...], onto: tuple[str, ...]) -> dict[tuple, dict]:
    """The cells of a merged set summed onto the table's dimensions (values in sorted-dimension order)."""
    order = sorted(onto)
    where = [dims.index(d) for d in order]
    out: dict[tuple, dict] = {}
    for values, sums in cells.items():
        key = tuple(values[i] for i in where)
        if key in out:
            total = out[key]
            for column, value in sums.items():
                total[column] += value
        else:
            out[key] = dict(sums)
    return out


def _cells(conn: Connection, tables: Sequence[OpenTable], sets: list[tuple[str, ...]], *,
           as_of: date) -> dict[frozenset, dict]:
    """{grouping set: {dimension values (in the set's sorted order): {count/sum column: value}}}."""
    spec = tables[0]
    dims = sorted({d for t in tables for d in t.dims})
    summed = sorted({f for t in tables for f in t.sums.values()})
    resolved = any(t.feedback_measures for t in tables)
    base = _base(conn, spec, dims, as_of=as_of, extra=summed, resolved=resolved).subquery()
    measures = [func.count().label(_COUNT), *(func.sum(func.coalesce(base.c[f], 0)).label(f) for f in summed)]
    if resolved:
        measures.append(func.sum(base.c[_RESOLVED]).label(_RESOLVED))
    if conn.dialect.name == "postgresql":
        query = select(*(base.c[d] for d in dims), *measures).group_by(
            func.grouping_sets(*(tuple_(*(base.c[d] for d in s)) for s in sets)))
    else:  # no GROUPING SETS: one group-by per set (small installs only)
        query = union_all(*(select(*(base.c[d] if d in s else null().label(d) for d in dims), *measures)
                            .group_by(*(base.c[d] for d in s)) for s in sets))
    out: dict[frozenset, dict] = defaultdict(dict)
    for row in conn.execute(query).mappings():
        # Every dimension expression is non-null (nulls are ``unknown``): the null ones are those not grouped.
        grouped = tuple(d for d in dims if row[d] is not None)
        out[frozenset(grouped)][tuple(row[d] for d in grouped)] = {
            c: int(row[c] or 0) for c in (_COUNT, *summed, *([_RESOLVED] if resolved else []))}
    return out


def _medians(conn: Connection, spec: OpenTable, *, as_of: date) -> dict[Key, float | None]:
    """Median days to resolve of every cell of ``spec``'s cube (resolved records with both times)."""
    base = _base(conn, spec, list(spec.dims), as_of=as_of, micros=True).subquery()
    resolved = select(base).where(base.c[_RESOLVED] == 1, base.c.micros_.is_not(None)).subquery()
    out: dict[Key, float | None] = {}
    for level in spec.cube.levels():
        by = [resolved.c[d] for d in level]
        ranked = select(*by, resolved.c.micros_,
                        func.row_number().over(partition_by=by or None, order_by=resolved.c.micros_).label("rn"),
                        func.count().over(partition_by=by or None).label("n")).subquery()
        middle = [ranked.c[d] for d in level]
        query = (select(*middle, func.min(ranked.c.micros_).label("low"), func.max(ranked.c.micros_).label("high"))
                 .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])).group_by(*middle))
        for row in conn.execute(query).mappings():
            if row["low"] is not None:
                # as pandas did: days of each middle value, then their mean (ties at .x5 round the same way)
                out[key_of({d: row[d] for d in level})] = (_days(row["low"]) + _days(row["high"])) / 2
    return out


def _days(micros: int) -> float:
    """Microseconds as days, the way pandas' ``total_seconds() / 86400`` computes them (bit for bit)."""
    seconds, rest = divmod(int(micros), _MICROS)
    return (seconds + rest / _MICROS) / 86400


def _roll_up(spec: OpenTable, finest: dict[tuple, dict], medians: dict[Key, float | None] | None) -> Computed:
    """Every level of ``spec``'s cube summed from its finest cells, in the order the disclosure code expects."""
    order = sorted(spec.dims)
    cells = [(dict(zip(order, values, strict=True)), sums) for values, sums in finest.items()]
    counts: dict[Key, int] = {}
    measures: dict[Key, dict] = {}
    for level in spec.cube.levels():
        totals: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for values, sums in cells:
            total = totals[tuple(values[d] for d in level)]
            for column, value in sums.items():
                total[column] += value
        if not level and not totals:
            totals[()] = defaultdict(int)  # the grand total, also of an empty table
        for values in sorted(totals):
            total = totals[values]
            key = key_of(dict(zip(level, values, strict=True)))
            counts[key] = size = total[_COUNT]
            m: dict[str, float | int | None] = {out: total[source] for out, source in spec.sums.items()}
            if medians is not None:
                m["resolved"] = total[_RESOLVED]
                m["resolution_rate"] = round(m["resolved"] / size, 4) if size else None
                median = medians.get(key)
                m["median_days_to_resolve"] = None if median is None else round(median, 1)
            measures[key] = m
    return Computed(spec, counts, measures)


def _base(conn: Connection, spec: OpenTable, dims: list[str], *, as_of: date, extra: Sequence[str] = (),
          resolved: bool = True, micros: bool = False):  # noqa: ANN202 - a Select
    """The live records of ``spec``'s family as its dimensions (never null) and the columns measures read."""
    table = PUBLISHED[spec.dataset]
    columns = [_dimension(conn, table, d, as_of=as_of).label(d) for d in dims]
    columns += [table.c[f] for f in extra]
    if resolved:
        columns.append(case((table.c.status == "resolved", 1), else_=0).label(_RESOLVED))
    if micros:
        columns.append(_micros_between(conn, table.c.received_at, table.c.resolved_at).label("micros_"))
    where = [~table.c.deleted, *(table.c[f] == v for f, v in spec.where.items())]
    return select(*columns).where(*where)


def _dimension(conn: Connection, table, dim: str, *, as_of: date) -> ColumnElement:  # noqa: ANN001 - a Table
    """The category of a record for ``dim``, as SQL; never null."""
    if dim == "age_band":
        born = table.c.date_of_birth
        return case(*((and_(born < _first_birth_date_under(as_of, low), born >= _first_birth_date_under(
            as_of, high + 1)), band) for low, high, band in AGE_BANDS), else_=UNKNOWN)
    if dim == "ethnic_group":
        code = table.c.ethnicity_code
        return case((code.is_(None), UNKNOWN), (code == KINH, "kinh"), else_="minority")
    if dim == "month":
        at = table.c.received_at
        month = (func.to_char(func.timezone("UTC", at), "YYYY-MM") if conn.dialect.name == "postgresql"
                 else func.strftime("%Y-%m", at))
        return func.coalesce(month, UNKNOWN)
    if dim == "satisfaction":
        return func.coalesce(cast(table.c.satisfaction, String), UNKNOWN)
    (source,) = DIMS[dim].fields
    return func.coalesce(table.c[source], literal(UNKNOWN, String))


def _first_birth_date_under(as_of: date, years: int) -> date:
    """The earliest birth date whose age at ``as_of`` is below ``years``: older people were born before it.

    Age counts completed years, so ``years`` old is reached on the birthday; someone born on 29 February reaches
    it on 1 March in a common year.
    """
    year = as_of.year - years
    try:
        return date(year, as_of.month, as_of.day) + timedelta(days=1)
    except ValueError:  # 29 February of a common year
        return date(year, 3, 1)


def _micros_between(conn: Connection, start, end) -> ColumnElement:  # noqa: ANN001 - columns
    """Whole microseconds from ``start`` to ``end`` (null when either is); SQLite's to the millisecond."""
    if conn.dialect.name == "postgresql":
        return cast(extract("epoch", end - start) * _MICROS, BigInteger)
    return cast(func.round((func.julianday(end) - func.julianday(start)) * 86_400_000), Integer) * 1000

