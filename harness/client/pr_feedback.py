"""`harness post --check --comment`: a GitHub check run on the commit, in progress while the
measurements are posted and completed with the gate's verdict, and one comment on the pull
request (GitLab: merge request note) that later runs find by its marker and update in place.
An API error (network, 4xx, 5xx) is a warning on stderr, never an exit code; no message
printed holds a token. What is said: harness.client.comments. Usage: docs/ci.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from harness import links
from harness.client import comments
from harness.client.console import say
from harness.client.forge import (
    CHECK_NAME,
    GITHUB_HEADERS,
    REPOSITORY,
    TIMEOUT_S,
    Api,
    Checks,
    ForgeError,
    Thread,
    ci_build,
    github_env,
    gitlab_env,
)

UNJUDGED = {3: "rejected by the harness", 4: "the harness was unreachable",
            5: "not processed (failed, or not done in time)"}  # post's exit codes
CHECK_HINT = ("the job needs `permissions: checks: write`; a pull request from a fork gets a "
              "read-only token")
GITHUB_COMMENT_HINT = "the job needs `permissions: pull-requests: write`"


class Feedback:
    """The check run and the comment of one `harness post` run: `start` before posting,
    `judged` once the verdicts are in, `finish` with the exit code."""

    def __init__(self, *, checks: Checks | None, thread: Thread | None, comment_on: str,
                 harness_url: str, harness_token: str, session: requests.Session,
                 build: Mapping[str, Any]) -> None:
        self.checks, self.thread, self.comment_on = checks, thread, comment_on
        self._harness = (harness_url.rstrip("/"), harness_token)
        self._session, self._build = session, build
        self._check_id: Any = None
        self._check_refused = False  # 4xx on creation: the token may not; do not ask again
        self._outcome: comments.Outcome | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, check: bool, comment: bool, comment_on: str,
                 harness_url: str, harness_token: str) -> Feedback:
        """What the CI's environment allows of --check and --comment; notes on stderr say
        what it does not."""
        session = requests.Session()
        build = ci_build(env)
        checks = thread = None
        github, gitlab = github_env(env), gitlab_env(env)
        if github is not None:
            api = Api("GitHub", github.api, {**GITHUB_HEADERS,
                                             "Authorization": f"Bearer {github.token}"},
                      github.token, session)
            ready = _usable("GitHub", github.token, "GITHUB_TOKEN (env: GITHUB_TOKEN: "
                            "${{ github.token }})") and _usable(
                "GitHub", REPOSITORY.fullmatch(github.repository), "GITHUB_REPOSITORY")
            if check and ready and _usable("GitHub", github.sha, "GITHUB_SHA", "no check run"):
                ci, build_id = build.get("ci"), build.get("id")
                details = harness_url.rstrip("/") + links.build_url(str(ci), str(build_id)) \
                    if ci and build_id else None
                checks = Checks(api, github.repository, str(github.sha), details,
                                str(build_id) if build_id else None)
            number = github.pull_request
            if comment and ready and _has_pull_request(number):
                base = f"/repos/{github.repository}/issues"
                thread = Thread(api, f"PR #{number}", f"{base}/{number}/comments",
                                f"{base}/comments/{{id}}", "PATCH")
        elif gitlab is not None:
            if check:
                say("post", "--check: GitLab has no check runs; the merge request note and "
                            "the exit code tell the verdict")
            api = Api("GitLab", gitlab.api, {gitlab.token_header: gitlab.token}, gitlab.token,
                      session)
            number = gitlab.merge_request
            if comment and _usable("GitLab", gitlab.token, "HARNESS_GITLAB_TOKEN") and _usable(
                    "GitLab", gitlab.project, "CI_PROJECT_ID") and _has_pull_request(number):
                base = f"/projects/{quote(gitlab.project, safe='')}/merge_requests/{number}"
                thread = Thread(api, f"MR !{number}", f"{base}/notes", f"{base}/notes/{{id}}",
                                "PUT")
        else:
            say("post", "--check/--comment: neither GitHub Actions nor GitLab CI: no check "
                        "run, no comment")
        return cls(checks=checks, thread=thread, comment_on=comment_on,
                   harness_url=harness_url, harness_token=harness_token, session=session,
                   build=build)

    def start(self) -> None:
        """Create the check run, in progress."""
        if self.checks is None:
            return
        try:
            self._check_id = self.checks.create({
                "status": "in_progress", "started_at": _now(),
                "output": {"title": "Posting measurements", "summary": "Waiting for verdicts."}})
        except ForgeError as error:
            self._check_refused = error.status is not None and 400 <= error.status < 500
            _warn(self.checks.api, "creating the check run", error, CHECK_HINT)

    def judged(self, statuses: Sequence[Mapping[str, Any]], gates: Sequence[str],
               failures: Sequence[tuple[str, str]]) -> None:
        """Keep the verdicts, with the requirements whose status changed in each build."""
        builds = dict.fromkeys((str(status["build"].get("ci")), str(status["build"].get("id")))
                               for status in statuses if isinstance(status.get("build"), dict))
        changes = [change for ci, build_id in builds for change in self._changes(ci, build_id)]
        self._outcome = comments.Outcome(statuses, gates, failures, changes, self._harness[0])

    def finish(self, code: int) -> None:
        """Complete the check run and post or update the comment; close the session."""
        try:
            outcome = self._outcome
            if outcome is not None:
                markdown, title = comments.render(outcome), comments.title(outcome)
            else:
                reason = UNJUDGED.get(code, f"exit code {code}")
                markdown = comments.render_unjudged(reason, self._build, self._harness[0])
                title = f"Not judged: {reason}"
            if self.checks is not None:
                self._complete(self.checks, comments.conclusion(outcome), title, markdown)
            if self.thread is not None:
                self._comment(self.thread, outcome, markdown)
        finally:
            self._session.close()

    def _complete(self, checks: Checks, conclusion: str, title: str, markdown: str) -> None:
        fields = {"status": "completed", "conclusion": conclusion, "completed_at": _now(),
                  "output": {"title": title,
                             "summary": comments.truncate(markdown, comments.SUMMARY_LIMIT)}}
        try:
            if self._check_id is not None:
                checks.update(self._check_id, fields)
            elif not self._check_refused:
                self._check_id = checks.create(fields)
            else:
                return
        except ForgeError as error:
            _warn(checks.api, "completing the check run", error, CHECK_HINT)
            return
        say("post", f"check run {CHECK_NAME!r} on {checks.sha[:12]}: {conclusion}")

    def _comment(self, thread: Thread, outcome: comments.Outcome | None, markdown: str) -> None:
        try:
            existing = thread.find()
            if not comments.worth_commenting(outcome, self.comment_on, existing is not None):
                say("post", f"{thread.label}: nothing to say (--comment-on {self.comment_on}): "
                            "no comment")
                return
            body = comments.comment_body(markdown)
            if existing is None:
                say("post", f"{thread.label}: comment {thread.create(body)} created")
            elif existing[1] != body:
                thread.update(existing[0], body)
                say("post", f"{thread.label}: comment {existing[0]} updated")
        except ForgeError as error:
            hint = GITHUB_COMMENT_HINT if thread.api.name == "GitHub" else _gitlab_hint(thread)
            _warn(thread.api, f"commenting on {thread.label}", error, hint)

    def _changes(self, ci: str, build_id: str) -> list[comments.RequirementChange]:
        root, token = self._harness
        try:
            response = self._session.get(root + links.api_report_url(ci, build_id),
                                         headers={"Authorization": f"Bearer {token}"},
                                         timeout=TIMEOUT_S)
            with response:
                response.raise_for_status()
                report = response.json()
        except (requests.RequestException, ValueError) as error:
            text = str(error).replace(token, "***") if token else str(error)
            say("post", f"warning: the requirements whose status changed are not shown: {text}")
            return []
        return comments.requirement_changes(report) if isinstance(report, dict) else []


def _gitlab_hint(thread: Thread) -> str:
    """What a GitLab token refused for notes lacks."""
    if "JOB-TOKEN" in thread.api.headers:
        return ("CI_JOB_TOKEN may not write merge request notes: set HARNESS_GITLAB_TOKEN to a "
                "project access token (role Reporter, scope api)")
    return "HARNESS_GITLAB_TOKEN needs the api scope and at least the Reporter role"


def _warn(api: Api, what: str, error: ForgeError, hint: str) -> None:
    """A warning on stderr; the hint only when the forge refused the token."""
    advice = f" ({hint})" if error.status in (401, 403, 404) else ""
    say("post", f"warning: {api.name}: {what} failed: {api.redact(str(error))}{advice}; "
                "the exit code is the gate's")


def _usable(forge: str, value: Any, variable: str,
            consequence: str = "no check run, no comment") -> bool:
    """Whether a variable that --check or --comment needs is set; a note when not."""
    if not value:
        say("post", f"{forge}: {variable} is not set: {consequence}")
    return bool(value)


def _has_pull_request(number: int | None) -> bool:
    """Whether the build is of a pull request; a note when not."""
    if number is None:
        say("post", "--comment: this build is not of a pull request: no comment")
    return number is not None


def _now() -> str:
    """UTC now as GitHub writes times."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
