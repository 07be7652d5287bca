"""Stand-ins for a Slack incoming webhook and a generic JSON webhook: real HTTP servers that
record what they are sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from harness.testing.http_stub import LoopbackServer

# What Slack's webhook answers, by status (https://api.slack.com/messaging/webhooks).
BODIES = {200: "ok", 400: "invalid_payload", 403: "action_prohibited", 404: "no_service",
          429: "rate_limited", 500: "rollup_error"}


@dataclass(frozen=True)
class Request:
    """One POST the receiver got: its parsed JSON body, the status it answered and when
    (time.monotonic() of this process)."""

    body: Any
    status: int
    at: float = 0.0


class SlackReceiver(LoopbackServer):
    """Answers POSTs like Slack's webhook (200 "ok"), or with failures it was told to give."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._requests: list[Request] = []
        self._failures: list[int] = []
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        """The webhook URL to configure."""
        return f"{self.base_url}/services/T000/B000/XXXX"

    def fail(self, times: int = 1, status: int = 500) -> None:
        """Answer the next `times` POSTs with `status` instead of 200."""
        with self._lock:
            self._failures.extend([status] * times)

    def clear(self) -> None:
        """Forget every recorded request and pending failure."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()

    @property
    def requests(self) -> list[Request]:
        """Every POST received, in order, whatever it was answered."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[Any]:
        """The bodies of the POSTs answered 200: the messages Slack would have shown."""
        return [request.body for request in self.requests if request.status == 200]

    def wait_for(self, condition: Callable[[SlackReceiver], bool],
                 timeout_s: float = 20.0) -> None:
        """Block until condition(self) holds; AssertionError after timeout_s."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while not condition(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"Slack receiver: condition not met in {timeout_s} s; "
                                         f"got {len(self._requests)} requests")
                self._lock.wait(remaining)

    def accepts(self, body: Any) -> bool:
        """Whether the body is a message: Slack refuses one without text or blocks."""
        return isinstance(body, dict) and bool(body.get("text") or body.get("blocks"))

    def _answer(self, raw: bytes) -> int:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            accepted = 200 if self.accepts(body) else 400
            status = self._failures.pop(0) if self._failures else accepted
            self._requests.append(Request(body, status, time.monotonic()))
            self._lock.notify_all()
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status = receiver._answer(self.rfile.read(length))
                payload = BODIES.get(status, "error").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(payload)))
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


class WebhookReceiver(SlackReceiver):
    """A stand-in generic JSON webhook (an issue tracker's): takes any JSON object."""

    @property
    def url(self) -> str:
        """The webhook URL to configure."""
        return f"{self.base_url}/hooks/harness"

    def accepts(self, body: Any) -> bool:
        """Whether the body is a JSON object."""
        return isinstance(body, dict)
