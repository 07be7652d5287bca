"""The one place where errors become HTTP answers."""

from __future__ import annotations

import logging

from flask import Flask
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from harness.errors import HarnessError, Problem, ServiceUnavailable

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Install the handlers that turn errors into JSON answers."""
    app.register_error_handler(HarnessError, _harness_error)
    app.register_error_handler(HTTPException, _http_error)


def _harness_error(error: HarnessError) -> ResponseReturnValue:
    body: dict[str, object] = {"error": getattr(error, "summary", None) or str(error)}
    problems = getattr(error, "problems", None)
    if problems:
        body["details"] = [problem.to_json() for problem in problems]
    headers = {}
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
        log.warning("answering 503: %s", error)
    if error.status >= 500 and not isinstance(error, ServiceUnavailable):
        log.exception("internal error")
        body = {"error": "internal error"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="harness"'
    return body, error.status, headers


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.code == 413:  # the body as a whole is the problem: path ""
        limit = "the body is larger than the configured limit (HARNESS_MAX_BODY_BYTES)"
        return {"error": limit, "details": [Problem("", limit).to_json()]}, 413
    return {"error": error.description or error.name}, error.code or 500
