"""GET /alert-summaries, GET /alert-summaries/<id>,
POST /alert-summaries/<id>/{acknowledge,resolve,invalidate}, PUT /alert-summaries/<id>/owner,
POST /alerts/<id>/reassign, POST /alerts/bulk.

A summary is the alerts of one cause (harness.alerting.summaries), computed from the alert
log on every read; triage on a summary or on a hand-picked set is one write of the events
and one Slack follow-up. An owner, or a move of alerts to another summary, is one write of
events that change no state (decisions 84, 85)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, get_args

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from kombu.exceptions import KombuError
from werkzeug.datastructures import MultiDict

from harness.alerting.alerts import ACTIONS, OWNED, REASSIGNED, Alert, AlertKind, AlertState
from harness.alerting.log import AlertLog
from harness.alerting.ownership import owner_change
from harness.alerting.routes import anyone_listens
from harness.alerting.summaries import (
    Summary,
    cause_of,
    find_summary,
    reassignment_problem,
    select,
    summarize,
    summary_id_of,
)
from harness.errors import InvalidInput, NotFound, Problem
from harness.web.api.auth import require_scope
from harness.web.api.params import (
    MAX_ID,
    alert_json,
    naming,
    placement_problems,
    query_problems,
    summary_json,
    triage_note,
)
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
REASSIGN = "reassign"  # the bulk action that moves alerts to another summary
BULK_ACTIONS = (*ACTIONS, REASSIGN)
BULK_FIELDS = ("ids", "action", "note", "summary", "relation")
REASSIGN_FIELDS = ("summary", "relation", "note")


@bp.get("/alert-summaries")
def index() -> ResponseReturnValue:
    """The summaries (one per cause), newest onset first: `?state=&kind=&metric=`."""
    filters = _filters(request.args)
    found = select(summarize(context().alert_log().find()), **filters)
    return {"summaries": [summary_json(summary) for summary in found]}


@bp.get("/alert-summaries/<summary_id>")
def show(summary_id: str) -> ResponseReturnValue:
    """One summary with its alerts."""
    return summary_json(_summary(context().alert_log(), summary_id))


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
    alert_log = ctx.alert_log()
    summary = _summary(alert_log, summary_id)
    event = ACTIONS[action]
    moved, left = alert_log.transition_many(summary.every_alert, event, g.token.name, note)
    fresh = alert_log.get_many([alert.id for alert in summary.every_alert])
    told = _follow_up(ctx, [fresh.get(alert.id, alert) for alert in moved], event, summary.id)
    return {"summary": summary_json(summary.refreshed(fresh)),
            **_outcome(action, event, moved, left, told)}


@bp.put("/alert-summaries/<summary_id>/owner")
@require_scope("triage")
def set_owner(summary_id: str) -> ResponseReturnValue:
    """`{"assignee": …, "bug_url": …}`: who owns the summary and its bug link (a field left
    out stays, null clears it); one `owned` event on each of its alerts."""
    body = _object(read_json())
    alert_log = context().alert_log()
    summary = _summary(alert_log, summary_id)
    owner = owner_change(body, summary.owner)
    alert_log.annotate(summary.every_alert, OWNED, g.token.name,
                       {"summary": summary.id, **owner.fields()})
    fresh = alert_log.get_many([alert.id for alert in summary.every_alert])
    return summary_json(summary.refreshed(fresh))


@bp.post("/alerts/<alert_id>/reassign")
@require_scope("triage")
def reassign(alert_id: str) -> ResponseReturnValue:
    """`{"summary": …, "relation": "member"|"downstream", "note": …}`: move an alert into
    another summary's cause, or under it as a downstream effect; to its own cause's summary
    as a member, back where it began."""
    body = _object(read_json())
    problems = [Problem(key, f"not a field ({', '.join(REASSIGN_FIELDS)})")
                for key in body if key not in REASSIGN_FIELDS] + placement_problems(body)
    note = _note(body, problems)
    if problems:
        raise InvalidInput(problems, naming("bad request body", [p.path for p in problems]))
    alert_log = context().alert_log()
    alert = alert_log.get(alert_id)
    before = _holding(_move(alert_log, [alert], body, note, lambda _: "relation"), alert.id)
    here = _holding(summarize(alert_log.find()), alert.id)
    moved = next(a for a in here.every_alert if a.id == alert.id)
    return {"alert": alert_json(moved), "summary": summary_json(here), "from": before.id}


@bp.post("/alerts/bulk")
@require_scope("triage")
def bulk() -> ResponseReturnValue:
    """`{"ids": [...], "action": …, "note": …}`: one triage step on hand-picked alerts, or a
    move (`"action": "reassign"`, `summary`, `relation`). Every id and the action are
    checked before anything is written (422 naming each problem); alerts whose state does
    not allow the step are left alone."""
    body = read_json()
    ids, action, note = _bulk_body(body)
    ctx = context()
    alert_log = ctx.alert_log()
    found = alert_log.get_many(ids)
    unknown = [Problem(f"ids[{index}]", f"no alert {alert_id!r}")
               for index, alert_id in enumerate(ids) if alert_id not in found]
    if unknown:
        raise InvalidInput(unknown, naming("unknown alert ids", [
            ids[index] for index, alert_id in enumerate(ids) if alert_id not in found]))
    chosen = [found[alert_id] for alert_id in ids]
    if action == REASSIGN:
        _move(alert_log, chosen, body, note, lambda index: f"ids[{index}]")
        fresh = alert_log.get_many(ids)
        return {"alerts": [alert_json(fresh.get(alert_id, found[alert_id])) for alert_id in ids],
                **_outcome(action, REASSIGNED, chosen, [], False)}
    event = ACTIONS[action]
    moved, left = alert_log.transition_many(chosen, event, g.token.name, note)
    fresh = {**found, **alert_log.get_many(ids)}
    summaries = {summary_id_of(alert) for alert in moved}
    one = next(iter(summaries)) if len(summaries) == 1 and any(
        cause_of(alert).id in summaries for alert in moved) else None
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
        raise InvalidInput(problems, naming("bad query parameters", [p.path for p in problems]))
    return {name: args[name] for name in FILTERS if name in args}


def _summary(alert_log: AlertLog, summary_id: str) -> Summary:
    """The summary with this id, computed from every alert; NotFound if none."""
    found = find_summary(alert_log.find(), summary_id)
    if found is None:
        raise NotFound(f"no alert summary {summary_id!r}")
    return found


def _object(body: Any) -> dict[str, Any]:
    """A request body that must be a JSON object."""
    if not isinstance(body, dict):
        raise InvalidInput([Problem("", "must be a JSON object")], "bad request body")
    return body


def _note(body: dict[str, Any], problems: list[Problem]) -> str:
    """The body's triage note ("" when bad: the problem is added to `problems`)."""
    try:
        return triage_note(body)
    except InvalidInput as error:
        problems += error.problems
        return ""


def _bulk_body(body: Any) -> tuple[list[str], str, str]:
    """The ids (each once, in order), action and note of a bulk request (`summary` and
    `relation` too when the action is reassign); InvalidInput naming every problem."""
    body = _object(body)
    problems = [Problem(key, f"not a field ({', '.join(BULK_FIELDS)})")
                for key in body if key not in BULK_FIELDS]
    ids = body.get("ids")
    if not isinstance(ids, list) or not 0 < len(ids) <= MAX_BULK:
        problems.append(Problem("ids", f"must be a list of 1 to {MAX_BULK} alert ids"))
        ids = []
    problems += [Problem(f"ids[{index}]", "must be an alert id (a non-empty string)")
                 for index, alert_id in enumerate(ids)
                 if not isinstance(alert_id, str) or not 0 < len(alert_id) <= MAX_ID]
    action = body.get("action")
    if action not in BULK_ACTIONS:
        problems.append(Problem("action", f"must be one of {', '.join(BULK_ACTIONS)}"))
    elif action == REASSIGN:
        problems += placement_problems(body)
    else:
        problems += [Problem(key, f"only with the action {REASSIGN}")
                     for key in ("summary", "relation") if key in body]
    note = _note(body, problems)
    if problems:
        raise InvalidInput(problems, naming("bad request body", [p.path for p in problems]))
    return list(dict.fromkeys(ids)), str(action), note


def _holding(summaries: Sequence[Summary], alert_id: str) -> Summary:
    """The summary that lists this alert (as a member or downstream)."""
    return next(summary for summary in summaries
                if any(alert.id == alert_id for alert in summary.every_alert))


def _move(alert_log: AlertLog, alerts: Sequence[Alert], body: dict[str, Any], note: str,
          path: Callable[[int], str]) -> list[Summary]:
    """Write a `reassigned` event on each of these alerts, in one write, once every one
    may move (InvalidInput naming each that may not, at `path(index)`, or the summary);
    the summaries before the move."""
    target, relation = str(body["summary"]), str(body.get("relation", "member"))
    summaries = summarize(alert_log.find())
    problems: dict[Problem, None] = {}
    for index, alert in enumerate(alerts):
        why = reassignment_problem(alert, target, relation, summaries)
        if why is not None:
            field, message = why
            problems[Problem("summary" if field == "summary" else path(index), message)] = None
    if problems:
        raise InvalidInput(list(problems), naming("cannot move",
                                                  [p.message for p in problems]))
    alert_log.annotate(alerts, REASSIGNED, g.token.name,
                       {"summary": target, "relation": relation}, note)
    return summaries


def _follow_up(ctx: WebContext, alerts: Sequence[Alert], event: str,
               summary_id: str | None) -> bool:
    """Queue one Slack follow-up for the changed alerts people hear of; whether one was."""
    # the summary's own alerts first: the message names the cause of the first
    told = sorted((alert for alert in alerts if alert.worth_a_message),
                  key=lambda alert: cause_of(alert).id != summary_id)
    if not anyone_listens(ctx.settings) or not told:
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


