"""The open tables counted in the warehouse equal a plain count of the same records, on SQLite and PostgreSQL.

Generated records with the awkward cases: nulls in every dimension, deleted records, birthdays on ``as_of`` and on
29 February (``as_of`` a 28 February), people not born yet or 201, money left blank, durations of whole quarter
days (medians that end in .x5 and round half to even), cells with an even and an odd number of resolved records.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from lienthong.open_data.aggregates import AGE_BANDS, KINH, OPEN_TABLES, UNKNOWN, OpenTable
from lienthong.open_data.counting import count_family
from lienthong.open_data.disclosure import key_of
from lienthong.warehouse.tables import PUBLISHED

AS_OF = date(2027, 2, 28)
BIRTHS = [None, date(2009, 2, 28), date(2009, 3, 1), date(2008, 2, 29), date(2012, 2, 29), date(1996, 2, 28),
          date(1996, 2, 29), date(1951, 3, 1), date(2027, 3, 1), date(1826, 2, 28), date(1827, 3, 1),
          date(1980, 7, 14), date(1970, 1, 1)]


def members(rng: random.Random, n: int) -> list[dict]:
    return [{"province_code": rng.choice(["01", "04", None]), "ward_code": rng.choice(["00070", "00004", "01273",
             None]), "organisation": rng.choice(["HLHPN", "HND", None]), "sex": rng.choice(["1", "2", None]),
             "date_of_birth": rng.choice(BIRTHS), "ethnicity_code": rng.choice([KINH, "02", "04", None]),
             "religion_code": rng.choice(["00", "01", None]), "deleted": rng.random() < 0.05} for _ in range(n)]


def feedback(rng: random.Random, n: int) -> list[dict]:
    out = []
    for _ in range(n):
        received = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 24 * 400))
        status = rng.choice(["resolved", "resolved", "processing", None])
        resolved = received + timedelta(hours=6 * rng.randrange(-2, 60)) if rng.random() < 0.9 else None
        out.append({"received_at": received if rng.random() < 0.97 else None, "status": status,
                    "resolved_at": resolved, "category": rng.choice(["land", "health", None]),
                    "province_code": rng.choice(["01", "04", None]), "satisfaction": rng.choice([1, 3, 5, None]),
                    "deleted": rng.random() < 0.05})
    return out


def relief(rng: random.Random, n: int) -> list[dict]:
    return [{"campaign": rng.choice(["YAGI-2024", "LU-2025", None]), "role": rng.choice(["donor", "beneficiary"]),
             "province_code": rng.choice(["01", "04", None]), "organisation": rng.choice(["MTTQ", "HCTD", None]),
             "amount_vnd": rng.choice([None, 1_000_000, 2_500_000, 10**12]), "deleted": rng.random() < 0.05}
            for _ in range(n)]


def category(record: dict, dim: str) -> str:
    """The dimension's value, computed the obvious way, record by record."""
    if dim == "age_band":
        born = record["date_of_birth"]
        if born is None:
            return UNKNOWN
        age = AS_OF.year - born.year - ((born.month, born.day) > (AS_OF.month, AS_OF.day))
        return next((band for low, high, band in AGE_BANDS if low <= age <= high), UNKNOWN)
    if dim == "ethnic_group":
        code = record["ethnicity_code"]
        return UNKNOWN if code is None else "kinh" if code == KINH else "minority"
    if dim == "month":
        return UNKNOWN if record["received_at"] is None else record["received_at"].strftime("%Y-%m")
    if dim == "satisfaction":
        return UNKNOWN if record["satisfaction"] is None else str(record["satisfaction"])
    field = {"province": "province_code", "ward": "ward_code", "ethnicity": "ethnicity_code",
             "religion": "religion_code"}.get(dim, dim)
    return UNKNOWN if record[field] is None else record[field]


def expected(spec: OpenTable, records: list[dict]) -> tuple[list, list]:
    """(counts, measures) of every cell, level by level (finest first), cells sorted, as lists of pairs."""
    live = [r for r in records if not r["deleted"] and all(r[f] == v for f, v in spec.where.items())]
    counts, measures = [], []
    for level in spec.cube.levels():
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for r in live:
            groups[tuple(category(r, d) for d in level)].append(r)
        if not level:
            groups.setdefault((), [])
        for values in sorted(groups):
            cell, key = groups[values], key_of(dict(zip(level, values, strict=True)))
            counts.append((key, len(cell)))
            m: dict = {out: sum(r[source] or 0 for r in cell) for out, source in spec.sums.items()}
            if spec.feedback_measures:
                done = [r for r in cell if r["status"] == "resolved"]
                days = [(r["resolved_at"] - r["received_at"]).total_seconds() / 86400 for r in done
                        if r["resolved_at"] and r["received_at"]]
                m["resolved"] = len(done)
                m["resolution_rate"] = round(len(done) / len(cell), 4) if cell else None
                m["median_days_to_resolve"] = round(statistics.median(days), 1) if days else None
            measures.append((key, m))
    return counts, measures


@pytest.mark.parametrize("empty", [False, True], ids=["generated", "empty"])
def test_counted_in_the_warehouse_equals_a_plain_count(make_hub, warehouse_url: str, empty: bool) -> None:
    hub = make_hub([], warehouse_url)
    rng = random.Random(15)
    records = {"members": members(rng, 3000), "feedback": feedback(rng, 1500), "relief": relief(rng, 800)}
    if empty:
        records = {dataset: [] for dataset in records}
    with hub.engine.begin() as conn:
        for dataset, rows in records.items():
            if rows:
                conn.execute(insert(PUBLISHED[dataset]), [
                    {**r, "record_key": f"k{i}", "source_id": "s", "batch_id": "b", "row_no": i, "version": 1,
                     "published_seq": 1, "updated_at": datetime.now(UTC)} for i, r in enumerate(rows)])
    families: dict[str, list[OpenTable]] = defaultdict(list)
    for spec in OPEN_TABLES:
        families[spec.family].append(spec)
    for tables in families.values():
        for computed in count_family(hub.engine, tables, as_of=AS_OF):
            counts, measures = expected(computed.table, records[computed.table.dataset])
            assert list(computed.counts.items()) == counts, computed.table.name
            assert list(computed.measures.items()) == measures, computed.table.name
    if not empty:  # the awkward cases did happen: medians exactly half way between two tenths, every age band
        cells: dict[tuple, list[float]] = defaultdict(list)
        for r in records["feedback"]:
            if not r["deleted"] and r["status"] == "resolved" and r["resolved_at"] and r["received_at"]:
                days = (r["resolved_at"] - r["received_at"]).total_seconds() / 86400
                cells[category(r, "month"), category(r, "category")].append(days)
        assert any(statistics.median(days) * 20 % 2 == 1 for days in cells.values())
        assert {category(r, "age_band") for r in records["members"]} == {b for *_, b in AGE_BANDS} | {UNKNOWN}
