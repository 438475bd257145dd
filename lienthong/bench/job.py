"""`lienthong bench job`: the full main job as a user runs it, beside its floors and a peer, in one run.

The job is `lienthong init` then `lienthong sync` (sync, publish, match, quality report, open data) of a generated
members CSV into a fresh PostgreSQL database, the sync timed whole in a fresh process, with the peak memory of its
process tree. Two variants: the first run, which trains the match model (EM) on the records, and a run on another
fresh database holding the model that first run saved. Beside them, each in a fresh process on the same file:

- the floors: pyarrow's CSV parse plus psycopg COPY of the file into an unindexed table (loading with nothing else),
  and plain Splink 5 on the same records (matching with nothing else);
- the peer: dlt loading the file into PostgreSQL (the ``bench`` extra; said plainly when missing), by its
  documented ``read_csv`` recipe and by its fast path for Arrow tables; the job's ratios are to the faster.

A run that passes the memory limit or the timeout is stopped and written as not finished, with how far it got.
Figures go to the ``job`` section of docs/BENCHMARKS.md, one block per size.
"""

from __future__ import annotations

import ast
import json
import os
import platform
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from lienthong.bench import DEFAULT_DSN, fresh_database
from lienthong.bench.hub_run import bench_source
from lienthong.bench.report import with_size_block, write_section
from lienthong.bench.watch import Watched, run_watched
from lienthong.console import console

SEED = 11  # the seed of `lienthong bench hub`: at 1M rows both benchmarks read the same file
CHUNK_ROWS = 1_000_000  # larger files are generated and written a million rows at a time
HEADING = "## The whole job: `lienthong bench job`"
# The peer two ways: dlt's documented filesystem recipe, and its fast path for Arrow tables. The job is set beside
# the faster of the two (a peer on its slow path would flatter the job).
PEERS = {"dlt": "dlt into PostgreSQL, its read_csv recipe", "dlt-arrow": "dlt into PostgreSQL, given Arrow tables"}
MATCH_LAPS = ("read", "train", "match", "golden", "write")  # lienthong.match.stage's seconds_stage_*
STAGES = ("start-up", "sync: extract, land, map, clean, validate, stage", "publish", "match", "quality report",
          "open data", "summary and exit")


@dataclass
class JobRun:
    """One measured `lienthong sync`: the process, the step timings read from its log, what it left behind."""

    watched: Watched
    stages: dict[str, float | None] = field(default_factory=dict)
    match: dict = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def run_job_bench(*, sizes: list[int], out: Path, memory_limit_gib: float = 12.0, timeout: float = 3600.0) -> dict:
    """Measure the job at each size and write the ``job`` section of ``out``; returns the figures by size."""
    dsn = os.environ.get("LIENTHONG_TEST_PG_DSN", DEFAULT_DSN)
    limits = {"memory_limit_mib": memory_limit_gib * 1024, "timeout": timeout}
    done = {}
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            with console.status(f"generating {rows:,} members"):
                csv_path, truth_path = write_members(folder, rows)
            figures: dict = {"rows": rows, "csv_mib": csv_path.stat().st_size / 2**20, "limits": limits,
                             "load_before": os.getloadavg()[0]}
            with console.status("floor: pyarrow CSV parse + psycopg COPY"), fresh_database(dsn) as (_, db_dsn):
                figures["floor"] = _child(["floor", str(csv_path), db_dsn], limits)
            for peer, how in PEERS.items():
                if peer == "dlt" and rows > CHUNK_ROWS:
                    figures[peer] = {"missing": f"run up to {CHUNK_ROWS:,} rows only (over 2 min a million rows, "
                                                "about 4× its Arrow path's, against which the job is set)"}
                    continue
                with console.status(f"peer: {how}"), fresh_database(dsn) as (_, db_dsn):
                    figures[peer] = _child([peer, str(csv_path), _dlt_url(db_dsn), str(folder / peer)], limits)
            with console.status("floor: plain Splink 5"):
                figures["splink"] = _child(["splink", str(csv_path), str(truth_path)], limits)
            with console.status("the job, first run (trains the match model)"), fresh_database(dsn) as (url, _):
                trained = run_job(csv_path, url, folder / "trained", limits)
                model = _saved_model(url)
            with console.status("the job with the saved model"), fresh_database(dsn) as (url, _):
                saved = run_job(csv_path, url, folder / "saved", limits, model=model)
            figures["jobs"] = {"saved": _job_figures(saved), "trained": _job_figures(trained)}
            figures["load_after"] = os.getloadavg()[0]
        write_section(out, "job", with_size_block(out, "job", HEADING, rows, render(figures)))
        for name, job in figures["jobs"].items():
            line = job["why"] or f"{job['seconds']:.1f} s, peak {job['peak_mib']:,.0f} MiB"
            console.print(f"{rows:,} rows, {name} model: {line}")
        done[rows] = figures
    console.print(f"figures written to {out}")
    return done


def write_members(folder: Path, rows: int) -> tuple[Path, Path]:
    """The members CSV (in ``folder/feed``, the bench source's folder) and its truth (member_id, person_id)."""
    from lienthong.demo.generator import generate_members

    feed = folder / "feed"
    feed.mkdir(parents=True)
    csv_path, truth_path = feed / "members.csv", folder / "truth.parquet"
    truths = []
    with csv_path.open("wb") as handle:
        for i, start in enumerate(range(0, rows, CHUNK_ROWS)):
            # One chunk is exactly `bench hub`'s file; later ones draw other people, under other member ids.
            sample = generate_members(min(CHUNK_ROWS, rows - start), seed=SEED + i,
                                      id_prefix="HV" if i == 0 else f"HV{i:02d}")
            pacsv.write_csv(sample.records, handle, pacsv.WriteOptions(include_header=i == 0))
            person = sample.truth.column("person_id")
            truths.append(pa.table({"member_id": sample.truth.column("member_id"),
                                    "person_id": pc.binary_join_element_wise(str(i), person, ":") if i else person}))
            del sample
    pq.write_table(pa.concat_tables(truths), truth_path)
    return csv_path, truth_path


def run_job(csv_path: Path, url: str, home: Path, limits: dict, *, model: dict | None = None) -> JobRun:
    """`lienthong init`, the saved ``model`` put in when given, then `lienthong sync` watched in a fresh process."""
    sources = home / "sources"
    sources.mkdir(parents=True)
    (sources / "bench.yml").write_text(yaml.safe_dump(bench_source(csv_path.parent)), encoding="utf-8")
    env = {**os.environ, "LIENTHONG_SOURCES_DIR": str(sources)}
    cli = [sys.executable, "-m", "lienthong.cli", "--home", str(home), "--database-url", url]
    init = run_watched([*cli, "init"], env=env)
    if not init.ok:
        return JobRun(init)
    if model:
        _put_model(url, model)
    log = home / "job.log"
    launched = time.time()
    watched = run_watched([sys.executable, "-m", "lienthong.bench.job_runs", "sync", str(log), "--home", str(home),
                           "--database-url", url, "sync"], env=env, **limits)
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    stages, match = stage_seconds(lines, launched, launched + watched.seconds)
    return JobRun(watched, stages, match, _counts(url))


def stage_seconds(lines: list[str], launched: float, ended: float) -> tuple[dict[str, float | None], dict]:
    """Seconds of each step of the job, read from the timestamps of its log lines; None for a step not reached.

    Returns the steps (``STAGES``) and the match stage's own figures (its log line).
    """
    marks: dict[str, float] = {}
    match: dict = {}
    publish_seconds = None
    for line in lines:
        stamp, _, rest = line.partition(" ")
        _, _, message = rest.partition(" ")
        try:
            at = float(stamp)
        except ValueError:
            continue  # a traceback's continuation line
        if message == "process started":
            marks["started"] = at
        elif found := re.match(r"published \w+: .* in ([\d.]+)s$", message):
            marks["published"], publish_seconds = at, float(found.group(1))
        elif found := re.match(r"match \w+: (\{.*\})$", message):
            marks["matched"] = at
            match = ast.literal_eval(found.group(1))
        elif message.startswith("quality report written"):
            marks["report"] = at
        elif message.startswith("open data:"):
            marks["open data"] = at

    def between(a: str | None, b: str) -> float | None:
        start = launched if a is None else marks.get(a)
        return marks[b] - start if start is not None and b in marks else None

    synced = marks["published"] - publish_seconds if publish_seconds is not None else None
    stages = {
        STAGES[0]: between(None, "started"),
        STAGES[1]: synced - marks["started"] if synced is not None and "started" in marks else None,
        STAGES[2]: publish_seconds,
        STAGES[3]: between("published", "matched"),
        STAGES[4]: between("matched", "report"),
        STAGES[5]: between("report", "open data"),
        STAGES[6]: ended - marks["open data"] if "open data" in marks else None,
    }
    return stages, match


def _child(args: list[str], limits: dict) -> dict:
    """A floor or the peer, in a fresh process: its own figures plus wall time and peak memory of the process."""
    # dlt reports usage over the network unless told not to: measured offline, it would wait on it.
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    watched = run_watched([sys.executable, "-m", "lienthong.bench.job_runs", *args], env=env, **limits)
    figures = json.loads(watched.stdout.strip().splitlines()[-1]) if watched.ok else {}
    return {**figures, "wall": watched.seconds, "peak_mib": watched.peak_mib, "why": watched.why()}


def _dlt_url(db_dsn: str) -> str:
    """The database as dlt's credentials: it insists on a password, which a trust-authenticated server ignores."""
    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(db_dsn)
    return (f"postgresql://{p.get('user', 'postgres')}:{p.get('password') or 'unused'}@{p.get('host', '127.0.0.1')}:"
            f"{p.get('port', 5432)}/{p['dbname']}")


def _job_figures(run: JobRun) -> dict:
    return {"seconds": run.watched.seconds, "peak_mib": run.watched.peak_mib, "why": run.watched.why(),
            "stages": run.stages, "match": {k: v for k, v in run.match.items() if isinstance(v, int | float)},
            "counts": run.counts}


def _engine(url: str):  # noqa: ANN202 - a SQLAlchemy engine on the bench database
    from sqlalchemy import create_engine

    return create_engine(url)


def _saved_model(url: str) -> dict | None:
    """The model the first run saved: its settings, notes and training rows (None when it saved none)."""
    from sqlalchemy import select

    from lienthong.warehouse.tables_match import match_model

    engine = _engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(match_model.c.settings, match_model.c.notes, match_model.c.training_rows)
                               .where(match_model.c.dataset == "members").order_by(match_model.c.version.desc())
                               .limit(1)).first()
    finally:
        engine.dispose()
    return {"settings": row[0], "notes": row[1], "rows": row[2]} if row else None


def _put_model(url: str, model: dict) -> None:
    from lienthong.warehouse.tables_match import save_model

    engine = _engine(url)
    try:
        save_model(engine, "members", model["settings"], model["notes"], model["rows"])
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    """What the job left in the warehouse: published records, quarantined rows, entities."""
    from sqlalchemy import text

    engine = _engine(url)
    queries = {"published": "SELECT count(*) FROM pub_members", "quarantined": "SELECT count(*) FROM quarantine",
               "entities": "SELECT count(DISTINCT entity_id) FROM match_link WHERE dataset = 'members'"}
    counts = {}
    try:
        with engine.connect() as conn:
            for name, query in queries.items():
                counts[name] = int(conn.execute(text(query)).scalar_one())
    except Exception:  # noqa: BLE001 - a job stopped before creating a table: its counts are simply unknown
        pass
    finally:
        engine.dispose()
    return counts


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def render(f: dict) -> str:
    """The block of one size: the job's runs beside the peer and the floors, then the job step by step."""
    rows, jobs, floor, splink = f["rows"], f["jobs"], f["floor"], f["splink"]
    finished = {name: f[name] for name in PEERS if name in f and not f[name].get("why") and "missing" not in f[name]}
    peer = min(finished.values(), key=lambda p: p["wall"]) if finished else None

    def versus(seconds: float, mib: float) -> str:
        if peer is None:
            return " | "
        return f"{seconds / peer['wall']:.2f}× | {mib / peer['peak_mib']:.2f}×"

    def job_row(name: str, run: dict, target: str) -> str:
        if run["why"]:
            return f"| {name} | did not finish: {run['why']} | | | | | {target} |"
        return (f"| {name} | {run['seconds']:,.1f} | {run['peak_mib']:,.0f} | {rows / run['seconds']:,.0f} | "
                f"{versus(run['seconds'], run['peak_mib'])} | {target} |")

    def peer_line(name: str, label: str) -> str:
        run = f.get(name, {"missing": "not run"})
        if run.get("why") or "missing" in run:
            return f"| peer: dlt, {label} | not measured: {run.get('missing') or run.get('why')} | | | | | |"
        return (f"| peer: dlt {run['dlt']} → PostgreSQL, {label} (load only: no cleaning, validation, matching) | "
                f"{run['wall']:,.1f} | {run['peak_mib']:,.0f} | {rows / run['wall']:,.0f} | "
                f"{versus(run['wall'], run['peak_mib'])} | |")

    big = rows > CHUNK_ROWS
    lines = [
        f"### {rows:,} rows",
        "",
        f"Reproduce with `lienthong bench job --sizes {rows}`; figures of the last run on this machine, written by "
        "the command itself.",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {f['load_before']:.1f} before, {f['load_after']:.1f} after "
        "(a shared machine: compare the rows of one run, not runs of different days)",
        f"- data: {rows:,} generated members (`lienthong.demo.generator`, seed {SEED}"
        f"{', a million rows per seed' if big else ''}; 3% deliberate errors, 2% re-registrations), CSV of "
        f"{f['csv_mib']:,.0f} MiB; each run in a fresh process, each database fresh; a run is stopped past "
        f"{f['limits']['memory_limit_mib'] / 1024:g} GiB or {f['limits']['timeout']:,.0f} s",
        "",
        "| run | seconds | peak memory (MiB) | rows/s | time vs dlt, the faster | memory vs it | target, or the "
        "floor's |",
        "|---|---:|---:|---:|---:|---:|---|",
        job_row("Liên Thông `lienthong sync`, saved model", jobs["saved"],
                "10M: ≤ 11× the 1M time, ≤ 4 GiB" if big else "≤ 45 s, ≤ 3 GiB"),
        job_row("Liên Thông `lienthong sync`, first run with model training", jobs["trained"],
                "" if big else "≤ 75 s"),
        peer_line("dlt", "its `read_csv` recipe"),
        peer_line("dlt-arrow", "given Arrow tables"),
        _floor_row("floor: pyarrow CSV parse + psycopg COPY of the file, no index", floor, rows,
                   lambda x: f"parse {x['parse_seconds']:.1f} s + COPY {x['copy_seconds']:.1f} s"),
        _floor_row("floor: plain Splink 5 on the same records", splink, rows,
                   lambda x: f"F1 {x['f1']:.4f} (precision {x['precision']:.4f}, recall {x['recall']:.4f})"),
        "",
        "The job's seconds are the wall time of the `lienthong sync` process (Python start-up and imports included; "
        "`lienthong init` before it is not counted); memory is the peak resident memory of its process tree "
        "(spawned parse workers included), sampled every 0.2 s. The floors' seconds are their work alone (parse + "
        "COPY; Splink's training, prediction and clustering, its comparison count excluded), their memory the "
        "peak of their process. dlt runs twice, its seconds the whole process: its documentation's recipe (the "
        "filesystem source, its `read_csv` reader: pandas, every column as text; the `postgres` destination), and "
        "its fast path, pyarrow's streaming CSV reader handing it Arrow tables (every column as text); the job's "
        "ratios are to the faster.",
        "",
        "Step by step, from the timestamps of the job's own log:",
        "",
        "| step | saved model (s) | first run (s) |",
        "|---|---:|---:|",
        *[f"| {name} | {_secs(jobs['saved']['stages'].get(name))} | {_secs(jobs['trained']['stages'].get(name))} |"
          for name in STAGES],
    ]
    laps = [(name, run["match"]) for name, run in (("saved model", jobs["saved"]), ("first run", jobs["trained"]))
            if any(k.startswith("seconds_stage_") for k in run["match"])]
    if laps:
        lines += ["", "The match step's own laps, from its figures: " + "; ".join(
            f"{name}: " + ", ".join(f"{lap} {m.get(f'seconds_stage_{lap}', 0):.1f} s" for lap in MATCH_LAPS)
            for name, m in laps) + "."]
    trained = jobs["trained"]
    if trained["match"]:
        m = trained["match"]
        parts = m.get("parts", 1)
        # Splink's own figures are the first part's: the later parts are attached as incremental runs are
        splink_of = f" (its first part of {parts}; the others attached to it)" if parts > 1 else ""
        lines += ["", f"First run's match stage: {m.get('records', 0):,} records, {m.get('entities_created', 0):,} "
                  f"entities; Splink's features {m.get('seconds_features', 0):.1f} s, scoring "
                  f"{m.get('seconds_predict', 0):.1f} s, clustering {m.get('seconds_cluster', 0):.1f} s{splink_of}."]
    for name, run in (("saved model", jobs["saved"]), ("first run", trained)):
        c = run["counts"]
        if c:
            lines.append(f"Left in the warehouse ({name}): {c.get('published', 0):,} published records, "
                         f"{c.get('quarantined', 0):,} quarantined rows, {c.get('entities', 0):,} entities.")
    return "\n".join(lines)


def _floor_row(name: str, run: dict, rows: int, detail) -> str:  # noqa: ANN001 - formats the floor's own figures
    if run.get("why"):
        return f"| {name} | did not finish: {run['why']} | | | | | |"
    return (f"| {name} | {run['seconds']:,.1f} | {run['peak_mib']:,.0f} | {rows / run['seconds']:,.0f} | | | "
            f"{detail(run)} |")
