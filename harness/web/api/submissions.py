"""POST /submissions (ingest) and GET /submissions/<id> (status)."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from flask import Blueprint, g, request, url_for
from flask.typing import ResponseReturnValue
from kombu.exceptions import KombuError
from werkzeug.exceptions import RequestEntityTooLarge

from harness import jsonread
from harness.errors import (
    BrokerUnavailable,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    NotFound,
    Overloaded,
    Problem,
)
from harness.formats.job import parse_job
from harness.formats.native import ParsedSubmission, parse_submission
from harness.model import Submission, document_digest, utcnow
from harness.storage.blobs import BLOB_ID
from harness.web.api.auth import require_scope
from harness.web.context import WebContext, context
from workers import PROCESS_SUBMISSION

bp = Blueprint("submissions", __name__)


@bp.post("/submissions")
@require_scope("ingest")
def create() -> ResponseReturnValue:
    """Validate a native submission and queue it for judging."""
    ctx = context()
    body = read_json()
    parsed = parse_submission(body, ctx.full_catalog(), received=utcnow(),
                              max_measurements=ctx.settings.max_measurements,
                              auto_metrics=ctx.settings.auto_metrics)
    return accept(ctx, parsed, body), 202


@bp.post("/jobs")
@require_scope("ingest")
def create_job() -> ResponseReturnValue:
    """Validate an lsst.verify Job JSON document and queue it like a submission."""
    ctx = context()
    body = read_json()
    register = request.args.get("register", "").lower() in ("1", "true", "yes")
    if register and "admin" not in g.token.scopes:
        raise Forbidden(f"token {g.token.name!r} lacks the 'admin' scope that ?register needs")
    parsed = parse_job(body, ctx.full_catalog(), received=utcnow(),
                       branch=request.args.get("branch"), register=register,
                       max_measurements=ctx.settings.max_measurements)
    return accept(ctx, parsed, body), 202


def accept(ctx: WebContext, parsed: ParsedSubmission, body: Any) -> dict[str, Any]:
    """Register new inline metrics, queue the submission; the body of the 202 answer, with
    the keys that were dropped (`ignored`) when there are some."""
    ctx.registry.register(parsed.new_metrics)
    submission = enqueue(ctx, parsed.submission, document_digest(body))
    status_url = url_for("api.submissions.show", submission_id=submission.id)
    answer: dict[str, Any] = {"submission": submission.id, "status_url": status_url}
    if parsed.ignored:
        answer["ignored"] = [notice.to_json() for notice in parsed.ignored]
    return answer


@bp.get("/submissions")
def find() -> ResponseReturnValue:
    """Submissions of a document, by the SHA-256 of its canonical JSON (`?digest=`)."""
    digest = request.args.get("digest", "")
    if not BLOB_ID.match(digest):
        raise InvalidInput([Problem("digest", "must be a SHA-256 in hex")], "bad query")
    registry = context().registry
    found = []
    for submission_id in registry.submissions_of(digest):
        status = registry.status(submission_id)
        if status is not None:
            found.append({"submission": submission_id, "state": status["state"],
                          "status_url": url_for(".show", submission_id=submission_id)})
    return {"submissions": found}


@bp.get("/submissions/<submission_id>")
def show(submission_id: str) -> ResponseReturnValue:
    """The state of a submission, with its results once judged."""
    status = context().registry.status(submission_id)
    if status is None:
        raise NotFound(f"no submission {submission_id!r}")
    return {"submission": submission_id, **status}


def read_json() -> Any:
    """The request body as JSON; a body that is not JSON is a 400 naming why, one over the
    size limit a 413."""
    if not request.is_json:
        raise MalformedRequest([Problem("", "Content-Type must be application/json")],
                               "malformed request")
    data = request.get_data(cache=False)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        # a streamed (chunked) body is cut at the limit, silently: it was longer
        raise RequestEntityTooLarge()
    try:
        return jsonread.loads(data)
    except (ValueError, RecursionError) as error:
        raise MalformedRequest([Problem("", f"not valid JSON: {error}")],
                               "malformed request") from None


def enqueue(ctx: WebContext, submission: Submission, digest: str) -> Submission:
    """Record the submission and hand it to the broker; 503 if the broker refuses or
    the queue is longer than the configured limit."""
    depth = ctx.registry.queue_depth()
    if depth >= ctx.settings.max_queue_depth:
        raise Overloaded(f"{depth} tasks are waiting for a worker "
                         f"(limit {ctx.settings.max_queue_depth}); try again later")
    first_seen = ctx.registry.first_seen(submission.build.key, submission.received)
    submission = replace(submission, received=first_seen)
    ctx.registry.mark_queued(submission, digest)
    try:
        ctx.celery.send_task(PROCESS_SUBMISSION, args=[submission.to_json()],
                             task_id=submission.id, retry=False)
    except (KombuError, OSError) as error:
        with contextlib.suppress(BrokerUnavailable):  # Redis itself may be what failed
            ctx.registry.forget(submission.id)
        raise BrokerUnavailable(f"the broker did not take the work: {error}") from None
    return submission
