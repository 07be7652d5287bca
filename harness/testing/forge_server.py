"""A stand-in GitHub and GitLab on loopback for `harness post --check --comment`: a real
HTTP server that answers the REST endpoints the client uses, keeps check runs, PR comments
and MR notes as a forge would, and records every request (method, path, query, headers,
JSON body). It can be told to fail, echoing the request's headers (tokens included) in its
error message, as a careless proxy would: the client must never print them."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.testing.http_stub import JsonHandler, LoopbackServer

Answer = tuple[int, dict[str, str], Any]  # status, extra headers, JSON payload
MAX_PER_PAGE = 100  # what both forges cap per_page at
GITHUB_ROUTES = (  # (method, path pattern, handler name)
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/check-runs", "_create_check"),
    ("PATCH", r"/repos/(?P<repo>[^/]+/[^/]+)/check-runs/(?P<id>\d+)", "_update_check"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/comments", "_list"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/comments", "_create"),
    ("PATCH", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)", "_update"),
)
GITLAB_ROUTES = (
    ("GET", r"/api/v4/projects/(?P<repo>[^/]+)/merge_requests/(?P<number>\d+)/notes", "_list"),
    ("POST", r"/api/v4/projects/(?P<repo>[^/]+)/merge_requests/(?P<number>\d+)/notes",
     "_create"),
    ("PUT", r"/api/v4/projects/(?P<repo>[^/]+)/merge_requests/(?P<number>\d+)/notes/(?P<id>\d+)",
     "_update"),
)


@dataclass(frozen=True)
class Request:
    """One request the forge got, and the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class _State:
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    threads: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)
    next_id: int = 1000


class ForgeServer(LoopbackServer):
    """GitHub's check-run and issue-comment endpoints under `/`, GitLab's merge request
    notes under `/api/v4`; both want `token` (GitHub: `Authorization: Bearer`, GitLab:
    `PRIVATE-TOKEN` or `JOB-TOKEN`) and answer 401 otherwise."""

    def __init__(self, token: str, page_size: int = MAX_PER_PAGE) -> None:
        self.token = token
        self.page_size = page_size  # fewer than per_page asks for: to make pagination happen
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._failures: list[int] = []
        self._state = _State()
        super().__init__(self._handler())

    @property
    def gitlab_url(self) -> str:
        """What CI_API_V4_URL would be."""
        return f"{self.base_url}/api/v4"

    def fail(self, times: int = 1, status: int = 500) -> None:
        """Answer the next `times` requests with `status`, echoing their headers."""
        with self._lock:
            self._failures.extend([status] * times)

    def heal(self) -> None:
        """Forget the failures still to give."""
        with self._lock:
            self._failures.clear()

    @property
    def requests(self) -> list[Request]:
        """Every request received, in order."""
        with self._lock:
            return list(self._requests)

    def check_runs(self) -> dict[int, dict[str, Any]]:
        """The check runs as they stand: id → the fields last set."""
        with self._lock:
            return {key: dict(value) for key, value in self._state.check_runs.items()}

    def comments(self, repository: str, number: int) -> list[dict[str, Any]]:
        """A GitHub pull request's comments, oldest first."""
        return self._items("github", repository, number)

    def notes(self, project: str, iid: int) -> list[dict[str, Any]]:
        """A GitLab merge request's notes, oldest first."""
        return self._items("gitlab", project, iid)

    def add_comment(self, repository: str, number: int, body: str, author: str = "someone",
                    forge: str = "github") -> int:
        """A comment someone else wrote; its id."""
        with self._lock:
            return self._add((forge, repository, number), body, author)["id"]

    def _items(self, forge: str, repository: str, number: int) -> list[dict[str, Any]]:
        """A copy of one thread."""
        with self._lock:
            return [dict(item) for item in self._state.threads.get((forge, repository, number),
                                                                     [])]

    def _add(self, key: tuple[str, str, int], body: str, author: str) -> dict[str, Any]:
        """Append a comment to a thread (the lock is held)."""
        self._state.next_id += 1
        item = {"id": self._state.next_id, "body": body, "user": {"login": author},
                "author": {"username": author}, "system": False}
        self._state.threads.setdefault(key, []).append(item)
        return item

    def answer(self, method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        """Route one request; record it with the status answered."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        with self._lock:
            if self._failures:
                status = self._failures.pop(0)
                payload: Any = {"message": f"failure {status}; the request's headers were "
                                           f"{json.dumps(headers)}"}
                answer: Answer = (status, {}, payload)
            else:
                answer = self._route(method, parts.path, query, headers, body)
            self._requests.append(Request(method, parts.path, query, headers, body, answer[0]))
        return answer

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: Any) -> Answer:
        """Dispatch to the handler of the first route that matches; 401 or 404 else."""
        for forge, routes in (("gitlab", GITLAB_ROUTES), ("github", GITHUB_ROUTES)):
            for route_method, pattern, name in routes:
                match = re.fullmatch(pattern, path)
                if match is None or route_method != method:
                    continue
                if not self._authorized(forge, headers):
                    return 401, {}, {"message": "Bad credentials" if forge == "github"
                                     else "401 Unauthorized"}
                handler: Callable[..., Answer] = getattr(self, name)
                return handler(forge, match.groupdict(), query, body, path)
        return 404, {}, {"message": "Not Found"}

    def _authorized(self, forge: str, headers: dict[str, str]) -> bool:
        """Whether the request carries the token as that forge wants it."""
        lower = {key.lower(): value for key, value in headers.items()}
        if forge == "github":
            return lower.get("authorization") == f"Bearer {self.token}"
        return self.token in (lower.get("private-token"), lower.get("job-token"))

    def _create_check(self, forge: str, args: dict[str, str], query: dict[str, str],
                      body: Any, path: str) -> Answer:
        """POST check-runs: a new run with the fields sent."""
        if not isinstance(body, dict) or not body.get("name") or not body.get("head_sha"):
            return 422, {}, {"message": "Invalid request: name and head_sha are required"}
        self._state.next_id += 1
        run = {"id": self._state.next_id, "status": "queued", **body}
        self._state.check_runs[run["id"]] = run
        return 201, {}, run

    def _update_check(self, forge: str, args: dict[str, str], query: dict[str, str],
                      body: Any, path: str) -> Answer:
        """PATCH a check run: its fields updated."""
        run = self._state.check_runs.get(int(args["id"]))
        if run is None or not isinstance(body, dict):
            return 404, {}, {"message": "Not Found"}
        run.update(body)
        return 200, {}, run

    def _list(self, forge: str, args: dict[str, str], query: dict[str, str], body: Any,
              path: str) -> Answer:
        """GET comments or notes: one page, with Link (and GitLab's X-Next-Page)."""
        items = self._state.threads.get((forge, args["repo"], int(args["number"])), [])
        size = min(int(query.get("per_page", "30")), self.page_size, MAX_PER_PAGE)
        page = int(query.get("page", "1"))
        chosen = items[(page - 1) * size:page * size]
        headers = {}
        if page * size < len(items):
            headers["Link"] = (f'<{self.base_url}{path}?per_page={size}&page={page + 1}>; '
                               'rel="next"')
            if forge == "gitlab":
                headers["X-Next-Page"] = str(page + 1)
        return 200, headers, chosen

    def _create(self, forge: str, args: dict[str, str], query: dict[str, str], body: Any,
                path: str) -> Answer:
        """POST a comment or note."""
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            return 422, {}, {"message": "body is missing"}
        key = (forge, args["repo"], int(args["number"]))
        return 201, {}, self._add(key, body["body"], "harness-bot")

    def _update(self, forge: str, args: dict[str, str], query: dict[str, str], body: Any,
                path: str) -> Answer:
        """PATCH a comment (GitHub) or PUT a note (GitLab)."""
        wanted = int(args["id"])
        for (kind, _, _), items in self._state.threads.items():
            for item in items:
                if kind == forge and item["id"] == wanted and isinstance(body, dict):
                    item["body"] = body.get("body")
                    return 200, {}, item
        return 404, {}, {"message": "Not Found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, bound to this server."""
        forge = self

        class Handler(JsonHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                self.reply(*forge.answer(self.command, self.path, dict(self.headers.items()),
                                         body))

            do_GET = do_POST = do_PATCH = do_PUT = _serve

        return Handler
