"""`lienthong bench blocking`: how many pairs the match model's blocking rules make as the registry grows, and how
many of the true pairs they let the model see, for the rules now and the rules before 2026-12-04.

The members are those of `lienthong bench job` (the same generator, seed and file at each size), with the generator's
truth. Their comparison columns are built as the match stage builds them
(:func:`lienthong.match.features.build_features`), a part of the file at a time into Parquet; DuckDB then counts each
rule's pairs (the sum of k(k−1)/2 over its blocks; a null never shares a key) and the share of the true pairs that
share the key of at least one rule: the ceiling of the recall any model scoring those pairs can reach.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lienthong.bench.job import write_members
from lienthong.bench.report import write_section
from lienthong.console import console
from lienthong.match import duck
from lienthong.match.config import MatchConfig
from lienthong.match.features import build_features
from lienthong.match.model import _BLOCKING

# The rules of models trained before 2026-12-04 (docs/match.md, How a pair is decided).
RULES_BEFORE = (
    ("id_number",), ("phone",), ("email",), ("given", "dob"), ("family", "middle", "dob"),
    ("family", "middle", "given", "dob_year", "province"), ("dob", "ward"), ("given", "family", "ward"),
    ("given", "family", "postcode"), ("given", "family", "locality"),
)
_ROLES = MatchConfig(record_id="member_id", full_name="full_name", date_of_birth="date_of_birth", sex="sex",
                     ward="ward_code", id_number="id_number", phone="phone", locale="vi")
_PART_ROWS = 1_000_000


def run_blocking_bench(*, sizes: list[int], out: Path) -> dict[int, dict]:
    """Count pairs and reachable true pairs at each size; write the section ``blocking`` of ``out``."""
    figures = {}
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            with console.status(f"generating {rows:,} members"):
                csv_path, truth_path = write_members(Path(tmp), rows)
            with console.status("their comparison columns"):
                started = time.perf_counter()
                features = _features(csv_path, Path(tmp) / "features")
                built = time.perf_counter() - started
            with console.status("pairs per rule"):
                figures[rows] = {"now": _count(features, truth_path, _BLOCKING),
                                 "before": _count(features, truth_path, RULES_BEFORE), "features_seconds": built}
        now, before = figures[rows]["now"], figures[rows]["before"]
        console.print(f"{rows:,} members: {before['pairs']:,} pairs before, {now['pairs']:,} now; true pairs reached "
                      f"{before['reached']:.4f} before, {now['reached']:.4f} now")
    write_section(out, "blocking", render(figures))
    return figures


def _features(csv_path: Path, folder: Path) -> Path:
    """The comparison columns of every row of the file, a part at a time, as Parquet files in ``folder``."""
    folder.mkdir()
    reader = pacsv.open_csv(csv_path, read_options=pacsv.ReadOptions(block_size=1 << 24),
                            convert_options=pacsv.ConvertOptions(strings_can_be_null=True, column_types={
                                c: pa.string() for c in ("member_id", "date_of_birth", "id_number", "phone",
                                                         "ward_code")}))
    batches, held, part = [], 0, 0
    for batch in [*reader, None]:
        if batch is not None:
            batches.append(batch)
            held += batch.num_rows
        if held >= _PART_ROWS or (batch is None and held):
            table = pa.Table.from_batches(batches).select(["member_id", "full_name", "sex", "date_of_birth",
                                                            "id_number", "phone", "ward_code"])
            pq.write_table(build_features(table, _ROLES), folder / f"part-{part:04d}.parquet")
            batches, held, part = [], 0, part + 1
    return folder


def _count(features: Path, truth: Path, rules: tuple[tuple[str, ...], ...]) -> dict:
    con = duck.connect()
    con.execute(f"CREATE VIEW f AS SELECT * FROM read_parquet('{features.as_posix()}/*.parquet')")
    present = {r[0] for r in con.execute("DESCRIBE f").fetchall()}
    filled = {c for c in present if con.execute(f'SELECT count("{c}") FROM f').fetchone()[0]}
    usable = [cols for cols in rules if set(cols) <= filled]  # as the model leaves out empty columns' rules
    per_rule = {}
    for cols in usable:
        known = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        per_rule[", ".join(cols)] = int(con.execute(
            f"SELECT coalesce(sum(k * (k - 1) // 2), 0) FROM (SELECT count(*) AS k FROM f WHERE {known} "
            f"GROUP BY {', '.join(cols)})").fetchone()[0])
    con.execute(f"CREATE TABLE truth AS SELECT member_id AS unique_id, person_id FROM read_parquet('{truth}')")
    con.execute("""CREATE TABLE true_pairs AS SELECT a.unique_id AS l, b.unique_id AS r FROM truth a
                   JOIN truth b ON a.person_id = b.person_id AND a.unique_id < b.unique_id""")
    shared = " OR ".join("(" + " AND ".join(f"x.{c} = y.{c}" for c in cols) + ")" for cols in usable)
    true_pairs, reached = con.execute(f"""SELECT count(*), count(*) FILTER (WHERE {shared}) FROM true_pairs t
                                          JOIN f x ON x.unique_id = t.l JOIN f y ON y.unique_id = t.r""").fetchone()
    con.close()
    return {"per_rule": per_rule, "pairs": sum(per_rule.values()), "true_pairs": true_pairs,
            "reached": reached / true_pairs if true_pairs else 1.0}


def render(figures: dict[int, dict]) -> str:
    sizes = sorted(figures)
    lines = [
        "## Blocking as the registry grows: `lienthong bench blocking`",
        "",
        f"Reproduce with `lienthong bench blocking --sizes {','.join(str(s) for s in sizes)}`; figures of the last "
        f"run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, written by the "
        "command itself. The members of `bench job` at each size, their comparison columns as the match stage builds "
        "them. *Pairs*: the sum over the rules of the pairs each makes (a pair two rules share counted twice, as an "
        "upper bound of what Splink scores); *true pairs reached*: the share of the pairs of one person's records "
        "that share the key of at least one rule, the ceiling of recall.",
        "",
        "| rules | " + " | ".join(f"pairs at {s:,}" for s in sizes) + " | "
        + " | ".join(f"per record at {s:,}" for s in sizes) + " | "
        + " | ".join(f"true pairs reached at {s:,}" for s in sizes) + " |",
        "|---|" + "---:|" * (3 * len(sizes)),
    ]
    for name, label in (("before", "before 2026-12-04"), ("now", "now")):
        runs = [figures[s][name] for s in sizes]
        lines.append(f"| {label} | " + " | ".join(f"{r['pairs']:,}" for r in runs) + " | "
                     + " | ".join(f"{2 * r['pairs'] / s:.1f}" for r, s in zip(runs, sizes, strict=True)) + " | "
                     + " | ".join(f"{r['reached']:.4f} of {r['true_pairs']:,}" for r in runs) + " |")
    lines += ["", "Pairs per rule:", "", "| rule | " + " | ".join(f"{s:,}" for s in sizes) + " |",
              "|---|" + "---:|" * len(sizes)]
    for name in ("before", "now"):
        for rule in figures[sizes[0]][name]["per_rule"]:
            lines.append(f"| {name}: {rule} | " + " | ".join(f"{figures[s][name]['per_rule'].get(rule, 0):,}"
                                                                for s in sizes) + " |")
    return "\n".join(lines) + "\n"
