"""Serve a stand-in of an outside system (a gateway, an X-Road Security Server) on 127.0.0.1 for a ``with`` block.

A stand-in is a plain object whose ``answer(method, path, headers, body)`` returns ``(status, headers, body)``;
this module is the small HTTP server around it, in a daemon thread, so the stand-ins hold only protocol logic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class StandIn(Protocol):
    url: str

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]: ...


@contextmanager
def serve_in_thread(stand_in: StandIn, *, name: str, port: int = 0,
                    methods: tuple[str, ...] = ("GET", "POST")) -> Iterator[None]:
    """Serve ``stand_in`` (its ``url`` is set) until the block ends; port 0 picks a free one."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(stand_in, methods))
    httpd.daemon_threads = True
    stand_in.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _handler_for(stand_in: StandIn, methods: tuple[str, ...]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, data = stand_in.answer(self.command, self.path, headers, body)
            self.send_response(status)
            for header, value in out_headers.items():
                self.send_header(header, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            pass

    for method in methods:  # the names http.server dispatches to
        setattr(Handler, f"do_{method}", Handler._serve)
    return Handler
