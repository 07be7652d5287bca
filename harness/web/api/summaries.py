"""GET /alert-summaries, GET /alert-summaries/<id>,
POST /alert-summaries/<id>/{acknowledge,resolve,invalidate}, POST /alerts/bulk.

A summary is the alerts of one cause (harness.alerting.summaries), computed from the alert
log on every read; triage on a summary or on a hand-picked set is one write of the events
and one Slack follow-up."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, get_args

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from kombu.exceptions import KombuError
from werkzeug.datastructures import MultiDict

from harness.alerting.alerts import ACTIONS, Alert, AlertKind, AlertState
from harness.alerting.log import AlertLog
from harness.alerting.summaries import (
    Summary,
    cause_of,
    find_summary,
    select,
    summarize,
)
from harness.errors import InvalidInput, NotFound, Problem
from harness.links import api_summary_url, summary_url
from harness.web.api.auth import require_scope
from harness.web.api.params import alert_json, query_problems, triage_note
from harness.web.api.submissions import read_json
from harness.web.context import WebContext, context
from workers import NOTIFY_TRIAGE

log = logging.getLogger(__name__)

bp = Blueprint("summaries", __name__)
STATES: tuple[str, ...] = get_args(AlertState)
KINDS: tuple[str, ...] = get_args(AlertKind)
FILTERS = ("state", "kind", "metric")
MAX_TEXT = 200  # characters of a metric name in a filter
MAX_BULK = 200  # alerts one bulk request may name
BULK_FIELDS = ("ids", "action", "note")


@bp.get("/alert-summaries")
def index() -> ResponseReturnValue:
    """The summaries (one per cause), newest onset first: `?state=&kind=&metric=`."""
    filters = _filters(request.args)
    found = select(summarize(AlertLog(context().store).find()), **filters)
    return {"summaries": [_summary_json(summary) for summary in found]}


@bp.get("/alert-summaries/<summary_id>")
def show(summary_id: str) -> ResponseReturnValue:
    """One summary with its alerts."""
    return _summary_json(_summary(AlertLog(context().store), summary_id))


@bp.post("/alert-summaries/<summary_id>/<action>")
@require_scope("triage")
def triage(summary_id: str, action: str) -> ResponseReturnValue:
    """Acknowledge, resolve or invalidate every alert of a summary whose state allows it (in
    one write); the others are left alone. One Slack follow-up for those changed."""
    if action not in ACTIONS:
        raise NotFound(f"no action {action!r} ({', '.join(ACTIONS)})")
    body = request.get_json(silent=True)
    if body is not None and not isinstance(body, dict):
        raise InvalidInput([Problem("", "must be a JSON object")], "bad request body")
    note = triage_note(body or {})
    ctx = context()
    alert_log = AlertLog(ctx.store)
    summary = _summary(alert_log, summary_id)
    event = ACTIONS[action]
    moved, left = alert_log.transition_many(summary.alerts, event, g.token.name, note)
    fresh = alert_log.get_many([alert.id for alert in summary.alerts])
    now = Summary(summary.cause, tuple(fresh.get(alert.id, alert) for alert in summary.alerts))
    told = _follow_up(ctx, [fresh.get(alert.id, alert) for alert in moved], event, summary.id)
    return {"summary": _summary_json(now), **_outcome(action, event, moved, left, told)}


@bp.post("/alerts/bulk")
@require_scope("triage")
def bulk() -> ResponseReturnValue:
    """`{"ids": [...], "action": …, "note": …}`: one triage step on hand-picked alerts. Every
    id and the action are checked before anything is written (422 naming each problem);
    alerts whose state does not allow the step are left alone."""
    ids, action, note = _bulk_body(read_json())
    ctx = context()
    alert_log = AlertLog(ctx.store)
    found = alert_log.get_many(ids)
    unknown = [Problem(f"ids[{index}]", f"no alert {alert_id!r}")
               for index, alert_id in enumerate(ids) if alert_id not in found]
    if unknown:
        raise InvalidInput(unknown, _naming("unknown alert ids", [
            ids[index] for index, alert_id in enumerate(ids) if alert_id not in found]))
    event = ACTIONS[action]
    moved, left = alert_log.transition_many([found[alert_id] for alert_id in ids], event,
                                            g.token.name, note)
    fresh = {**found, **alert_log.get_many(ids)}
    causes = {cause_of(alert) for alert in moved}
    one = next(iter(causes)).id if len(causes) == 1 else None
    told = _follow_up(ctx, [fresh[alert.id] for alert in moved], event, one)
    return {"alerts": [alert_json(fresh[alert_id]) for alert_id in ids],
            **_outcome(action, event, moved, left, told)}


# --- pieces ----------------------------------------------------------------------------

def _filters(args: MultiDict[str, str]) -> dict[str, str]:
    """The list's filters; InvalidInput naming each unknown, repeated or bad parameter."""
    problems = query_problems(args, FILTERS, "summary list", {"state": STATES, "kind": KINDS})
    if "metric" in args and not 0 < len(args["metric"]) <= MAX_TEXT:
        problems.append(Problem("metric", f"must be a metric name of 1 to {MAX_TEXT} "
                                          "characters"))
    if problems:
        raise InvalidInput(problems, _naming("bad query parameters", [p.path for p in problems]))
    return {name: args[name] for name in FILTERS if name in args}


def _summary(alert_log: AlertLog, summary_id: str) -> Summary:
    """The summary with this id, computed from every alert; NotFound if none."""
    found = find_summary(alert_log.find(), summary_id)
    if found is None:
        raise NotFound(f"no alert summary {summary_id!r}")
    return found


def _bulk_body(body: Any) -> tuple[list[str], str, str]:
    """The ids (each once, in order), action and note of a bulk request; InvalidInput
    naming every problem."""
    if not isinstance(body, dict):
        raise InvalidInput([Problem("", "must be a JSON object")], "bad request body")
    problems = [Problem(key, f"not a field ({', '.join(BULK_FIELDS)})")
                for key in body if key not in BULK_FIELDS]
    ids = body.get("ids")
    if not isinstance(ids, list) or not 0 < len(ids) <= MAX_BULK:
        problems.append(Problem("ids", f"must be a list of 1 to {MAX_BULK} alert ids"))
        ids = []
    problems += [Problem(f"ids[{index}]", "must be an alert id (a non-empty string)")
                 for index, alert_id in enumerate(ids)
                 if not isinstance(alert_id, str) or not 0 < len(alert_id) <= MAX_TEXT]
    action = body.get("action")
    if action not in ACTIONS:
        problems.append(Problem("action", f"must be one of {', '.join(ACTIONS)}"))
    try:
        note = triage_note(body)
    except InvalidInput as error:
        problems += error.problems
        note = ""
    if problems:
        raise InvalidInput(problems, _naming("bad request body", [p.path for p in problems]))
    return list(dict.fromkeys(ids)), str(action), note


def _follow_up(ctx: WebContext, alerts: Sequence[Alert], event: str,
               summary_id: str | None) -> bool:
    """Queue one Slack follow-up for the changed alerts people hear of; whether one was."""
    told = [alert for alert in alerts if alert.worth_a_message]
    if not ctx.settings.slack_webhook_url or not told:
        return False
    try:
        ctx.celery.send_task(NOTIFY_TRIAGE, args=[[alert.to_json() for alert in told], event,
                                                  summary_id], retry=False)
    except (KombuError, OSError) as error:  # the step is written; only the message is lost
        log.warning("the follow-up of %s on %d alerts was not queued: %s", event, len(told),
                    error)
        return False
    return True


def _outcome(action: str, event: str, moved: Sequence[Alert], left: Sequence[Alert],
             told: bool) -> dict[str, Any]:
    """What a triage step changed, what it left alone, and whether Slack will hear."""
    return {"action": action, "event": event, "changed": [alert.id for alert in moved],
            "unchanged": [{"id": alert.id, "state": alert.state} for alert in left],
            "follow_up": told}


def _naming(what: str, names: Sequence[str]) -> str:
    """An error's summary that names what is wrong (the first ten)."""
    shown = list(dict.fromkeys(name or "(the body)" for name in names))
    more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    return f"{what}: {', '.join(shown[:10])}{more}"


def _summary_json(summary: Summary) -> dict[str, Any]:
    """A summary as the API gives it: its alerts with their links, and its own links."""
    data = summary.to_json()
    data["alerts"] = [alert_json(alert) for alert in summary.alerts]
    data["links"] = {"self": api_summary_url(summary.id), "html": summary_url(summary.id)}
    return data
