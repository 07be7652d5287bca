"""GET /alerts, GET /alerts/<id>, POST /alerts/<id>/{acknowledge,resolve,invalidate}."""

from __future__ import annotations

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from kombu.exceptions import KombuError

from harness.alerting.alerts import Alert
from harness.alerting.log import AlertLog
from harness.errors import BrokerUnavailable, InvalidInput, NotFound, Problem
from harness.links import ALERTS, alert_url, api_alert_url, api_build_url
from harness.web.api.auth import require_scope
from harness.web.context import WebContext, context
from workers import CHECK_MISSING, NOTIFY_ALERT, SCAN_CHANGE_POINTS

bp = Blueprint("alerts", __name__)
ACTIONS = {"acknowledge": "acknowledged", "resolve": "resolved", "invalidate": "invalid"}
STATES = ("open", "acknowledged", "resolved", "invalid")


@bp.get("/alerts")
def index() -> ResponseReturnValue:
    """Alerts, newest first; `?state=open&metric=…&kind=…`."""
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise InvalidInput([Problem("state", f"must be one of {', '.join(STATES)}")],
                           "bad query")
    alerts = AlertLog(context().store).find(
        state=state, metric=request.args.get("metric"), kind=request.args.get("kind"))
    return {"alerts": [_json(alert) for alert in alerts]}


@bp.get("/alerts/<alert_id>")
def show(alert_id: str) -> ResponseReturnValue:
    """One alert with its history of state changes."""
    return _json(AlertLog(context().store).get(alert_id))


@bp.post("/alerts/<alert_id>/<action>")
@require_scope("triage")
def triage(alert_id: str, action: str) -> ResponseReturnValue:
    """Acknowledge, resolve or invalidate an alert; 409 when its state does not allow it."""
    if action not in ACTIONS:
        raise NotFound(f"no action {action!r} (acknowledge, resolve, invalidate)")
    body = request.get_json(silent=True) or {}
    note = body.get("note", "") if isinstance(body, dict) else ""
    if not isinstance(note, str) or len(note) > 2000:
        raise InvalidInput([Problem("note", "must be a string of at most 2000 characters")])
    ctx = context()
    alert = AlertLog(ctx.store).transition(alert_id, ACTIONS[action], g.token.name, note)
    _follow_up(ctx, alert, ACTIONS[action])
    return _json(alert)


def _follow_up(ctx: WebContext, alert: Alert, event: str) -> None:
    """Tell Slack about a state change of an alert it was told about."""
    if ctx.settings.slack_webhook_url and alert.worth_a_message:
        ctx.celery.send_task(NOTIFY_ALERT, args=[alert.to_json(), event], retry=False)


def _json(alert: Alert) -> dict[str, object]:
    data = alert.to_json()
    data["links"] = {"self": api_alert_url(alert.id),
                     "build": api_build_url(alert.build_ci, alert.build_id),
                     "dashboard": alert_url(alert.id)}
    return data


SCANS = {"missing": CHECK_MISSING, "change-points": SCAN_CHANGE_POINTS}


@bp.post("/scans/<name>")
@require_scope("triage")
def scan(name: str) -> ResponseReturnValue:
    """Run a scheduled check now (`missing`, `change-points`); alerts appear when done."""
    if name not in SCANS:
        raise NotFound(f"no scan {name!r} ({', '.join(SCANS)})")
    try:
        context().celery.send_task(SCANS[name], retry=False)
    except (KombuError, OSError) as error:
        raise BrokerUnavailable(f"the broker did not take the scan: {error}") from None
    return {"scan": name, "queued": True, "alerts_url": ALERTS}, 202
