"""What the alert endpoints share in reading a request: a query string whose unknown,
repeated or out-of-list parameters are refused (decision 78), a triage note, and an alert
as the API shows it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.datastructures import MultiDict

from harness.alerting.alerts import Alert
from harness.errors import InvalidInput, Problem
from harness.links import alert_url, api_alert_url, api_build_url

MAX_NOTE = 2000  # characters of a triage note


def query_problems(args: MultiDict[str, str], parameters: Sequence[str], listing: str,
                   choices: Mapping[str, Sequence[str]]) -> list[Problem]:
    """The problems of a query string: a parameter not among `parameters` (of `listing`),
    one given twice, a value not among its `choices`."""
    problems = [Problem(name, f"not a parameter of the {listing} ({', '.join(parameters)})")
                for name in args if name not in parameters]
    problems += [Problem(name, "given more than once") for name in args
                 if name in parameters and len(args.getlist(name)) > 1]
    problems += [Problem(name, f"must be one of {', '.join(allowed)}")
                 for name, allowed in choices.items()
                 if name in args and args[name] not in allowed]
    return problems


def triage_note(body: Mapping[str, Any]) -> str:
    """The optional note of a triage body; InvalidInput if it is not a short string."""
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise InvalidInput([Problem("note", f"must be a string of at most {MAX_NOTE} "
                                            "characters")])
    return note


def alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as GET /alerts/<id> gives it, with its links."""
    data = alert.to_json()
    data["links"] = {"self": api_alert_url(alert.id),
                     "build": api_build_url(alert.build_ci, alert.build_id),
                     "dashboard": alert_url(alert.id)}
    return data
