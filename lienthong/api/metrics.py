"""Prometheus-style metrics in the text exposition format, without a client library.

Counters and one latency histogram per route template, kept in process (per worker). A pure ASGI middleware
measures requests so streamed responses are timed to their last byte and nothing is buffered.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)  # (method, route, status)
        self.latency: dict[tuple[str, str], list[float]] = {}  # (method, route) -> bucket counts + [sum, count]
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.started = time.time()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            h = self.latency.setdefault((method, route), [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    h[i] += 1
            h[-2] += seconds
            h[-1] += 1

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        with self._lock:
            self.counters[(name, tuple(sorted(labels.items())))] += amount

    def render(self) -> str:
        out = ["# HELP lienthong_http_requests_total Requests answered, by method, route and status.",
               "# TYPE lienthong_http_requests_total counter"]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(f'lienthong_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            out += ["# HELP lienthong_http_request_duration_seconds Time to the last byte of the response.",
                    "# TYPE lienthong_http_request_duration_seconds histogram"]
            for (method, route), h in sorted(self.latency.items()):
                labels = f'method="{method}",route="{route}"'
                for i, bound in enumerate(BUCKETS):
                    out.append(f'lienthong_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {int(h[i])}')
                out.append(f'lienthong_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {int(h[-1])}')
                out.append(f"lienthong_http_request_duration_seconds_sum{{{labels}}} {h[-2]:.6f}")
                out.append(f"lienthong_http_request_duration_seconds_count{{{labels}}} {int(h[-1])}")
            names = sorted({name for name, _ in self.counters})
            for name in names:
                out.append(f"# TYPE lienthong_{name} counter")
                for (n, labels), value in sorted(self.counters.items()):
                    if n == name:
                        text = ",".join(f'{k}="{v}"' for k, v in labels)
                        out.append(f"lienthong_{name}{{{text}}} {value:g}")
        out += ["# TYPE lienthong_process_start_time_seconds gauge",
                f"lienthong_process_start_time_seconds {self.started:.0f}"]
        return "\n".join(out) + "\n"


class MetricsMiddleware:
    """Time each HTTP request to its last byte and count it under its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)
