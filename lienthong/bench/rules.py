"""`lienthong bench rules`: each cleaning rule, the CSV reader, the member generator on a million rows, and the
loading of the code lists.

These figures were printed by "tests" that could not fail (issue 16, part 5); a throughput figure belongs here,
measured on purpose and written to docs/BENCHMARKS.md, while the tests keep asserting what the rules do.
The rules run one after the other on one thread, on the columns of :func:`generate_members` (names, sexes, dates,
ID numbers and phones in the mixed forms member files have), so each rate is the rule's own.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from catalog.lists import _load_all
from connectors.base import MEDIA_CSV
from connectors.formats import read_payload
from lienthong.bench.report import write_section
from lienthong.cleaning.dates import check_age, parse_dates
from lienthong.cleaning.identity import check_cccd, normalize_id_number
from lienthong.cleaning.names import name_match_key, reversed_order, split_names
from lienthong.cleaning.phones import normalize_phone
from lienthong.cleaning.text import fix_case, fix_column_encoding, normalize_text, normalize_tone_placement
from lienthong.demo.generator import generate_members
from lienthong.vietnamese import legacy_encodings as le

LEGACY_ENCODERS = {"tcvn3": le.encode_tcvn3, "vni": le.encode_vni, "viqr": le.encode_viqr}

AS_OF = date(2026, 1, 1)


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def measure(rows: int, *, seed: int = 9) -> dict[str, Any]:
    """Seconds of each rule over ``rows`` generated members (and of generating and parsing them)."""
    generated, sample = _timed(lambda: generate_members(rows, seed=seed))
    members = sample.records
    figures: dict[str, float] = {"generate_members": generated}
    buf = pa.BufferOutputStream()
    pacsv.write_csv(members, buf, pacsv.WriteOptions(delimiter=";"))
    payload = buf.getvalue().to_pybytes()
    figures["read_payload (CSV: detect encoding + parse)"], _ = _timed(
        lambda: read_payload(payload, MEDIA_CSV, origin="bench.csv"))
    names = members.column("full_name").combine_chunks()
    for label, rule in (("normalize_text", normalize_text), ("normalize_tone_placement", normalize_tone_placement),
                        ("fix_case", fix_case), ("fix_column_encoding (Unicode)", fix_column_encoding)):
        figures[label], _ = _timed(lambda rule=rule: rule(names))
    distinct = names.slice(0, min(rows, 100_000)).to_pylist()  # a legacy file repeats itself too: 100k distinct
    for encoding, encode in LEGACY_ENCODERS.items():
        typed = [encode(n) for n in distinct if n and le.legacy_decodable(encode(n))]
        legacy = pa.array((typed * (rows // max(len(typed), 1) + 1))[:rows])
        figures[f"fix_column_encoding ({encoding})"], _ = _timed(lambda legacy=legacy: fix_column_encoding(legacy))
    for label, rule in (("split_names", split_names), ("reversed_order", reversed_order),
                        ("name_match_key", name_match_key)):
        figures[label], _ = _timed(lambda rule=rule: rule(names))
    figures["normalize_phone"], _ = _timed(lambda: normalize_phone(members.column("phone").combine_chunks()))
    figures["parse_dates"], births = _timed(lambda: parse_dates(members.column("date_of_birth").combine_chunks()))
    figures["check_age"], _ = _timed(lambda: check_age(births, as_of=AS_OF, min_age=18))
    figures["normalize_id_number"], ids = _timed(
        lambda: normalize_id_number(members.column("id_number").combine_chunks()))
    sexes = pa.array(["2" if s == "Nữ" else "1" for s in members.column("sex").to_pylist()])
    figures["check_cccd"], _ = _timed(lambda: check_cccd(ids.values, sexes, births.values))
    figures["load_code_lists (uncached: manifest, CSVs, vietnam-provinces; once)"], _ = _timed(_load_all.__wrapped__)
    return {"rows": rows, "seed": seed, "csv_mib": len(payload) / 2**20, "seconds": figures,
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": platform.machine(),
            "python": platform.python_version(), "load": os.getloadavg()[0], "cores": os.cpu_count()}


def render(f: dict[str, Any]) -> str:
    lines = [
        "## Cleaning rules one by one: `lienthong bench rules`",
        "",
        f"Reproduce with `lienthong bench rules --rows {f['rows']}`; one thread, each rule alone on the columns of "
        f"{f['rows']:,} generated members (`lienthong.demo.generator`, seed {f['seed']}; CSV of "
        f"{f['csv_mib']:,.0f} MiB).",
        "",
        f"- run: {f['when']}, {f['machine']}, {f['cores']} cores, Python {f['python']}; load average "
        f"{f['load']:.1f} when it finished (above the core count, the machine was shared and the rates are low)",
        "",
        "| step | seconds | rows/s |",
        "|---|---:|---:|",
    ]
    for step, seconds in f["seconds"].items():
        rate = "" if step.startswith("load_code_lists") else f"{f['rows'] / seconds:,.0f}"
        lines.append(f"| {step} | {seconds:.2f} | {rate} |")
    return "\n".join(lines) + "\n"


def run_rules_bench(*, rows: int, out: Path) -> dict[str, Any]:
    figures = measure(rows)
    write_section(out, "rules", render(figures))
    return figures
