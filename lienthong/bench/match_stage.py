"""`lienthong bench match-stage`: the match stage in the warehouse, not just the matching.

`lienthong bench match` times the matching of a file. This times what `sync` and the Airflow publish DAG run: the
stage reading published members from PostgreSQL, matching, and writing links, entities (golden records) and
history — a first (full) run over N published members, then an incremental run of 10,000 newly published ones
(half re-registrations of existing members with the same ID number, half new people). Last, what a member
organisation's small push costs once it is staged: ``jobs.after_publish`` (publish, match, quality report, open
data) of a 100-row file of the same organisation, into the registry now holding N + 10,000 records, twice: the first
in the process pays for loading what the steps use (as a server's first push does), the second is what a running
server's workers pay for each push.

The members are synthetic (one per row, numbered names), loaded by COPY as `lienthong bench api` does: EM finds
no pairs to train on in them, so the shipped default model is used, which is what the timing is about.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from lienthong.bench import DEFAULT_DSN, fresh_database
from lienthong.bench.report import write_section
from lienthong.console import console

_INCREMENT = 10_000
_PUSH = 100
_PUSHES = ((99, "PU"), (98, "PV"))  # two pushes of new members: (generator seed, member id prefix)
_COLUMNS = ("record_key, source_id, batch_id, row_no, member_id, full_name, family_name, middle_name, given_name, sex, "
            "date_of_birth, id_number, phone, ethnicity_code, religion_code, province_code, ward_code, address, "
            "organisation, branch, joined_on, status, birth_year, issues, version, published_seq, updated_at, deleted")


def run_stage_bench(*, records: int, out: Path) -> dict:
    from lienthong.bench.api import _load_members
    from lienthong.hub import Hub
    from lienthong.jobs import after_publish, sync_sources
    from lienthong.match.stage import match_dataset
    from lienthong.settings import Settings

    dsn = os.environ.get("LIENTHONG_TEST_PG_DSN", DEFAULT_DSN)
    figures: dict = {"records": records, "load_before": os.getloadavg()[0]}
    with fresh_database(dsn) as (url, db_dsn), tempfile.TemporaryDirectory() as tmp:
        sources = _push_source(Path(tmp))
        hub = Hub.open(Settings(database_url=url, home=Path(tmp), sources_dir=sources), require_init=False)
        hub.initialise()
        with console.status(f"publishing {records:,} members by COPY"):
            _load_members(db_dsn, records, lambda n: None)
        with console.status("match stage, first run"):
            started = time.perf_counter()
            full = match_dataset(hub.engine, cache_dir=Path(tmp) / "match")
            figures["full"] = {"seconds": time.perf_counter() - started, "entities": full.get("entities_created"),
                               "phases": _phases(full)}
        with psycopg.connect(db_dsn) as conn:
            seq = conn.execute("INSERT INTO publication (dataset, published_at, batch_ids, rows_inserted, "
                               "rows_updated) VALUES ('members', now(), '[]', %s, 0) RETURNING seq",
                               (_INCREMENT,)).fetchone()[0]
            conn.execute(f"""INSERT INTO pub_members ({_COLUMNS})
                SELECT 'again:' || member_id, 'again', 'bagain', row_no, member_id, full_name, family_name,
                       middle_name, given_name, sex, date_of_birth,
                       CASE WHEN mod(row_no, 2) = 0 THEN id_number
                            ELSE lpad((900000000000 + row_no)::text, 12, '0') END,
                       phone, ethnicity_code, religion_code, province_code, ward_code, address, 'HND', branch,
                       joined_on, status, birth_year, issues, 1, %s, now(), false
                FROM pub_members WHERE source_id = 'bench' AND row_no < %s""", (seq, _INCREMENT))
        with console.status(f"match stage, {_INCREMENT:,} new records"):
            started = time.perf_counter()
            incremental = match_dataset(hub.engine, cache_dir=Path(tmp) / "match")
            figures["incremental"] = {"seconds": time.perf_counter() - started,
                                      "entities": incremental.get("entities_created"),
                                      "records": incremental.get("records"), "phases": _phases(incremental)}
        figures["pushes"] = []
        for n, (seed, prefix) in enumerate(_PUSHES):  # the first in this process, then one as a running server's
            _write_push(Path(tmp), f"push-{n}.csv", seed, prefix)
            runs = sync_sources(hub, hub.sources.values())  # landed, cleaned and staged: not timed
            with console.status(f"after_publish of a {_PUSH}-row push"):
                started, cpu = time.perf_counter(), time.process_time()
                done = after_publish(hub, ["members"], batch_ids=runs)
                figures["pushes"].append({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                                          "steps": done.seconds, "problems": [p.message for p in done.problems],
                                          "load": os.getloadavg()[0]})
        hub.engine.dispose()
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["load_after"] = os.getloadavg()[0]
    write_section(out, "match-stage", render(figures))
    return figures


def _push_source(home: Path) -> Path:
    """A files source of one organisation reading ``home/push``; returns the sources folder."""
    import yaml

    from lienthong.bench.hub_run import bench_source

    feed, sources = home / "push", home / "sources"
    feed.mkdir()
    sources.mkdir()
    (sources / "push.yml").write_text(yaml.safe_dump({**bench_source(feed), "id": "push"}), encoding="utf-8")
    return sources


def _write_push(home: Path, name: str, seed: int, prefix: str) -> None:
    """A generated ``_PUSH``-row file of new members, dropped into the push source's folder."""
    import pyarrow.csv as pacsv

    from lienthong.demo.generator import generate_members

    pacsv.write_csv(generate_members(_PUSH, seed=seed, id_prefix=prefix).records, home / "push" / name)


def _phases(stats: dict) -> dict[str, float]:
    """Where a run's time went: read, train, match, golden, write (seconds, from the stage's own figures)."""
    return {k.removeprefix("seconds_stage_"): v for k, v in stats.items() if k.startswith("seconds_stage_")}


def _where(phases: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in phases.items())


def render(f: dict) -> str:
    return "\n".join([
        "## The match stage in the warehouse: `lienthong bench match-stage`",
        "",
        f"Reproduce with `lienthong bench match-stage --records {f['records']}`; figures of the last run, written by "
        "the command itself.",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; load average {f['load_before']:.1f} "
        f"before, {f['load_after']:.1f} after; PostgreSQL via psycopg 3",
        f"- data: {f['records']:,} synthetic published members (see lienthong/bench/match_stage.py), then "
        f"{_INCREMENT:,} more (half the same people registered by another organisation)",
        "",
        "| run | seconds | where (s) | entities created |",
        "|---|---:|---|---:|",
        f"| first run over {f['records']:,} published members (read, match, write links, entities, history) | "
        f"{f['full']['seconds']:.1f} | {_where(f['full']['phases'])} | {f['full']['entities']:,} |",
        f"| incremental: {f['incremental']['records']:,} new records against the registry | "
        f"{f['incremental']['seconds']:.1f} | {_where(f['incremental']['phases'])} | "
        f"{f['incremental']['entities']:,} |",
        *(f"| {_PUSH}-row push into a registry of {f['records'] + _INCREMENT + n * _PUSH:,} records, {when}: "
          f"after_publish seconds (publish, match, report, open data; {push['cpu']:.1f} s CPU, load "
          f"{push['load']:.1f}) | {push['seconds']:.1f} | {_where(push['steps'])} | — |"
          for n, (push, when) in enumerate(zip(f["pushes"], ("the first in the process (it imports and loads what "
                                                              "the steps use)", "the next, as in a running server"),
                                               strict=True))),
        "",
        *(f"Problems of a push: {'; '.join(push['problems'])}" for push in f["pushes"] if push["problems"]),
        f"Peak memory of the process: {f['peak_mib']:,.0f} MiB. `lienthong bench match` times the matching alone on "
        "a file; this is what `sync` and the Airflow publish DAG pay.",
    ])
