"""The mixed-load figure of `lienthong bench api`: readers paging published records while clerks push feeds.

``readers`` clients each ask for a 100-record JSON page at a random cursor every ``read_every_s`` seconds (a portal
syncing, not a flood: the offered load is the same with and without pushes) for ``seconds``; meanwhile
``pushers`` clients each upload a new ``push_rows``-row feed every ``push_every_s`` seconds (without ``wait``).
Measured: read p50/p99 (and the same readers alone beforehand, for comparison), pushes made, and the time from the
last push's answer until every pushed batch is final (published or failed) — how long a burst takes to drain.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import statistics
import time
from pathlib import Path

import httpx
import yaml

from lienthong.settings import PROJECT_ROOT

PUSH_SOURCE = "bench_push"
READ_PAGE = 100
FINAL = ("published", "failed")


def write_push_source(folder: Path) -> dict[str, str]:
    """A push source of members in ``folder`` (the Farmers' Union's columns); returns its mapping."""
    source = yaml.safe_load((PROJECT_ROOT / "sources" / "hnd_files.yml").read_text(encoding="utf-8"))
    source.update(id=PUSH_SOURCE, title="Benchmark pushes", connector={"type": "push"})
    source.pop("full_snapshot", None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PUSH_SOURCE}.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    return source["mapping"]


def feed(mapping: dict[str, str], prefix: str, rows: int) -> bytes:
    """A members CSV in the source's columns, ``rows`` rows with keys ``<prefix>-<n>``."""
    values = {"member_id": "", "full_name": "Nguyễn Thị Hồng", "sex": "Nữ", "date_of_birth": "01/02/1985",
              "id_number": "", "phone": "", "ethnicity_code": "Kinh", "religion_code": "Không",
              "ward_code": "00070", "address": "Số 1 Hàng Bạc", "branch": "Chi hội 1", "joined_on": "01/01/2010",
              "status": "active"}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(mapping.values())
    for i in range(rows):
        row = {**values, "member_id": f"{prefix}-{i}", "phone": f"09{(hash(prefix) + i) % 10**8:08d}"}
        writer.writerow(row.get(f, "") for f in mapping)
    return buf.getvalue().encode()


async def _read_pages(c: httpx.AsyncClient, cursors: list[str], until: float, every_s: float,
                      latencies: list[float], errors: list[str]) -> None:
    rng = random.Random(len(latencies))
    await asyncio.sleep(rng.random() * every_s)  # readers spread over the period, not in lockstep
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            r = await c.get("/api/v1/datasets/members/records",
                            params={"limit": READ_PAGE, "since": rng.choice(cursors)})
        except httpx.TransportError as exc:  # counted, not fatal: the figure says how many
            errors.append(type(exc).__name__)
            await asyncio.sleep(every_s)
            continue
        latencies.append(time.perf_counter() - started)
        if r.status_code != 200:
            errors.append(str(r.status_code))
        await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - started)))


async def _push(c: httpx.AsyncClient, mapping: dict[str, str], k: int, until: float, every_s: float, rows: int,
                pushed: list[str], last: list[float], errors: list[str]) -> None:
    n = 0
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            r = await c.post(f"/api/v1/feeds/{PUSH_SOURCE}/batches", content=feed(mapping, f"P{k}-{n}", rows),
                             headers={"Content-Type": "text/csv"})
        except httpx.TransportError as exc:
            errors.append(type(exc).__name__)
            await asyncio.sleep(every_s)
            continue
        n += 1
        if r.status_code in (200, 201):
            pushed.append(r.json()["batch_id"])
            last[0] = max(last[0], time.perf_counter())
        else:
            errors.append(str(r.status_code))
        await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - started)))


async def _drain(c: httpx.AsyncClient, batch_ids: list[str]) -> tuple[float, dict[str, int]]:
    """Poll until every batch is final; seconds it took and how many ended in each state."""
    waiting, states = set(batch_ids), {}
    started = time.perf_counter()
    while waiting and time.perf_counter() - started < 1800:
        for batch_id in list(waiting):
            status = (await c.get(f"/api/v1/feeds/{PUSH_SOURCE}/batches/{batch_id}", params={"limit": 0}))
            state = status.json().get("status")
            if state in FINAL:
                waiting.discard(batch_id)
                states[state] = states.get(state, 0) + 1
        if waiting:
            await asyncio.sleep(0.2)
    if waiting:
        states["not final after 30 min"] = len(waiting)
    return time.perf_counter() - started, states


def _percentiles(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    if not latencies:
        return {"p50": float("nan"), "p99": float("nan"), "requests": 0}
    return {"p50": statistics.median(latencies), "p99": latencies[min(len(latencies) - 1, int(len(latencies) * .99))],
            "requests": len(latencies)}


async def mixed_load(base: str, reader_token: str, pusher_token: str, cursors: list[str], mapping: dict[str, str], *,
                     readers: int, pushers: int, seconds: float, push_rows: int, push_every_s: float,
                     read_every_s: float, baseline_s: float) -> dict:
    """Warm-up pushes, readers alone for ``baseline_s``, then readers + pushers for ``seconds``, then the drain."""
    limits = httpx.Limits(max_connections=readers + pushers, max_keepalive_connections=readers + pushers)
    read_headers = {"Authorization": f"Bearer {reader_token}"}
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits, headers=read_headers) as rc, \
            httpx.AsyncClient(base_url=base, timeout=600, headers={"Authorization": f"Bearer {pusher_token}"},
                              limits=httpx.Limits(max_keepalive_connections=0)) as pc:  # idle > server keep-alive
        # warm up: one push per processing worker, waited for, so the workers have started before measuring
        await asyncio.gather(*(pc.post(f"/api/v1/feeds/{PUSH_SOURCE}/batches", params={"wait": "true"},
                                       content=feed(mapping, f"W{k}", push_rows), headers={"Content-Type": "text/csv"})
                               for k in range(max(pushers, 1))))
        alone: list[float] = []
        errors: list[str] = []
        until = time.perf_counter() + baseline_s
        await asyncio.gather(*(_read_pages(rc, cursors, until, read_every_s, alone, errors)
                               for _ in range(readers)))
        mixed: list[float] = []
        pushed: list[str] = []
        last = [0.0]
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_read_pages(rc, cursors, until, read_every_s, mixed, errors)
                               for _ in range(readers)),
                             *(_push(pc, mapping, k, until, push_every_s, push_rows, pushed, last, errors)
                               for k in range(pushers)))
        drain_s, states = await _drain(pc, pushed)
        drain_s = time.perf_counter() - last[0] if pushed else 0.0  # from the last push's answer
    return {"readers": readers, "pushers": pushers, "seconds": seconds, "push_rows": push_rows,
            "push_every_s": push_every_s, "read_every_s": read_every_s, "alone": _percentiles(alone),
            "mixed": _percentiles(mixed),
            "pushes": len(pushed), "errors": errors, "drain_s": drain_s, "states": states}


def render(m: dict, processing_workers: int) -> list[str]:
    how = (f"{processing_workers} processing worker processes" if processing_workers
           else "one processing thread in the server process")
    states = ", ".join(f"{n:,} {s}" for s, n in sorted(m["states"].items()))
    kinds = {e: m["errors"].count(e) for e in sorted(set(m["errors"]))}
    errors = ", ".join(f"{n} × {e}" for e, n in kinds.items()) if kinds else "none"
    return [
        "",
        f"Mixed load ({how}): {m['readers']} readers each asking for a {READ_PAGE}-record JSON page at a random "
        f"cursor every {m['read_every_s']:g} s while "
        f"{m['pushers']} clerks each push a new {m['push_rows']:,}-row CSV every {m['push_every_s']:g} s for "
        f"{m['seconds']:g} s ({m['pushes']:,} pushes; errors: {errors}). Reads alone: p50 "
        f"{m['alone']['p50'] * 1000:.0f} ms, p99 {m['alone']['p99'] * 1000:.0f} ms; **during the pushes: p50 "
        f"{m['mixed']['p50'] * 1000:.0f} ms, p99 {m['mixed']['p99'] * 1000:.0f} ms** "
        f"({m['mixed']['requests']:,} reads). **Every pushed batch final {m['drain_s']:.1f} s after the last push** "
        f"({states}).",
    ]
