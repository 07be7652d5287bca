"""A real HTTP proxy on loopback that breaks chosen InfluxDB writes on purpose."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import urlsplit

from harness.testing.http_stub import LoopbackServer

Mode = Literal["refuse", "drop"]


class FaultyProxy(LoopbackServer):
    """Forwards every request to `target`, except the next writes it was told to break:
    `refuse` answers 503 without forwarding (InfluxDB never sees the write); `drop`
    forwards the write and then closes the connection unanswered (InfluxDB applied it,
    the client cannot know)."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.broken: list[str] = []  # the mode of each write broken so far
        self._plan: list[Mode] = []
        self._lock = threading.Condition()
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return self.base_url

    def break_writes(self, *modes: Mode) -> None:
        """Break the next writes, one per mode, in order."""
        with self._lock:
            self._plan.extend(modes)

    def reset(self) -> None:
        """Forget the writes broken so far and any still planned."""
        with self._lock:
            self.broken.clear()
            self._plan.clear()

    def wait_broken(self, count: int, timeout_s: float = 30.0) -> None:
        """Block until `count` writes were broken in all; AssertionError after timeout_s."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.broken) >= count, timeout_s):
                raise AssertionError(f"only {len(self.broken)} of {count} writes were broken")

    def _next_fault(self, path: str) -> Mode | None:
        with self._lock:
            if not path.startswith("/write") or not self._plan:
                return None
            return self._plan.pop(0)

    def _noted(self, mode: Mode) -> None:
        with self._lock:
            self.broken.append(mode)
            self._lock.notify_all()

    def _forward(self, method: str, path: str, headers: Any, body: bytes
                 ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.target, timeout=30)
        try:
            keep = {k: v for k, v in headers.items()
                    if k.lower() not in ("host", "connection", "content-length")}
            connection.request(method, path, body=body or None, headers=keep)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._next_fault(self.path)
                if fault == "refuse":
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    proxy._noted(fault)
                    return
                status, headers, payload = proxy._forward(self.command, self.path,
                                                          self.headers, body)
                if fault == "drop":
                    self.close_connection = True
                    proxy._noted(fault)
                    return
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "connection",
                                           "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _relay

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
