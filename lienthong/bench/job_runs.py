"""The measured runs of `lienthong bench job`, each in a fresh process: ``python -m lienthong.bench.job_runs ROLE …``.

Roles:

- ``sync LOG ARGS…``: the ``lienthong`` command itself (``python -m lienthong.cli ARGS``), its log at INFO
  written to ``LOG`` with a timestamp per line, from which the parent reads how long each step took;
- ``floor CSV DSN``: pyarrow's CSV parse of the file, then psycopg COPY of the same file into an unindexed table;
- ``splink CSV TRUTH``: plain Splink 5 on the same records (``lienthong.bench.match``'s recipe);
- ``dlt CSV URL DIR``: the peer, dlt loading the file into PostgreSQL, as its documentation's filesystem example does;
- ``dlt-arrow CSV URL DIR``: the same peer on its fast path: the file read by pyarrow's streaming CSV reader and
  handed to dlt as Arrow tables (dlt then skips its per-row normalising and writes them as they are).

Each role but ``sync`` prints one JSON line of figures last.
"""

from __future__ import annotations

import json
import logging
import runpy
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

LOG_FORMAT = "%(created).3f %(name)s %(message)s"


def sync(log_path: Path, args: list[str]) -> None:
    """Run ``lienthong ARGS`` as the user would, with the hub's log going to ``log_path``."""
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("lienthong", "connectors", "quality"):
        logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("lienthong.bench").info("process started")
    # The program `python -m lienthong.cli ARGS`, run in this process so that its log is ours to write: the
    # benchmark runs the command as a user does, it does not call into the CLI's code (which sits above it).
    sys.argv = ["lienthong", *args]
    runpy.run_module("lienthong.cli", run_name="__main__", alter_sys=True)


def floor(csv_path: Path, dsn: str) -> dict:
    from lienthong.bench import floors

    columns = _header(csv_path)
    parse = floors.pyarrow_csv_parse(csv_path, columns)
    copy = floors.psycopg_copy_file(dsn, csv_path, columns)
    return {"parse_seconds": parse, "copy_seconds": copy, "seconds": parse + copy}


def _header(csv_path: Path) -> list[str]:
    with csv_path.open(encoding="utf-8") as handle:
        return [c.strip('"') for c in handle.readline().rstrip("\r\n").split(",")]


def splink(csv_path: Path, truth_path: Path) -> dict:
    """Plain Splink on the generated members: their member id is the record id, and they have no e-mail."""
    import pyarrow.parquet as pq

    from lienthong.bench.match import _plain_splink

    options = pacsv.ConvertOptions(column_types=dict.fromkeys(_header(csv_path), pa.string()),
                                   strings_can_be_null=True)
    records = _as_match_records(pacsv.read_csv(csv_path, convert_options=options))
    truth = pq.read_table(truth_path).rename_columns({"member_id": "record_id"})
    started = time.perf_counter()
    out: dict = {}
    scores = _plain_splink(records, truth, out)
    out["seconds"] = time.perf_counter() - started - out["stats"]["seconds_counting"]
    out.update(precision=scores.precision, recall=scores.recall, f1=scores.f1)
    return out


def _as_match_records(members: pa.Table) -> pa.Table:
    members = members.rename_columns(["record_id" if c == "member_id" else c for c in members.column_names])
    return members.append_column("email", pa.nulls(members.num_rows, pa.string()))


_NO_DLT = {"missing": "dlt is not installed: install the bench extra (pip install 'lienthong[bench]')"}


def peer_dlt(csv_path: Path, url: str, pipelines_dir: Path) -> dict:
    """dlt 1.x: the filesystem source read by its ``read_csv`` reader (pandas, every column as text) into
    PostgreSQL, the recipe of dlt's documentation. No cleaning, validation or matching."""
    try:
        from dlt.sources.filesystem import filesystem, read_csv
    except ImportError:
        return _NO_DLT
    started = time.perf_counter()
    files = filesystem(bucket_url=csv_path.parent.as_uri(), file_glob=csv_path.name)
    data = (files | read_csv(dtype=str, keep_default_na=False)).with_name("members")
    return _dlt_load("bench_members", data, url, pipelines_dir, started)


def peer_dlt_arrow(csv_path: Path, url: str, pipelines_dir: Path) -> dict:
    """dlt 1.x given Arrow tables: pyarrow's streaming CSV reader (every column as text, as our sync reads a file),
    a batch at a time, into PostgreSQL. dlt's documented fast path ("Arrow tables and pandas frames"): on the bench's
    1M file about four times faster than its ``read_csv`` recipe (docs/BENCHMARKS.md), so the fairer peer. No
    cleaning either."""
    try:
        import dlt
    except ImportError:
        return _NO_DLT
    started = time.perf_counter()
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(_header(csv_path), pa.string()),
                                   strings_can_be_null=True)

    @dlt.resource(name="members")
    def members():  # noqa: ANN202 - a dlt resource yielding Arrow tables
        with pacsv.open_csv(csv_path, read_options=pacsv.ReadOptions(block_size=16 << 20),
                            convert_options=options) as reader:
            for batch in reader:
                yield pa.Table.from_batches([batch])

    return _dlt_load("bench_members_arrow", members(), url, pipelines_dir, started)


def _dlt_load(name: str, data: object, url: str, pipelines_dir: Path, started: float) -> dict:
    """Run a dlt pipeline of ``data`` into the ``members`` table at ``url``; its figures, timed from ``started``."""
    import dlt

    pipeline = dlt.pipeline(pipeline_name=name, destination=dlt.destinations.postgres(credentials=url),
                            dataset_name="dlt_members", pipelines_dir=str(pipelines_dir), progress=None)
    info = pipeline.run(data)
    seconds = time.perf_counter() - started
    with pipeline.sql_client() as client:
        [[rows]] = client.execute_sql("SELECT count(*) FROM members")
    return {"seconds": seconds, "rows": int(rows), "dlt": dlt.__version__, "loads": len(info.loads_ids)}


def main() -> None:
    role, args = sys.argv[1], sys.argv[2:]
    if role == "sync":
        sync(Path(args[0]), args[1:])
        return
    logging.disable(logging.WARNING)
    if role == "floor":
        figures = floor(Path(args[0]), args[1])
    elif role == "splink":
        figures = splink(Path(args[0]), Path(args[1]))
    elif role == "dlt":
        figures = peer_dlt(Path(args[0]), args[1], Path(args[2]))
    elif role == "dlt-arrow":
        figures = peer_dlt_arrow(Path(args[0]), args[1], Path(args[2]))
    else:
        msg = f"unknown role {role!r}"
        raise SystemExit(msg)
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
