"""`lienthong bench file-parts`: peak memory and time of `sync` + publish of one large members file, read whole
and read in bounded parts (``part_rows``, :mod:`connectors.file_parts`), side by side in one run.

Each run is a fresh process (``lienthong.bench.hub_run``) on a fresh PostgreSQL database, so its peak RSS is that
run's alone. "Whole" sets ``part_rows: null``: the file is one batch, as every file was before parts.
"""

from __future__ import annotations

import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.csv as pacsv

from connectors.file_parts import DEFAULT_PART_ROWS
from lienthong.bench import DEFAULT_DSN, _hub_process, fresh_database
from lienthong.bench.report import write_section
from lienthong.console import console


def run_parts_bench(*, sizes: list[int], part_rows: int = DEFAULT_PART_ROWS, out: Path) -> list[dict]:
    """Measure each size read whole and in parts; write the section ``file-parts`` of ``out``."""
    from lienthong.demo.generator import generate_members

    dsn = os.environ.get("LIENTHONG_TEST_PG_DSN", DEFAULT_DSN)
    results = []
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "feed" / "members.csv"
            csv_path.parent.mkdir()
            pacsv.write_csv(generate_members(rows, seed=11).records, csv_path)
            row = {"rows": rows, "csv_mib": csv_path.stat().st_size / 2**20}
            for mode, size in (("whole", "whole"), ("parts", part_rows)):
                console.print(f"{rows:,} rows, {mode}: sync + publish in a fresh process")
                with fresh_database(dsn) as (url, _):
                    row[mode] = _hub_process(csv_path, url, "e2e", str(size))
            results.append(row)
    write_section(out, "file-parts", render(results, part_rows))
    return results


def render(results: list[dict], part_rows: int) -> str:
    lines = [
        "## Large files in bounded parts: `lienthong bench file-parts`",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} cores shared with other "
        "work (compare the two columns of one row, taken in the same run), with "
        f"`lienthong bench file-parts --sizes {','.join(str(r['rows']) for r in results)}`: `sync` + publish of a "
        "generated members CSV into a fresh PostgreSQL database, each run in its own process (peak RSS is "
        f"its own). *Whole*: the file is one batch, as before parts; *parts*: batches of {part_rows:,} rows.",
        "",
        "| rows | CSV | whole: seconds | whole: peak RSS | parts: seconds | parts: peak RSS |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        w, p = r["whole"], r["parts"]
        lines.append(f"| {r['rows']:,} | {r['csv_mib']:,.0f} MiB | {w['seconds']:.1f} | {w['peak_rss_mib']:,.0f} MiB "
                     f"| {p['seconds']:.1f} | {p['peak_rss_mib']:,.0f} MiB |")
    lines += ["", "Rows read, valid and quarantined are the same both ways (checked by the command)."]
    for r in results:
        w, p = r["whole"], r["parts"]
        if (w["rows"], w["valid"], w["quarantined"]) != (p["rows"], p["valid"], p["quarantined"]):
            lines[-1] = f"**Counts differ at {r['rows']:,} rows**: whole {w}, parts {p}."
    return "\n".join(lines) + "\n"
