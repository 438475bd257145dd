"""What the app holds while it runs: the hub, the processing pool, the sweeper, the rate limiter, the metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy import create_engine

from lienthong.api.metrics import Metrics
from lienthong.api.processing import ProcessingPool, Sweeper
from lienthong.hub import Hub
from lienthong.settings import Settings

log = logging.getLogger(__name__)


class TokenBucket:
    """Per-key rate limiting, in process: each key has ``rate`` tokens a minute and may burst up to ``rate``.

    In process means per server process: behind several workers each keeps its own buckets, so the effective
    limit is ``workers × rate``. Good enough against a runaway client; a shared limiter (PostgreSQL or a proxy)
    is the step when the hub runs several workers (docs/api.md).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str, rate_per_minute: int) -> float:
        """Take one token; returns 0 when allowed, else the seconds until a token is available."""
        now = time.monotonic()
        per_second = rate_per_minute / 60.0
        with self._lock:
            tokens, at = self._state.get(key, (float(rate_per_minute), now))
            tokens = min(float(rate_per_minute), tokens + (now - at) * per_second)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / per_second


@dataclass
class ApiContext:
    hub: Hub
    limiter: TokenBucket = field(default_factory=TokenBucket)
    metrics: Metrics = field(default_factory=Metrics)
    # Pushed batches are processed by worker processes, off the request threads (processing.py); the sweeper
    # marks failed what stays landed too long, so every landed batch reaches a final state.
    processing: ProcessingPool | None = None
    sweeper: Sweeper | None = None
    touched: dict[str, float] = field(default_factory=dict)  # key_id -> when last_used_at was last written
    # How many record pages this process reads and builds at once (Settings.api_page_builders): the rest wait
    # on it, not for the interpreter's lock, which 25 page threads handed back and forth every 5 ms
    # (docs/BENCHMARKS.md, HTTP API). Set from the settings by open().
    page_builders: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(Settings.model_fields["api_page_builders"].default))

    @contextmanager
    def building_page(self) -> Iterator[None]:
        """Hold one of the process's page builders while a page is read, audited and built."""
        with self.page_builders:
            yield

    @property
    def settings(self) -> Settings:
        return self.hub.settings

    @classmethod
    def open(cls, settings: Settings) -> ApiContext:
        """Open the hub with a connection pool larger than the server's threads (``api_threads``) need, start
        the processing workers and the sweeper, and queue the pushed batches a previous server left landed."""
        hub = Hub.open(settings)
        if hub.engine.dialect.name == "postgresql":
            hub.engine.dispose()
            hub = Hub(settings, create_engine(settings.warehouse_url, pool_size=20, max_overflow=30,
                                              pool_pre_ping=True))
        ctx = cls(hub, processing=ProcessingPool(hub), sweeper=Sweeper(hub),
                  page_builders=threading.BoundedSemaphore(settings.api_page_builders))
        ctx.sweeper.start()
        resumed = ctx.processing.resume()
        if resumed:
            log.info("%d pushed batches left landed by a previous server queued for processing", resumed)
        return ctx

    def close(self) -> None:
        if self.sweeper:
            self.sweeper.stop()
        if self.processing:
            self.processing.close()
        self.hub.engine.dispose()


def get_context(request: Request) -> ApiContext:
    return request.app.state.context
