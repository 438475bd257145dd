"""`lienthong bench match-scale`: the matching at growing sizes on DuckDB and on Spark, for the capacity plan.

Per size, the generated registry (:mod:`lienthong.demo.match_sample`) is written once as CSV; each measured run
then starts in a fresh process (wall time and peak memory belong to it alone):

* DuckDB, training included (the model is saved for the other runs);
* up to ``spark_max`` records, DuckDB and Spark with the saved model (Splink's SparkAPI on
  ``LIENTHONG_SPARK_MASTER``, or Spark's default ``local[*]``). Features, vetoes and clustering stay in the
  Python process in both cases; only blocking and scoring move to Spark, whose JVM memory is not in the
  process's peak (its heap is set by ``PYSPARK_SUBMIT_ARGS``, here ``--driver-memory``).

Figures go to the ``match-scale`` section of docs/BENCHMARKS.md; docs/match.md derives the crossover and the
national-scale plan from them.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lienthong.bench.report import write_section

SEED = 11
DRIVER_MEMORY = "6g"


def _config(backend: str):  # noqa: ANN202 - MatchConfig, imported late to keep the parent process light
    from lienthong.match.config import MatchConfig

    return MatchConfig(record_id="record_id", full_name="full_name", date_of_birth="date_of_birth", sex="sex",
                       ward="ward_code", id_number="id_number", phone="phone", email="email", locale="vi",
                       backend=backend)


def run_one(mode: str, folder: Path) -> dict:
    """One measured run in this process: ``duckdb-trained``, ``duckdb`` or ``spark`` (saved model)."""
    from lienthong.demo.match_sample import pairwise_scores
    from lienthong.match.run import match_records

    names = ["record_id", "organisation", "member_id", "full_name", "sex", "date_of_birth", "id_number", "phone",
             "ward_code", "address", "email"]
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True)
    records = pacsv.read_csv(folder / "records.csv", convert_options=options)
    truth = pq.read_table(folder / "truth.parquet")
    model_path = folder / "model.json"
    backend = "spark" if mode == "spark" else "duckdb"
    model = None if mode == "duckdb-trained" else json.loads(model_path.read_text())
    start = time.perf_counter()
    result = match_records(records, _config(backend), model=model)
    seconds = time.perf_counter() - start
    if model is None:
        model_path.write_text(json.dumps(result.model.settings))
    scores = pairwise_scores(result.clusters.column("record_id"), result.clusters.column("cluster_id"), truth)
    result.clusters.select(["record_id", "cluster_id"]).to_pandas().to_parquet(folder / f"clusters-{mode}.parquet")
    return {"mode": mode, "records": records.num_rows, "seconds": seconds, "f1": scores.f1,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "stages": {k: round(v, 1) for k, v in result.stats.items() if k.startswith("seconds_")}}


def _agreement(folder: Path, a: str, b: str) -> float:
    from lienthong.demo.match_sample import pairwise_scores

    first, second = pq.read_table(folder / f"clusters-{a}.parquet"), pq.read_table(folder / f"clusters-{b}.parquet")
    truth = pa.table({"record_id": first.column("record_id"), "person_id": first.column("cluster_id")})
    return pairwise_scores(second.column("record_id"), second.column("cluster_id"), truth).f1


def run_scale_bench(*, sizes: list[int], spark_max: int, out: Path) -> list[dict]:
    """Generate each size, run the measured runs in fresh processes, write the ``match-scale`` section."""
    from lienthong.demo.match_sample import generate_match_sample

    rows = []
    env = {**os.environ, "PYSPARK_SUBMIT_ARGS": f"--driver-memory {DRIVER_MEMORY} pyspark-shell"}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            start = time.perf_counter()
            sample = generate_match_sample(size, seed=SEED)
            pacsv.write_csv(sample.records, folder / "records.csv")
            pq.write_table(sample.truth, folder / "truth.parquet")
            generated = time.perf_counter() - start
            del sample
            modes = ["duckdb-trained"] + (["duckdb", "spark"] if size <= spark_max else [])
            for mode in modes:
                done = subprocess.run([sys.executable, "-m", "lienthong.bench.match_scale", mode, str(folder)],
                                      check=True, capture_output=True, text=True, env=env)
                run = json.loads(done.stdout.strip().splitlines()[-1])
                run.update(size=size, generation_seconds=generated, load=os.getloadavg()[0])
                if mode == "spark":
                    run["agreement_f1"] = _agreement(folder, "duckdb", "spark")
                rows.append(run)
                print(json.dumps(run), flush=True)
    write_section(out, "match-scale", _markdown(rows))
    return rows


def _markdown(rows: list[dict]) -> str:
    lines = [
        "## Matching at national scale: `lienthong bench match-scale`",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores shared with "
        "other jobs (load average per row), Python " + platform.python_version(),
        f"- data: `lienthong.demo.match_sample` (seed {SEED}), the registry of `lienthong bench match`",
        "- Spark: Splink's SparkAPI, `LIENTHONG_SPARK_MASTER` or `local[*]`, driver "
        f"{DRIVER_MEMORY}; peak memory is the Python process's (the JVM's heap is on top)",
        "",
        "| records | engine | seconds | peak memory (MiB) | F1 vs truth | Spark vs DuckDB F1 | load |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    label = {"duckdb-trained": "DuckDB, training included", "duckdb": "DuckDB, saved model",
             "spark": "Spark, saved model"}
    for r in rows:
        agreement = f"{r['agreement_f1']:.4f}" if "agreement_f1" in r else ""
        lines.append(f"| {r['records']:,} | {label[r['mode']]} | {r['seconds']:.1f} | {r['peak_mib']:,.0f} | "
                     f"{r['f1']:.4f} | {agreement} | {r['load']:.1f} |")
    lines += ["", "Stage seconds per run: " + "; ".join(
        f"{r['records']:,} {r['mode']}: " + ", ".join(f"{k.removeprefix('seconds_')} {v}" for k, v in
                                                      r["stages"].items()) for r in rows)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(run_one(sys.argv[1], Path(sys.argv[2]))))
