"""`lienthong bench api`: how fast the HTTP API serves published records, measured over real HTTP.

A fresh PostgreSQL database gets ``rows`` published members (written by COPY: the pipeline has its own
benchmark), the server runs in its own process (uvicorn, as `lienthong serve --workers N` runs it), and the
client here pulls: the whole dataset once per format, then 1,000-record JSON pages at random cursors from
``clients`` concurrent clients. Client and server share the machine's cores, which the figures say.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from rich.progress import Progress

from lienthong.bench import DEFAULT_DSN, fresh_database
from lienthong.bench.report import write_section
from lienthong.cli.console import console

BENCH_PSEUDONYM_KEY = "bench-pseudonym-key-not-a-secret-0123456789"
PAGE = 1000
WARDS = ["00004", "00070", "00103", "00256", "00292", "26734", "26740", "27043"]


def run_api_bench(*, rows: int, clients: int, requests_per_client: int, out: Path, workers: int = 1) -> dict:
    dsn = os.environ.get("LIENTHONG_TEST_PG_DSN", DEFAULT_DSN)
    load = os.getloadavg()[0]
    with fresh_database(dsn) as (url, db_dsn), Progress(console=console, transient=True) as progress:
        from lienthong.hub import Hub
        from lienthong.settings import Settings
        from lienthong.warehouse.api_keys import create_key

        hub = Hub.open(Settings(database_url=url), require_init=False)
        hub.initialise()
        task = progress.add_task(f"publishing {rows:,} members by COPY", total=rows)
        seq = _load_members(db_dsn, rows, lambda n: progress.advance(task, n))
        admin = create_key(hub.engine, name="bench-admin", scopes=["admin"], rate_per_minute=10**9).token
        portal = create_key(hub.engine, name="bench-portal", scopes=["read:members"], rate_per_minute=10**9).token
        hub.engine.dispose()
        with _server(url, workers) as base:
            figures: dict = {"rows": rows, "clients": clients, "load_before": load, "cpus": os.cpu_count(),
                             "workers": workers}
            for label, token, fmt in (("csv", admin, "csv"), ("ndjson", admin, "ndjson"),
                                      ("csv, pseudonymised (no read:pii)", portal, "csv")):
                task = progress.add_task(f"full pull as {label}", total=rows)
                figures[label] = _full_pull(base, token, fmt, rows, lambda n, t=task: progress.advance(t, n))
            task = progress.add_task("full pull as JSON pages of 10,000", total=rows)
            figures["json pages of 10,000"] = _paged_pull(base, admin, rows, lambda n: progress.advance(task, n))
            task = progress.add_task(f"{clients} clients × {requests_per_client} pages", total=clients *
                                     requests_per_client)
            figures["latency"] = asyncio.run(_latency(base, admin, seq, rows, clients, requests_per_client,
                                                      lambda: progress.advance(task)))
    figures["load_after"] = os.getloadavg()[0]
    write_section(out, "api", render(figures))
    console.print(render(figures))
    return figures


def _load_members(dsn: str, n: int, advance) -> int:  # noqa: ANN001 - progress callback
    now = datetime.now(UTC)
    born = date(1950, 1, 1)
    cols = ("record_key, source_id, batch_id, row_no, member_id, full_name, family_name, middle_name, given_name, "
            "sex, date_of_birth, id_number, phone, ethnicity_code, religion_code, province_code, ward_code, address, "
            "organisation, branch, joined_on, status, version, published_seq, updated_at, deleted")
    rng = random.Random(7)
    with psycopg.connect(dsn) as conn:
        seq = conn.execute("INSERT INTO publication (dataset, published_at, batch_ids, rows_inserted, rows_updated) "
                           "VALUES ('members', now(), '[]', %s, 0) RETURNING seq", (n,)).fetchone()[0]
        with conn.cursor().copy(f"COPY pub_members ({cols}) FROM STDIN") as copy:
            for i in range(n):
                ward = WARDS[i % len(WARDS)]
                copy.write_row((
                    f"bench:M{i:08d}", "bench", "bbench", i, f"M{i:08d}", f"Nguyễn Thị Hồng {i}", "Nguyễn",
                    "Thị Hồng", str(i), "2", born + timedelta(days=rng.randrange(20000)), f"{1000000000 + i:012d}",
                    f"09{rng.randrange(10**8):08d}", "01", "00", ward[:2], ward, f"Số {i % 300} đường Lê Lợi",
                    "HLHPN", f"Chi hội {i % 40}", date(2010, 1, 1), "active", 1, seq, now, False,
                ))
                if i % 10_000 == 9_999:
                    advance(10_000)
        conn.execute("ANALYZE pub_members")
    return seq


class _server:  # noqa: N801 - used as a context manager
    """`lienthong serve`'s app in its own process on a free port."""

    def __init__(self, url: str, workers: int = 1) -> None:
        self.url = url
        self.workers = workers

    def __enter__(self) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "LIENTHONG_DATABASE_URL": self.url, "LIENTHONG_PSEUDONYM_KEY": BENCH_PSEUDONYM_KEY}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "lienthong.api.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log", "--workers", str(self.workers)],
            env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.2)
        self.proc.kill()
        msg = "the API server did not start within 60 s"
        raise RuntimeError(msg)

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _full_pull(base: str, token: str, fmt: str, rows: int, advance) -> dict:  # noqa: ANN001
    started = time.perf_counter()
    lines = size = 0
    with httpx.Client(timeout=600, headers={"Authorization": f"Bearer {token}"}) as c, \
            c.stream("GET", f"{base}/api/v1/datasets/members/records", params={"format": fmt}) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes(1 << 20):
            n = chunk.count(b"\n")
            lines += n
            size += len(chunk)
            advance(n)
    seconds = time.perf_counter() - started
    got = lines - (1 if fmt == "csv" else 0)
    if got != rows:
        msg = f"pulled {got} records, expected {rows}"
        raise RuntimeError(msg)
    return {"seconds": seconds, "records_per_s": rows / seconds, "mib": size / 1048576}


def _paged_pull(base: str, token: str, rows: int, advance) -> dict:  # noqa: ANN001
    started = time.perf_counter()
    got, since, size = 0, None, 0
    with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
        while True:
            params = {"limit": 10_000, **({"since": since} if since else {})}
            r = c.get(f"{base}/api/v1/datasets/members/records", params=params)
            r.raise_for_status()
            size += len(r.content)
            page = r.json()
            got += len(page["records"])
            advance(len(page["records"]))
            since = page["next"]
            if not page["has_more"]:
                break
    seconds = time.perf_counter() - started
    if got != rows:
        msg = f"pulled {got} records by pages, expected {rows}"
        raise RuntimeError(msg)
    return {"seconds": seconds, "records_per_s": rows / seconds, "mib": size / 1048576}


async def _latency(base: str, token: str, seq: int, rows: int, clients: int, each: int, advance) -> dict:  # noqa: ANN001
    from lienthong.api.records import Cursor

    rng = random.Random(11)
    cursors = [Cursor(seq, f"bench:M{rng.randrange(max(rows - PAGE, 1)):08d}").encode() for _ in range(clients * each)]
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits, headers={"Authorization": f"Bearer {token}"}) as c:
        async def client(k: int) -> None:
            for j in range(each):
                started = time.perf_counter()
                r = await c.get(f"{base}/api/v1/datasets/members/records",
                                params={"limit": PAGE, "since": cursors[k * each + j]})
                r.raise_for_status()
                latencies.append(time.perf_counter() - started)
                advance()

        started = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {"p50": statistics.median(latencies), "p99": latencies[min(len(latencies) - 1, int(len(latencies) * .99))],
            "pages_per_s": len(latencies) / wall, "requests": len(latencies)}


def render(f: dict) -> str:
    lat = f["latency"]
    lines = [
        "## HTTP API (`lienthong bench api`)",
        "",
        f"{f['rows']:,} published members in PostgreSQL; the API in its own process (uvicorn, "
        f"{f.get('workers', 1)} worker{'s' if f.get('workers', 1) > 1 else ''}, `lienthong serve --workers`) and the "
        f"client on the same machine ({f['cpus']} cores, shared: load average {f['load_before']:.1f} before, "
        f"{f['load_after']:.1f} after). Records carry every field (admin key) unless said.",
        "",
        "| full pull | seconds | records/s | MiB |",
        "|---|---:|---:|---:|",
    ]
    for label in ("csv", "ndjson", "csv, pseudonymised (no read:pii)", "json pages of 10,000"):
        x = f[label]
        lines.append(f"| {label} | {x['seconds']:.1f} | {x['records_per_s']:,.0f} | {x['mib']:,.0f} |")
    lines += [
        "",
        f"{PAGE:,}-record JSON pages at random cursors, {f['clients']} concurrent clients, {lat['requests']:,} "
        f"requests: **p50 {lat['p50'] * 1000:.0f} ms, p99 {lat['p99'] * 1000:.0f} ms**, "
        f"{lat['pages_per_s']:.1f} pages/s ({lat['pages_per_s'] * PAGE:,.0f} records/s).",
    ]
    return "\n".join(lines)
