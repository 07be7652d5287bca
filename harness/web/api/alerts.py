"""GET /alerts, GET /alerts/<id>, POST /alerts/<id>/{acknowledge,resolve,invalidate}."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args
from urllib.parse import urlencode

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from kombu.exceptions import KombuError
from werkzeug.datastructures import MultiDict

from harness.alerting.alerts import ACTIONS, Alert, AlertKind, AlertState, Severity
from harness.alerting.routes import anyone_listens
from harness.errors import BrokerUnavailable, InvalidInput, NotFound, Problem
from harness.links import ALERTS
from harness.web.api.auth import require_scope
from harness.web.api.params import alert_json, query_problems, triage_note
from harness.web.context import WebContext, context
from workers import CHECK_MISSING, NOTIFY_ALERT, SCAN_CHANGE_POINTS

bp = Blueprint("alerts", __name__)
STATES: tuple[str, ...] = get_args(AlertState)
KINDS: tuple[str, ...] = get_args(AlertKind)
SEVERITIES: tuple[str, ...] = get_args(Severity)
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 100, 1000, 1_000_000_000
FILTERS = ("state", "metric", "kind", "severity", "build", "branch")
PARAMETERS = (*FILTERS, "limit", "offset")
DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII digits only (int() takes others, and spaces)


@dataclass(frozen=True)
class ListQuery:
    """The filters and the page of an alert list, as the query string gave them."""

    given: Mapping[str, str]  # the filters given, in the query's order
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @property
    def build(self) -> tuple[str, str] | None:
        """`build=<ci>/<id>` as (ci, id)."""
        text = self.given.get("build")
        if text is None:
            return None
        ci, _, build_id = text.partition("/")
        return ci, build_id

    def next_url(self) -> str:
        """The URL of the page after this one: the same filters and limit."""
        return f"{ALERTS}?" + urlencode(
            {**self.given, "limit": self.limit, "offset": self.offset + self.limit})


def parse_list_query(args: MultiDict[str, str]) -> ListQuery:
    """The query of `GET /alerts`; InvalidInput naming each unknown, repeated or bad
    parameter."""
    problems = query_problems(args, PARAMETERS, "alert list",
                              {"state": STATES, "kind": KINDS, "severity": SEVERITIES})
    ci, _, build_id = args.get("build", "x/x").partition("/")
    if not ci or not build_id:
        problems.append(Problem("build", "must be <ci>/<id>, e.g. jenkins/1234"))
    limit = _integer(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, problems)
    offset = _integer(args, "offset", 0, 0, MAX_OFFSET, problems)
    if problems:
        raise InvalidInput(problems, "bad query")
    return ListQuery({name: value for name, value in args.items() if name in FILTERS},
                     limit, offset)


def _integer(args: MultiDict[str, str], name: str, default: int, least: int, most: int,
             problems: list[Problem]) -> int:
    """A whole-number parameter within bounds (its default when absent)."""
    text = args.get(name)
    if text is None:
        return default
    if DIGITS.fullmatch(text) is None or not least <= int(text) <= most:
        problems.append(Problem(name, f"must be a whole number from {least} to {most}"))
        return default
    return int(text)


@bp.get("/alerts")
def index() -> ResponseReturnValue:
    """Alerts, newest first, a page at a time: `?state=&metric=&kind=&severity=&branch=`,
    `build=<ci>/<id>`, `limit=` (100, at most 1000), `offset=`; `links.next` while there
    are more."""
    query = parse_list_query(request.args)
    given = query.given
    found = context().alert_log().find(
        state=given.get("state"), metric=given.get("metric"), kind=given.get("kind"),
        build=query.build, severity=given.get("severity"), branch=given.get("branch"))
    page = found[query.offset:query.offset + query.limit]
    links = {"next": query.next_url()} if query.offset + query.limit < len(found) else {}
    return {"alerts": [alert_json(alert) for alert in page], "total": len(found), "links": links}


@bp.get("/alerts/<alert_id>")
def show(alert_id: str) -> ResponseReturnValue:
    """One alert with its history of state changes."""
    return alert_json(context().alert_log().get(alert_id))


@bp.post("/alerts/<alert_id>/<action>")
@require_scope("triage")
def triage(alert_id: str, action: str) -> ResponseReturnValue:
    """Acknowledge, resolve or invalidate an alert; 409 when its state does not allow it."""
    if action not in ACTIONS:
        raise NotFound(f"no action {action!r} (acknowledge, resolve, invalidate)")
    body = request.get_json(silent=True)
    note = triage_note(body) if isinstance(body, dict) else ""
    ctx = context()
    alert = ctx.alert_log().transition(alert_id, ACTIONS[action], g.token.name, note)
    _follow_up(ctx, alert, ACTIONS[action])
    return alert_json(alert)


def _follow_up(ctx: WebContext, alert: Alert, event: str) -> None:
    """Tell Slack about a state change of an alert it was told about."""
    if anyone_listens(ctx.settings) and alert.worth_a_message:
        ctx.celery.send_task(NOTIFY_ALERT, args=[alert.to_json(), event], retry=False)


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
