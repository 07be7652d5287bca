"""The submission poster's retries and the processing wait, against a real local HTTP server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.client.http import DeliveryError, post_submissions, wait_until_processed
from harness.testing.http_stub import JsonHandler
from harness.testing.http_stub import serving as serve

Answer = tuple[int, dict[str, str], dict[str, Any]]


@dataclass
class FakeHarness:
    """Answers POSTs from a script (then 202), GETs of a status from a script per id."""

    post_answers: list[Answer] = field(default_factory=list)
    states: dict[str, list[str]] = field(default_factory=dict)
    posts: list[tuple[str, str | None, dict]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)

    def answer_post(self, path: str, auth: str | None, body: dict) -> Answer:
        self.posts.append((path, auth, body))
        if self.post_answers:
            return self.post_answers.pop(0)
        return 202, {}, {"submission": f"s{len(self.posts)}"}

    def answer_get(self, path: str) -> Answer:
        self.gets.append(path)
        queue = self.states.get(path.rsplit("/", 1)[-1])
        if not queue:
            return 404, {}, {"error": "no such submission"}
        state = queue.pop(0) if len(queue) > 1 else queue[0]
        return 200, {}, {"state": state}


@contextmanager
def serving(fake: FakeHarness) -> Iterator[str]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            self.reply(*fake.answer_post(self.path, self.headers.get("Authorization"),
                                         self.json_body()))

        def do_GET(self) -> None:
            self.reply(*fake.answer_get(self.path))

    with serve(Handler) as url:
        yield url + "/"


SUBMISSIONS = [
    {
        "build": {"ci": "jenkins", "id": f"b{n}", "branch": "main"},
        "measurements": [{"metric": "validate_drp.PA1", "value": 4.5, "unit": "mmag"}],
    }
    for n in range(3)
]


@pytest.mark.parametrize("status", [503, 429, 500])
def test_a_busy_harness_is_retried_after_retry_after(status):
    fake = FakeHarness(post_answers=[(status, {"Retry-After": "0"}, {"error": "busy"})])
    with serving(fake) as url:
        summary = post_submissions(SUBMISSIONS, url, "s3cret", progress=False)
    assert [body["build"]["id"] for _, _, body in fake.posts] == ["b0", "b0", "b1", "b2"]
    assert {path for path, _, _ in fake.posts} == {"/api/v1/submissions"}
    assert {auth for _, auth, _ in fake.posts} == {"Bearer s3cret"}
    assert (summary.accepted, summary.rejected, summary.retries) == (3, 0, 1)
    assert summary.submission_ids == ("s2", "s3", "s4")
    assert summary.errors == ()


def test_an_invalid_submission_is_counted_not_retried():
    problem = {"error": "invalid", "details": [{"path": "measurements[0].value", "message": "x"}]}
    fake = FakeHarness(post_answers=[(422, {"Retry-After": "0"}, problem)])
    with serving(fake) as url:
        summary = post_submissions(SUBMISSIONS, url, "s3cret", progress=False)
    assert len(fake.posts) == 3
    assert (summary.accepted, summary.rejected, summary.retries) == (2, 1, 0)
    assert len(summary.submission_ids) == 2
    [error] = summary.errors
    assert (error.index, error.build_id, error.status) == (0, "b0", 422)
    assert json.loads(error.body)["details"][0]["path"] == "measurements[0].value"


def test_a_harness_that_stays_unavailable_stops_the_posting():
    fake = FakeHarness(post_answers=[(503, {"Retry-After": "0"}, {})] * 3)
    with serving(fake) as url, pytest.raises(DeliveryError, match="HTTP 503") as raised:
        post_submissions(SUBMISSIONS, url, "s3cret", progress=False, retries=2)
    assert len(fake.posts) == 3
    assert raised.value.summary.accepted == 0


def test_connection_errors_are_retried_with_backoff():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryError, match="ConnectionError") as raised:
        post_submissions(
            SUBMISSIONS, f"http://127.0.0.1:{port}", "t", progress=False, retries=2, backoff=0.01
        )
    assert raised.value.summary.retries == 2


def test_waiting_polls_until_every_submission_is_done_or_failed():
    fake = FakeHarness(states={"a": ["queued", "queued", "done"], "b": ["failed"]})
    with serving(fake) as url:
        states = wait_until_processed(url, ["a", "b"], timeout=10, interval=0.01)
    assert states == {"a": "done", "b": "failed"}
    assert fake.gets.count("/api/v1/submissions/a") == 3


def test_waiting_gives_up_after_the_timeout():
    fake = FakeHarness(states={"a": ["queued"]})
    with serving(fake) as url, pytest.raises(TimeoutError, match="1 of 1"):
        wait_until_processed(url, ["a"], timeout=0.2, interval=0.02)
