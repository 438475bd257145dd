"""`lienthong bench api`: how fast the HTTP API serves published records, measured over real HTTP.

A fresh PostgreSQL database gets ``rows`` published members (written by COPY: the pipeline has its own
benchmark), the server runs in its own process (uvicorn, as `lienthong serve --workers N` runs it), and the
client here pulls: the whole dataset once per format, then 1,000-record JSON pages at random cursors from
``clients`` concurrent clients. Client and server share the machine's cores, which the figures say. Then the
mixed-load figure (``mixed_load.py``): readers while clerks push feeds, and how soon the pushed batches are final.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from rich.progress import Progress

from lienthong.bench import DEFAULT_DSN, fresh_database, mixed_load
from lienthong.bench.report import write_section
from lienthong.console import console

BENCH_PSEUDONYM_KEY = "bench-pseudonym-key-not-a-secret-0123456789"
PAGE = 1000
WARDS = ["00004", "00070", "00103", "00256", "00292", "26734", "26740", "27043"]


def run_api_bench(*, rows: int, clients: int, requests_per_client: int, out: Path, workers: int = 1,
                  mixed_seconds: float = 60, pushers: int = 5, push_rows: int = 500, push_every_s: float = 5.0,
                  read_every_s: float = 1.0,
                  processing_workers: int | None = None, only_mixed: bool = False) -> dict:
    """Full pulls and page latency (unless ``only_mixed``), then the mixed-load figure (unless ``mixed_seconds`` 0).

    ``processing_workers`` is the server's LIENTHONG_API_PROCESSING_WORKERS (None: the setting's default; 0: one
    thread in the server process, as before issue 12).
    """
    from lienthong.settings import Settings

    dsn = os.environ.get("LIENTHONG_TEST_PG_DSN", DEFAULT_DSN)
    load = os.getloadavg()[0]
    processing = Settings().api_processing_workers if processing_workers is None else processing_workers
    with fresh_database(dsn) as (url, db_dsn), Progress(console=console, transient=True) as progress, \
            tempfile.TemporaryDirectory(prefix="lienthong-bench-") as tmp:
        from lienthong.hub import Hub
        from lienthong.warehouse.api_keys import create_key

        sources_dir = Path(tmp) / "sources"
        mapping = mixed_load.write_push_source(sources_dir)
        hub = Hub.open(Settings(database_url=url, sources_dir=sources_dir), require_init=False)
        hub.initialise()
        task = progress.add_task(f"publishing {rows:,} members by COPY", total=rows)
        seq = _load_members(db_dsn, rows, lambda n: progress.advance(task, n))
        admin = create_key(hub.engine, name="bench-admin", scopes=["admin"], rate_per_minute=10**9).token
        portal = create_key(hub.engine, name="bench-portal", scopes=["read:members"], rate_per_minute=10**9).token
        clerk = create_key(hub.engine, name="bench-clerk", scopes=[f"push:{mixed_load.PUSH_SOURCE}"],
                           rate_per_minute=10**9).token
        hub.engine.dispose()
        env = {"LIENTHONG_SOURCES_DIR": str(sources_dir), "LIENTHONG_API_PROCESSING_WORKERS": str(processing)}
        with _server(url, workers, env) as base:
            figures: dict = {"rows": rows, "clients": clients, "load_before": load, "cpus": os.cpu_count(),
                             "workers": workers, "processing_workers": processing}
            if not only_mixed:
                for label, token, fmt in (("csv", admin, "csv"), ("ndjson", admin, "ndjson"),
                                          ("csv, pseudonymised (no read:pii)", portal, "csv")):
                    task = progress.add_task(f"full pull as {label}", total=rows)
                    figures[label] = _full_pull(base, token, fmt, rows, lambda n, t=task: progress.advance(t, n))
                    console.print(f"full pull as {label}: {figures[label]['records_per_s']:,.0f} records/s")
                task = progress.add_task("full pull as JSON pages of 10,000", total=rows)
                figures["json pages of 10,000"] = _paged_pull(base, admin, rows, lambda n: progress.advance(task, n))
                console.print(f"full pull as JSON pages: {figures['json pages of 10,000']['records_per_s']:,.0f} "
                              "records/s")
                task = progress.add_task(f"{clients} clients × {requests_per_client} pages", total=clients *
                                         requests_per_client)
                figures["latency"] = asyncio.run(_latency(base, admin, seq, rows, clients, requests_per_client,
                                                          lambda: progress.advance(task)))
            if mixed_seconds:
                progress.add_task(f"mixed load: {clients} readers + {pushers} pushers for {mixed_seconds:g} s",
                                  total=None)
                figures["mixed"] = asyncio.run(mixed_load.mixed_load(
                    base, admin, clerk, _cursors(seq, rows, 1000), mapping, readers=clients, pushers=pushers,
                    seconds=mixed_seconds, push_rows=push_rows, push_every_s=push_every_s,
                    read_every_s=read_every_s, baseline_s=min(20.0, mixed_seconds / 3)))
    figures["load_after"] = os.getloadavg()[0]
    if not only_mixed:
        write_section(out, "api", render(figures))
    console.print(render(figures))
    return figures


def _cursors(seq: int, rows: int, n: int) -> list[str]:
    from lienthong.api.records import Cursor

    rng = random.Random(11)
    return [Cursor(seq, f"bench:M{rng.randrange(max(rows - PAGE, 1)):08d}").encode() for _ in range(n)]


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

    def __init__(self, url: str, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.url = url
        self.workers = workers
        self.env = env or {}

    def __enter__(self) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "LIENTHONG_DATABASE_URL": self.url, "LIENTHONG_PSEUDONYM_KEY": BENCH_PSEUDONYM_KEY,
               **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "lienthong.web.app:create_app", "--factory", "--host", "127.0.0.1",
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
        self.proc.terminate()  # graceful: the batches its workers are processing finish first
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
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
                params = {"limit": PAGE, "since": cursors[k * each + j]}
                try:
                    r = await c.get(f"{base}/api/v1/datasets/members/records", params=params)
                except (httpx.ReadError, httpx.RemoteProtocolError):  # a keep-alive connection the server had just
                    r = await c.get(f"{base}/api/v1/datasets/members/records", params=params)  # closed: the retry
                r.raise_for_status()  # is timed with the request, as a client would see it
                latencies.append(time.perf_counter() - started)
                advance()

        started = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {"p50": statistics.median(latencies), "p99": latencies[min(len(latencies) - 1, int(len(latencies) * .99))],
            "pages_per_s": len(latencies) / wall, "requests": len(latencies)}


def render(f: dict) -> str:
    lines = [
        "## HTTP API (`lienthong bench api`)",
        "",
        f"{f['rows']:,} published members in PostgreSQL; the API in its own process (uvicorn, "
        f"{f.get('workers', 1)} worker{'s' if f.get('workers', 1) > 1 else ''}, `lienthong serve --workers`) and the "
        f"client on the same machine ({f['cpus']} cores, shared: load average {f['load_before']:.1f} before, "
        f"{f['load_after']:.1f} after). Records carry every field (admin key) unless said.",
    ]
    if "latency" in f:
        lat = f["latency"]
        lines += ["", "| full pull | seconds | records/s | MiB |", "|---|---:|---:|---:|"]
        for label in ("csv", "ndjson", "csv, pseudonymised (no read:pii)", "json pages of 10,000"):
            x = f[label]
            lines.append(f"| {label} | {x['seconds']:.1f} | {x['records_per_s']:,.0f} | {x['mib']:,.0f} |")
        lines += [
            "",
            f"{PAGE:,}-record JSON pages at random cursors, {f['clients']} concurrent clients, {lat['requests']:,} "
            f"requests: **p50 {lat['p50'] * 1000:.0f} ms, p99 {lat['p99'] * 1000:.0f} ms**, "
            f"{lat['pages_per_s']:.1f} pages/s ({lat['pages_per_s'] * PAGE:,.0f} records/s).",
        ]
    if "mixed" in f:
        lines += mixed_load.render(f["mixed"], f["processing_workers"])
    return "\n".join(lines)
