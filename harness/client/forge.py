"""The forges' REST APIs that `harness post --check --comment` reports to: GitHub check runs
and pull request comments, GitLab merge request notes (harness.client.pr_feedback decides
what and when); and where to report, from the CI's environment. Errors are ForgeError, whose
message never holds the token. Standard library and requests only, like the CI client."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from harness.client import ci_env, comments

CHECK_NAME = "metric harness"
GITHUB_API = "https://api.github.com"
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
USER_AGENT = "metric-harness"
PAGE_SIZE = 100  # the most either forge lists per page
MAX_PAGES = 30  # a thread of more than 3000 comments is not looked through
TIMEOUT_S = 20.0
RETRIES = 2  # of idempotent calls (GET, PATCH, PUT) after a connection error or a 5xx
RETRY_DELAY_S = 0.25  # doubled each time
MESSAGE_LIMIT = 300  # characters of a forge's error message shown in a warning
REPOSITORY = re.compile(r"[\w.-]+/[\w.-]+")


class ForgeError(RuntimeError):
    """A forge API call that failed; the message is safe to print (the token is redacted)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Api:
    """A REST API: its root URL and the headers that authenticate, whose secret is kept out
    of every message. Redirects are not followed: a token header must not travel on."""

    name: str
    root: str
    headers: Mapping[str, str] = field(repr=False)
    secret: str = field(repr=False)
    session: requests.Session = field(repr=False, compare=False)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer of one call to a path under the root; ForgeError otherwise."""
        with self._send(method, self.root + path, body, None) as response:
            self.check(method, path, response)
            try:
                return response.json()
            except ValueError:
                return None

    def pages(self, path: str) -> Iterator[Any]:
        """Every item of a listing, page by page (`Link: rel="next"`, else `X-Next-Page`)."""
        url, params = self.root + path, {"per_page": str(PAGE_SIZE)}
        for _ in range(MAX_PAGES):
            with self._send("GET", url, None, params) as response:
                self.check("GET", path, response)
                try:
                    items = response.json()
                except ValueError:
                    raise ForgeError(f"GET {path}: HTTP {response.status_code}: not JSON",
                                     response.status_code) from None
                following = response.links.get("next", {}).get("url")
                next_page = response.headers.get("X-Next-Page", "").strip()
            yield from items if isinstance(items, list) else ()
            if following:
                if _origin(following) != _origin(self.root):
                    raise ForgeError(f"GET {path}: the next page is on another host: not "
                                     "followed with the token")
                url, params = following, {}
            elif next_page.isdigit():
                params = {"per_page": str(PAGE_SIZE), "page": next_page}
            else:
                return

    def redact(self, text: str) -> str:
        """The text with the secret replaced by ***."""
        return text.replace(self.secret, "***") if self.secret else text

    def _send(self, method: str, url: str, body: Any,
              params: Mapping[str, str] | None) -> requests.Response:
        """One call, retried when it is idempotent; the answer, or ForgeError when unreachable."""
        attempts = 1 + (RETRIES if method in ("GET", "PATCH", "PUT") else 0)
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                response = self.session.request(
                    method, url, json=body, params=params, timeout=TIMEOUT_S,
                    headers={"User-Agent": USER_AGENT, **self.headers}, allow_redirects=False)
            except requests.RequestException as error:
                if last:
                    raise ForgeError(f"{method} {urlsplit(url).path}: {type(error).__name__}: "
                                     f"{self._short(str(error))}") from None
            else:
                if response.status_code < 500 or last:
                    return response
                response.close()
            time.sleep(RETRY_DELAY_S * 2**attempt)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def check(self, method: str, path: str, response: requests.Response) -> None:
        """Raise ForgeError, with the forge's message redacted, unless the answer is 2xx."""
        if 200 <= response.status_code < 300:
            return
        try:
            body = response.json()
        except ValueError:
            body = response.text
        message = body.get("message") or body.get("error") if isinstance(body, dict) else body
        if not isinstance(message, str):
            message = json.dumps(message)
        raise ForgeError(f"{method} {path}: HTTP {response.status_code}: {self._short(message)}",
                         response.status_code)

    def _short(self, text: str) -> str:
        """Redacted first, then cut: a cut cannot leave part of the secret behind."""
        flat = " ".join(self.redact(text).split())
        return flat if len(flat) <= MESSAGE_LIMIT else flat[:MESSAGE_LIMIT] + "…"


@dataclass(frozen=True)
class Thread:
    """The comments of one pull request (GitHub) or merge request (GitLab)."""

    api: Api
    label: str  # PR #412, MR !7
    collection: str  # the path that lists and creates
    item: str  # the path of one comment, with {id}
    update_method: str  # PATCH (GitHub), PUT (GitLab)

    def find(self) -> tuple[Any, str] | None:
        """(id, body) of the comment an earlier run wrote, or None."""
        for item in self.api.pages(self.collection):
            if isinstance(item, dict) and not item.get("system") and comments.is_ours(
                    item.get("body")):
                return item.get("id"), str(item["body"])
        return None

    def create(self, body: str) -> Any:
        """Post a new comment; its id."""
        answer = self.api.call("POST", self.collection, {"body": body})
        return answer.get("id") if isinstance(answer, dict) else None

    def update(self, comment_id: Any, body: str) -> None:
        """Replace a comment's body."""
        self.api.call(self.update_method, self.item.format(id=quote(str(comment_id), safe="")),
                      {"body": body})


@dataclass(frozen=True)
class Checks:
    """Check runs on one commit of a GitHub repository."""

    api: Api
    repository: str
    sha: str
    details_url: str | None
    external_id: str | None

    def create(self, fields: Mapping[str, Any]) -> Any:
        """Create a check run; its id."""
        body = {"name": CHECK_NAME, "head_sha": self.sha, **fields}
        for key, value in (("details_url", self.details_url), ("external_id", self.external_id)):
            if value:
                body[key] = value
        answer = self.api.call("POST", f"/repos/{self.repository}/check-runs", body)
        return answer.get("id") if isinstance(answer, dict) else None

    def update(self, check_id: Any, fields: Mapping[str, Any]) -> None:
        """Change a check run."""
        self.api.call("PATCH", f"/repos/{self.repository}/check-runs/"
                               f"{quote(str(check_id), safe='')}", dict(fields))


@dataclass(frozen=True)
class GitHubEnv:
    """What GitHub Actions' environment says about where to report."""

    api: str
    repository: str
    token: str = field(repr=False)
    sha: str | None  # the PR's head commit (what the PR shows checks of), else GITHUB_SHA
    pull_request: int | None


@dataclass(frozen=True)
class GitLabEnv:
    """What GitLab CI's environment says about where to report."""

    api: str
    project: str
    token_header: str  # PRIVATE-TOKEN (HARNESS_GITLAB_TOKEN) or JOB-TOKEN (CI_JOB_TOKEN)
    token: str = field(repr=False)
    merge_request: int | None


def github_env(env: Mapping[str, str]) -> GitHubEnv | None:
    """GitHub's API, repository, token, commit and PR number; None outside GitHub Actions."""
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    event = _event(env.get("GITHUB_EVENT_PATH"))
    pull_request = as_object(event.get("pull_request"))
    head = as_object(pull_request.get("head"))
    number = _pr_number(env) or _positive(pull_request.get("number"))
    sha = head.get("sha") if isinstance(head.get("sha"), str) else None
    return GitHubEnv((env.get("GITHUB_API_URL") or GITHUB_API).rstrip("/"),
                     env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_TOKEN", ""),
                     sha or env.get("GITHUB_SHA") or None, number)


def gitlab_env(env: Mapping[str, str]) -> GitLabEnv | None:
    """GitLab's API, project, token and merge request IID; None outside GitLab CI."""
    if env.get("GITLAB_CI") != "true":
        return None
    api = env.get("CI_API_V4_URL") or (env.get("CI_SERVER_URL", "").rstrip("/") + "/api/v4")
    header, token = ("PRIVATE-TOKEN", env.get("HARNESS_GITLAB_TOKEN", "")) \
        if env.get("HARNESS_GITLAB_TOKEN") else ("JOB-TOKEN", env.get("CI_JOB_TOKEN", ""))
    project = env.get("CI_MERGE_REQUEST_PROJECT_ID") or env.get("CI_PROJECT_ID", "")
    return GitLabEnv(api.rstrip("/"), project, header, token, _pr_number(env))


def ci_build(env: Mapping[str, str]) -> dict[str, Any]:
    """The build the CI's environment describes ({} when it describes it wrongly)."""
    try:
        return ci_env.build_from_env(env)
    except ci_env.BuildEnvError:
        return {}


def _pr_number(env: Mapping[str, str]) -> int | None:
    """The pull request number ci_env finds (the CI, or HARNESS_BUILD_PR_NUMBER)."""
    pull_request = ci_build(env).get("pull_request")
    return _positive(pull_request.get("number")) if isinstance(pull_request, dict) else None


def _positive(value: Any) -> int | None:
    """A positive integer (or its digits) as an int; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    return int(value) if isinstance(value, str) and value.isdigit() and int(value) > 0 else None


def _event(path: str | None) -> dict[str, Any]:
    """The webhook event GitHub Actions saved for the run ({} when there is none)."""
    if not path:
        return {}
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return as_object(event)


def as_object(value: Any) -> dict[str, Any]:
    """A JSON object as it is; anything else as {}."""
    return value if isinstance(value, dict) else {}


def _origin(url: str) -> tuple[str, str]:
    """Scheme and host[:port]: where a token may go."""
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
