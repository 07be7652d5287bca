"""Posting native submissions to a harness over HTTP, and waiting until they are processed.

Deliberately light: requests and tqdm only (no numpy, flask, celery or bokeh), so CI clients
that only post start fast.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tqdm import tqdm

from harness.links import SUBMISSIONS

MAX_KEPT_ERRORS = 10
MAX_RETRY_AFTER = 120.0  # seconds; a longer Retry-After is capped, not obeyed blindly
TERMINAL_STATES = frozenset({"done", "failed"})  # submission states wait_until_processed ends on


@dataclass(frozen=True)
class PostError:
    """One rejected submission: its position, build id, HTTP status and response body."""

    index: int
    build_id: str
    status: int
    body: str


@dataclass(frozen=True)
class PostSummary:
    """What post_submissions did: accepted and rejected counts, ids, the first errors, retries."""

    accepted: int
    rejected: int
    submission_ids: tuple[str, ...]
    errors: tuple[PostError, ...]  # the first MAX_KEPT_ERRORS rejections
    retries: int


class DeliveryError(RuntimeError):
    """The harness stayed unreachable or unavailable for one submission after every retry."""

    def __init__(self, message: str, summary: PostSummary) -> None:
        super().__init__(message)
        self.summary = summary  # what was done before giving up


def post_submissions(
    submissions: Iterable[Mapping[str, Any]],
    url: str,
    token: str,
    *,
    progress: bool = True,
    session: requests.Session | None = None,
    retries: int = 6,
    backoff: float = 0.5,
    timeout: float = 30.0,
) -> PostSummary:
    """POST each submission to <url>/api/v1/submissions, retrying what is worth retrying."""
    endpoint = url.rstrip("/") + SUBMISSIONS
    headers = {"Authorization": f"Bearer {token}"}
    http = session if session is not None else requests.Session()
    accepted = rejected = retried = 0
    ids: list[str] = []
    errors: list[PostError] = []

    def summary() -> PostSummary:
        return PostSummary(accepted, rejected, tuple(ids), tuple(errors), retried)

    try:
        items = list(submissions)
        for index, submission in enumerate(
            tqdm(items, desc="posting", unit="submission", disable=not progress)
        ):
            build_id = str(submission.get("build", {}).get("id", ""))
            try:
                response, spent = _deliver(
                    http, endpoint, submission, headers, retries, backoff, timeout
                )
            except _Undelivered as failure:
                reason, spent = failure.args
                retried += spent
                message = f"submission {index} (build {build_id}): {reason}"
                raise DeliveryError(message, summary()) from None
            retried += spent
            if response.ok:
                accepted += 1
                submission_id = json_object(response).get("submission")
                if isinstance(submission_id, str):
                    ids.append(submission_id)
            else:
                rejected += 1
                if len(errors) < MAX_KEPT_ERRORS:
                    errors.append(PostError(index, build_id, response.status_code, response.text))
    finally:
        if session is None:
            http.close()
    return summary()


class _Undelivered(Exception):
    """No final answer after every retry; args are (reason, retries spent)."""


def _deliver(
    http: requests.Session,
    endpoint: str,
    submission: Mapping[str, Any],
    headers: Mapping[str, str],
    retries: int,
    backoff: float,
    timeout: float,
) -> tuple[requests.Response, int]:
    """POST one submission until it gets a final answer: (that answer, retries spent)."""
    reason = ""
    for attempt in range(retries + 1):
        wait = backoff * 2**attempt
        try:
            response = http.post(endpoint, json=submission, headers=headers, timeout=timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            # Re-posting a build replaces its measurements, so a lost answer is safe to retry.
            reason = f"{type(error).__name__}: {error}"
        else:
            if response.status_code != 429 and response.status_code < 500:
                return response, attempt
            response.close()
            reason = f"HTTP {response.status_code}"
            wait = _delay(response.headers.get("Retry-After"), wait)
        if attempt < retries:
            time.sleep(wait)
    raise _Undelivered(f"{reason} after {retries + 1} attempts", retries)


def _delay(retry_after: str | None, fallback: float) -> float:
    """Seconds to wait before the next attempt: the server's Retry-After, else the backoff."""
    if retry_after is None:
        return fallback
    try:
        seconds = float(retry_after)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(retry_after) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return fallback
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def json_object(response: requests.Response) -> dict[str, Any]:
    """A response's JSON body when it is an object, else {}."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def fetch_status(
    url: str,
    submission_id: str,
    *,
    token: str | None = None,
    session: requests.Session | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """GET one submission's status document; raises requests.RequestException on failure."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = session if session is not None else requests.Session()
    try:
        response = http.get(f"{url.rstrip('/')}/api/v1/submissions/{submission_id}",
                            headers=headers, timeout=timeout)
        with response:
            response.raise_for_status()
            return json_object(response)
    finally:
        if session is None:
            http.close()


def wait_until_processed(
    url: str,
    ids: Iterable[str],
    timeout: float = 300.0,
    *,
    token: str | None = None,
    session: requests.Session | None = None,
    interval: float = 0.5,
) -> dict[str, str]:
    """Poll each submission until its state is done or failed; raises TimeoutError."""
    base = url.rstrip("/") + SUBMISSIONS + "/"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = session if session is not None else requests.Session()
    deadline = time.monotonic() + timeout
    pending = deque(ids)
    states: dict[str, str] = {}
    try:
        # Workers take submissions roughly in order, so wait on the oldest one still pending.
        while pending:
            state = _state(http, base + pending[0], headers, timeout=min(30.0, timeout))
            if state in TERMINAL_STATES:
                states[pending.popleft()] = state
                continue
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{len(pending)} of {len(states) + len(pending)} submissions not processed"
                    f" after {timeout:g} s (first: {pending[0]})"
                )
            time.sleep(interval)
    finally:
        if session is None:
            http.close()
    return states


def _state(
    http: requests.Session, status_url: str, headers: Mapping[str, str], timeout: float
) -> str | None:
    try:
        response = http.get(status_url, headers=headers, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout):
        return None
    with response:
        state = json_object(response).get("state") if response.ok else None
    return state if isinstance(state, str) else None


def deliver_document(
    endpoint: str,
    document: Mapping[str, Any],
    token: str,
    *,
    session: requests.Session,
    retries: int = 6,
    backoff: float = 0.5,
    timeout: float = 30.0,
) -> requests.Response:
    """POST one document with post_submissions' retries: the final answer, or DeliveryError."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        response, _ = _deliver(session, endpoint, document, headers, retries, backoff, timeout)
    except _Undelivered as failure:
        reason, spent = failure.args
        raise DeliveryError(f"{endpoint}: {reason}", PostSummary(0, 0, (), (), spent)) from None
    return response


def states_by_digest(
    url: str,
    digest: str,
    token: str | None = None,
    *,
    session: requests.Session,
    retries: int = 6,
    backoff: float = 0.5,
    timeout: float = 30.0,
) -> list[str] | None:
    """States of the harness's submissions of a document digest; None if it cannot be asked."""
    endpoint = url.rstrip("/") + SUBMISSIONS
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reason = ""
    for attempt in range(retries + 1):
        wait = backoff * 2**attempt
        try:
            response = session.get(endpoint, params={"digest": digest}, headers=headers,
                                   timeout=timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            reason = f"{type(error).__name__}: {error}"
        else:
            with response:
                if response.status_code != 429 and response.status_code < 500:
                    found = json_object(response).get("submissions") if response.ok else None
                    if not isinstance(found, list):
                        return None  # a harness without the digest query
                    return [str(item.get("state")) for item in found if isinstance(item, dict)]
                reason = f"HTTP {response.status_code}"
                wait = _delay(response.headers.get("Retry-After"), wait)
        if attempt < retries:
            time.sleep(wait)
    message = f"{endpoint} (digest query): {reason} after {retries + 1} attempts"
    raise DeliveryError(message, PostSummary(0, 0, (), (), retries))
