"""What the alert endpoints share in reading a request: a query string whose unknown,
repeated or out-of-list parameters are refused (decision 78), a triage note, where to move
an alert; and an alert and a summary as the API shows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.datastructures import MultiDict

from harness.alerting.alerts import Alert
from harness.alerting.summaries import RELATIONS, Summary, placement_of
from harness.errors import InvalidInput, Problem
from harness.links import alert_url, api_alert_url, api_build_url, api_summary_url, summary_url

MAX_NOTE = 2000  # characters of a triage note
MAX_ID = 200  # characters of an alert's or a summary's id


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


def placement_problems(body: Mapping[str, Any]) -> list[Problem]:
    """The problems of where a body moves alerts to: `summary` (an id) and `relation`
    (member, the default, or downstream)."""
    problems = []
    target = body.get("summary")
    if not isinstance(target, str) or not 0 < len(target) <= MAX_ID:
        problems.append(Problem("summary", "must be the id of an alert summary"))
    if body.get("relation", "member") not in RELATIONS:
        problems.append(Problem("relation", f"must be one of {', '.join(RELATIONS)}"))
    return problems


def naming(what: str, names: Sequence[str]) -> str:
    """An error's summary that names what is wrong (the first ten)."""
    shown = list(dict.fromkeys(name or "(the body)" for name in names))
    more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    return f"{what}: {', '.join(shown[:10])}{more}"


def alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as GET /alerts/<id> gives it, with its links (and, when a person moved it,
    the summary it was moved to)."""
    data = alert.to_json()
    data["links"] = {"self": api_alert_url(alert.id),
                     "build": api_build_url(alert.build_ci, alert.build_id),
                     "dashboard": alert_url(alert.id)}
    placement = placement_of(alert)
    if placement is not None:
        data["reassigned"] = {"summary": placement.summary, "relation": placement.relation}
        data["links"]["summary"] = api_summary_url(placement.summary)
    return data


def summary_json(summary: Summary) -> dict[str, Any]:
    """A summary as the API gives it: its alerts with their links, and its own links."""
    data = summary.to_json()
    data["alerts"] = [alert_json(alert) for alert in summary.alerts]
    data["downstream"] = [alert_json(alert) for alert in summary.downstream]
    data["links"] = {"self": api_summary_url(summary.id), "html": summary_url(summary.id)}
    return data
