"""Splink on Spark, for real: a standalone master and one worker (pyspark's ``bin/spark-class``, 127.0.0.1 only).

On a generated registry (:mod:`lienthong.demo.match_sample`), the functions of the match stage run with
``backend: duckdb`` and with ``backend: spark`` on the same saved model:

1. a full run (:func:`lienthong.match.run.match_records`): the two clusterings must agree, pairwise F1 ≥ 0.999;
2. an incremental run (:func:`lienthong.match.incremental.attach`, what the stage does for records published
   since the last run): the new records must get the same entity ids on Spark as on DuckDB, and the same merges
   of existing entities (registry records keep their ids: a merge is recorded, never a renumbering).
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.compute as pc
from services import ScaleTestError, Services, free_port, port_answers, services, wait_for

RECORDS = int(os.environ.get("LIENTHONG_SCALE_SPARK_RECORDS", "10000"))
BATCH = RECORDS // 10
MIN_F1 = 0.999


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def start_cluster(running: Services, workdir: Path, *, cores: int = 2, memory: str = "3g") -> str:
    """A standalone master and one worker on 127.0.0.1; the master URL once the worker has registered."""
    home = _spark_home()
    port = 7077 if not port_answers(7077) else free_port()
    ui = free_port()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(workdir),
           "SPARK_WORKER_DIR": str(workdir / "work")}
    spark_class = str(home / "bin" / "spark-class")
    running.start("spark-master", [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", str(port), "--webui-port", str(ui)], env)
    master = f"spark://127.0.0.1:{port}"
    running.start("spark-worker", [spark_class, "org.apache.spark.deploy.worker.Worker", master, "--host",
                                   "127.0.0.1", "--cores", str(cores), "--memory", memory, "--webui-port",
                                   str(free_port())], env)

    def alive_workers() -> int:
        try:
            return httpx.get(f"http://127.0.0.1:{ui}/json/", timeout=5).json().get("aliveworkers", 0)
        except (httpx.HTTPError, ValueError):
            return 0

    wait_for("the Spark worker to register with the master", alive_workers, timeout=180, every=1)
    return master


def _agreement(a: pa.Table, b: pa.Table) -> float:
    """Pairwise F1 of clustering ``b`` against clustering ``a`` (``record_id``, ``cluster_id``)."""
    from lienthong.demo.match_sample import pairwise_scores

    truth = pa.table({"record_id": a.column("record_id"), "person_id": a.column("cluster_id")})
    return pairwise_scores(b.column("record_id"), b.column("cluster_id"), truth).f1


def run_spark(workdir: Path) -> str:
    """Start the cluster, run both comparisons; the summary line. Raises ``ScaleTestError`` when a check fails."""
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        running = stack.enter_context(services(workdir / "logs"))
        master = start_cluster(running, workdir)
        os.environ.update({"LIENTHONG_SPARK_MASTER": master, "SPARK_LOCAL_IP": "127.0.0.1",
                           "LIENTHONG_HOME": str(workdir / "home")})
        from lienthong.settings import get_settings

        get_settings.cache_clear()
        try:
            return _compare(stack)
        except ScaleTestError:
            for name in running.started:
                print(f"--- last lines of {name}.log ---\n{running.tail(name, 25)}")
            raise


def _compare(stack: ExitStack) -> str:
    from lienthong.demo.match_sample import generate_match_sample
    from lienthong.match.config import MatchConfig
    from lienthong.match.features import build_features
    from lienthong.match.incremental import attach
    from lienthong.match.run import match_records
    from lienthong.match.spark_backend import spark_session

    def config(backend: str) -> MatchConfig:
        return MatchConfig(record_id="record_id", full_name="full_name", date_of_birth="date_of_birth", sex="sex",
                           ward="ward_code", id_number="id_number", phone="phone", email="email", locale="vi",
                           backend=backend)

    records = generate_match_sample(RECORDS, seed=11).records
    model = match_records(records, config("duckdb")).model.settings  # trained once, saved, used by both
    spark = spark_session()
    stack.callback(spark.stop)
    timings, full, by_model = {}, {}, {}
    for backend in ("duckdb", "spark"):
        start = time.perf_counter()
        result = match_records(records, config(backend), model=model)
        timings[backend] = time.perf_counter() - start
        full[backend], by_model[backend] = result.clusters, result.stats["links_by_model"]
    f1 = _agreement(full["duckdb"], full["spark"])
    if f1 < MIN_F1 or not by_model["spark"]:
        msg = (f"Spark and DuckDB clusters differ: pairwise F1 {f1:.4f} (at least {MIN_F1}); links by the model "
               f"{by_model['duckdb']} on DuckDB, {by_model['spark']} on Spark")
        raise ScaleTestError(msg)

    base, batch = records.slice(0, records.num_rows - BATCH), records.slice(records.num_rows - BATCH)
    registry = match_records(base, config("duckdb"), model=model).clusters
    features = build_features(base, config("duckdb"))
    new = build_features(batch, config("duckdb"))
    entity = registry.column("cluster_id")
    attached = {b: attach(features, entity, new, model, config(b), namespace="members") for b in ("duckdb", "spark")}
    duck, on_spark = attached["duckdb"], attached["spark"]
    same_ids = duck.assignment.sort_by("record_id").equals(on_spark.assignment.sort_by("record_id"))
    model_links = {b: pc.sum(pc.is_null(a.links.column("rule"))).as_py() for b, a in attached.items()}
    if not same_ids or sorted(duck.merges) != sorted(on_spark.merges) or not model_links["spark"]:
        changed = sum(a != b for a, b in zip(duck.assignment.sort_by("record_id").column("entity_id").to_pylist(),
                                             on_spark.assignment.sort_by("record_id").column("entity_id").to_pylist(),
                                             strict=True))
        msg = (f"incremental run: {changed} of {BATCH} new records got another entity id on Spark; merges "
               f"{len(duck.merges)} on DuckDB, {len(on_spark.merges)} on Spark; links by the model {model_links}")
        raise ScaleTestError(msg)
    attached_to_existing = sum(not c for c in on_spark.assignment.column("created").to_pylist())
    return (f"splink SparkAPI (standalone master + 1 worker): {records.num_rows:,} records, Spark vs DuckDB "
            f"pairwise F1 {f1:.4f} (saved model; links by the model {by_model['duckdb']:,} / {by_model['spark']:,}; "
            f"DuckDB {timings['duckdb']:.0f}s, Spark {timings['spark']:.0f}s); incremental {BATCH:,} records: same "
            f"entity ids on both ({attached_to_existing:,} joined existing entities, {model_links['spark']:,} links "
            f"by the model, {len(on_spark.merges)} merges recorded)")
