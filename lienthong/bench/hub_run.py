"""The hub's own path on a benchmark file: each stage timed, then the whole sync timed in a fresh process.

Run as ``python -m lienthong.bench.hub_run CSV URL MODE [PART_ROWS]`` so that peak memory is the hub's alone.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lienthong.hub import Hub
from lienthong.settings import Settings
from schemas import Member

BENCH_SOURCE_ID = "bench_members"


def bench_source(folder: Path, part_rows: int | str | None = None) -> dict:
    """The benchmark's files source; ``part_rows`` sets the part size (``"whole"``: none; None: the default)."""
    fields = Member.mappable_fields()
    parts = {} if part_rows is None else {"part_rows": None if part_rows == "whole" else int(part_rows)}
    return {
        "id": BENCH_SOURCE_ID, "title": "Benchmark members feed", "organisation": "HLHPN", "dataset": "members",
        "connector": {"type": "files", "path": str(folder), "pattern": "*.csv", **parts},
        "mapping": {f: f for f in fields if f != "organisation"}, "constants": {"organisation": "HLHPN"},
        "ignore_columns": ["organisation", "updated_at"],
    }


def open_bench_hub(csv_path: Path, url: str, home: Path, part_rows: int | str | None = None) -> Hub:
    sources = home / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    (sources / "bench.yml").write_text(yaml.safe_dump(bench_source(csv_path.parent, part_rows)), encoding="utf-8")
    hub = Hub.open(Settings(home=home, database_url=url, sources_dir=sources), require_init=False)
    hub.initialise()
    return hub


def staged_run(csv_path: Path, url: str) -> dict[str, float]:
    """Seconds per stage, calling the stage functions one by one."""
    from connectors import build_connector
    from lienthong.stages.map import check_columns
    from lienthong.stages.process import check_records
    from lienthong.warehouse.landing import land
    from lienthong.warehouse.publishing import publish
    from lienthong.warehouse.staging import write_processed

    with tempfile.TemporaryDirectory() as home:
        hub = open_bench_hub(csv_path, url, Path(home))
        source = hub.source(BENCH_SOURCE_ID)
        code_lists = hub.code_lists
        t: dict[str, float] = {"rows": 0, "quarantined": 0}

        def add(step: str, since: float) -> None:
            t[step] = t.get(step, 0.0) + time.perf_counter() - since

        started = time.perf_counter()
        for item in build_connector(source.connector, source_id=source.id).extract(None):  # a big file: its parts
            add("extract", started)
            started = time.perf_counter()
            check_columns(item.records, source, item.origin)
            landed = land(hub.engine, source_id=source.id, dataset=source.dataset, item=item)
            add("land", started)
            checked = check_records(item.records, source, code_lists, timings=t)
            started = time.perf_counter()
            write_processed(hub.engine, batch_id=landed.batch_id, source_id=source.id, dataset=source.dataset,
                            valid=checked.valid, rejected=checked.rejected, outcomes=checked.outcomes, seconds=0.0)
            add("stage", started)
            t["rows"] += item.row_count
            t["quarantined"] += len(checked.rejected)
            started = time.perf_counter()
        started = time.perf_counter()
        publish(hub.engine, source.dataset)
        t["publish"] = time.perf_counter() - started
        hub.engine.dispose()
    return t


def end_to_end(csv_path: Path, url: str, part_rows: int | str | None = None) -> dict[str, float]:
    """`sync` of the benchmark source plus publish, as the CLI runs it."""
    from lienthong.pipeline import publish_all, sync_source

    with tempfile.TemporaryDirectory() as home:
        hub = open_bench_hub(csv_path, url, Path(home), part_rows)
        started = time.perf_counter()
        run = sync_source(hub, hub.source(BENCH_SOURCE_ID))
        publish_all(hub, ["members"])
        seconds = time.perf_counter() - started
        hub.engine.dispose()
    return {"seconds": seconds, "rows": run.rows_read, "valid": run.rows_valid, "quarantined": run.rows_quarantined}


def main() -> None:
    csv_path, url, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    part_rows = sys.argv[4] if len(sys.argv) > 4 else None  # noqa: PLR2004 - optional: rows per part, or "whole"
    result = staged_run(csv_path, url) if mode == "stages" else end_to_end(csv_path, url, part_rows)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
