"""A REST run that fails midway publishes nothing; the re-run publishes everything once (issue 12, row 12).

A real local HTTP server serves 25 member records in pages of 10 and breaks page 3 in one of five ways: an HTML
maintenance page, HTTP 500, no answer before the timeout, JSON cut short, a reset connection. The failed run lands
its pages but stages and publishes none of them and leaves the cursor alone; once the API is healthy again the
next run publishes all 25 records once, with nothing duplicated.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from lienthong.cli.runs import run_sources
from lienthong.warehouse.landing import get_cursor
from lienthong.warehouse.queries import batches, published_count
from lienthong.warehouse.tables import PUBLISHED, STAGING

pytestmark = pytest.mark.integration

PAGE_SIZE, RECORDS = 10, 25
FAILURES = ["html", "http_500", "timeout", "bad_json", "reset"]


class PagedApi:
    """25 members, ``?page=N&page_size=10``; ``broken`` makes page 3 fail in that way until it is set to None."""

    def __init__(self) -> None:
        self.records = [{"id": f"M{i:03d}", "name": f"Nguyễn Thị Lan {i}", "dob": "01/02/1990", "ward": "00070",
                         "updated_at": f"2026-10-01T08:00:{i:02d}"} for i in range(RECORDS)]
        self.broken: str | None = None
        self.url = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        page = int(query.get("page", 1))
        if page == 3 and self.broken:
            return self._fail(handler, self.broken)
        since = query.get("updated_since", "")
        rows = [r for r in self.records if r["updated_at"] > since]
        body = json.dumps({"data": rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]}).encode()
        return _send(handler, 200, "application/json", body)

    @staticmethod
    def _fail(handler: BaseHTTPRequestHandler, kind: str) -> None:
        if kind == "html":
            page = "<html><body>Hệ thống bảo trì</body></html>".encode()
            _send(handler, 200, "text/html; charset=utf-8", page)
        elif kind == "http_500":
            _send(handler, 500, "application/json", b'{"error": "internal"}')
        elif kind == "timeout":
            time.sleep(1.5)  # the client gives up after 0.3 s
            _send(handler, 200, "application/json", b'{"data": []}')
        elif kind == "bad_json":
            _send(handler, 200, "application/json", b'{"data": [{"id": "M020", "name": "Nguy')
        elif kind == "reset":  # RST instead of an answer
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True


def _send(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serve(api: PagedApi) -> Iterator[PagedApi]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            api.handle(self)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    api.url = f"http://127.0.0.1:{httpd.server_address[1]}/api/members"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _source(url: str) -> dict:
    return {
        "id": "hlhpn_api", "title": "API", "organisation": "HLHPN", "dataset": "members",
        "connector": {"type": "rest", "url": url, "pagination": {"type": "page", "page_size": PAGE_SIZE},
                      "incremental": {"param": "updated_since", "field": "updated_at"},
                      "timeout_s": 0.3, "max_retries": 1, "backoff_s": 0.01},
        "mapping": {"member_id": "id", "full_name": "name", "date_of_birth": "dob", "ward_code": "ward"},
        "constants": {"organisation": "HLHPN"}, "ignore_columns": ["updated_at"],
    }


def _rows(hub, table) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("failure", FAILURES)
def test_a_run_failing_on_page_3_publishes_nothing_and_the_rerun_publishes_everything_once(
    make_hub, warehouse_url, failure
):
    with serve(PagedApi()) as api:
        hub = make_hub([_source(api.url)], warehouse_url)
        api.broken = failure

        failed = run_sources(hub, [hub.source("hlhpn_api")])

        assert failed.exit_code == 1
        [problem] = failed.problems
        assert problem.message.startswith("hlhpn_api: ") and "page 3" in problem.message, problem.message
        assert "\n" not in problem.message and problem.message_vi.startswith("hlhpn_api: ")
        assert published_count(hub.engine, "members") == 0, "no page of a failed run is published"
        assert _rows(hub, STAGING["members"]) == 0, "nor staged"
        assert {b["status"] for b in batches(hub.engine, source_id="hlhpn_api")} <= {"landed"}
        assert get_cursor(hub.engine, "hlhpn_api") is None

        api.broken = None
        again = run_sources(hub, [hub.source("hlhpn_api")])

    assert again.exit_code == 0 and not again.problems
    [run] = again.runs
    assert (run.rows_read, run.rows_published) == (RECORDS, RECORDS)
    landed = batches(hub.engine, source_id="hlhpn_api")
    assert len(landed) == 3 and {b["status"] for b in landed} == {"published"} and all(b["reconciled"] for b in landed)
    assert sum(b["rows_read"] for b in landed) == RECORDS, "a page landed by the failed run is the same batch"
    assert published_count(hub.engine, "members") == _rows(hub, PUBLISHED["members"]) == RECORDS
    assert get_cursor(hub.engine, "hlhpn_api") == {"updated_since": f"2026-10-01T08:00:{RECORDS - 1:02d}"}
