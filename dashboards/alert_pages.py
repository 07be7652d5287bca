"""The triage pages: the alert summaries (one row per cause, expandable to its alerts, with
bulk triage), the old one-row-per-alert list, and one summary's page with its series as
small multiples around the onset."""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from dashboards import queries
from dashboards.multiples import Panel, small_multiples
from dashboards.page import embed, page
from dashboards.shaping import ms, series_label, specs_for
from dashboards.triage import needs_reading, row_of
from harness.alerting.alerts import Alert, AlertKind, AlertState
from harness.alerting.summaries import Summary, find_summary, select, summarize
from harness.catalog import Catalog
from harness.errors import InvalidInput, NotFound, Problem
from harness.links import api_summary_url, summary_url
from harness.model import utcnow
from harness.storage.influx import InfluxStore
from harness.times import parse_utc
from harness.web.context import context

bp = Blueprint("dash_alerts", __name__)
STATES = (*get_args(AlertState), "all")
KINDS = get_args(AlertKind)
VIEWS = ("summaries", "alerts")
BEFORE, AFTER = 20, 12  # builds of each series drawn before the onset, and from it on
RECENT_DAYS, MAX_DAYS = 30, 36_500  # closed alerts the alerts page reads: changed this recently
MAX_PANELS = 60  # small multiples on one page; the alerts table lists every series


@bp.get("/alerts")
def alerts_index() -> ResponseReturnValue:
    """Alert summaries (one row per cause), or with `view=alerts` one row per alert;
    filtered by state (default open), kind and metric. It reads the alerts open or
    acknowledged and those changed in the last `days` (RECENT_DAYS): a closed alert older
    than that costs nothing here, and `days=` reaches back further."""
    state, kind, metric, view = _filters()
    chosen = {"state": None if state == "all" else state, "kind": kind, "metric": metric}
    crumbs = [("Overview", "/dash/"), ("Alerts", None)]
    days = _days()
    found = context().alert_log().recent(utcnow() - timedelta(days=days))
    if view == "alerts":
        listed = [alert for alert in found
                  if all(value is None or getattr(alert, key) == value
                         for key, value in chosen.items())]
        return page("alert_list.html", crumbs, alerts=listed, state=state, args=request.args,
                    query=request.args.to_dict(), days=days)
    everything = summarize(found)
    rows = [row_of(summary) for summary in select(everything, **chosen)]
    return page("alerts.html", crumbs, state=state, args=request.args,
                query=request.args.to_dict(),
                attention=[row for row in rows if row.paged],
                improvements=[row for row in rows if not row.paged],
                unread=needs_reading(everything),
                open_alerts=sum(1 for alert in found if alert.state == "open"), days=days)


@bp.get("/summaries/<summary_id>")
def summary(summary_id: str) -> ResponseReturnValue:
    """One cause: its series as small multiples around the onset, the package changes of
    the onset build, its owner, its alerts, and triage of them all in one click."""
    ctx = context()
    alert_log = ctx.alert_log()
    # the summaries of the alerts page first; one of an older cause from the whole log
    found = find_summary(alert_log.recent(utcnow() - timedelta(days=RECENT_DAYS)), summary_id) \
        or find_summary(alert_log.find(), summary_id)
    if found is None:
        raise NotFound(f"no alert summary {summary_id!r}")
    panels = _panels(found, ctx.store, ctx.full_catalog())
    plot = small_multiples(panels[:MAX_PANELS], ms(found.onset_time)) if panels else None
    record = ctx.store.build_record(found.cause.ci, found.cause.build_id)
    previous, changes = (queries.changes_of(ctx.store, record) if record
                         else (None, [dict(change) for change in found.changes]))
    row = row_of(found)
    return page("summary.html", [("Overview", "/dash/"), ("Alerts", "/dash/alerts"),
                                 (f"{found.kind} {found.id[:8]}", None)],
                row=row, summary=found, plot=embed(plot), panels=len(panels),
                shown=min(len(panels), MAX_PANELS), before=BEFORE, after=AFTER,
                changes=changes, previous=previous and previous.build,
                onset_stored=record is not None, actions=row.actions,
                triage_endpoint=api_summary_url(found.id), api_link=api_summary_url(found.id))


@bp.get("/alert-summaries/<summary_id>")
def old_summary(summary_id: str) -> ResponseReturnValue:
    """Where a summary's page used to be (links in Slack messages already sent)."""
    return redirect(summary_url(summary_id), 301)


def _panels(found: Summary, store: InfluxStore, catalog: Catalog) -> list[Panel]:
    """One panel per series of the summary's alerts, in their order, that has points."""
    windows = queries.around(store, list(found.counts), found.cause.branch,
                             parse_utc(found.onset_time), before=BEFORE, after=AFTER)
    by_series = {(w.metric, tuple(sorted(w.dimensions.items()))): w for w in windows}
    first: dict[tuple[str, tuple[tuple[str, str], ...]], Alert] = {}
    for alert in found.alerts:
        first.setdefault((alert.metric, tuple(sorted(alert.dimensions.items()))), alert)
    panels = []
    for key, alert in first.items():
        window = by_series.get(key)
        if window is None or not window.history.rows:
            continue
        metric = catalog.get(alert.metric)
        panels.append(Panel(
            f"{alert.metric} · {series_label(alert.dimensions) or 'all'}",
            window.history.columns(),
            specs_for(metric, alert.dimensions) if metric else (),
            unit=metric.unit if metric else alert.unit,
            noticed=ms(alert.time), noticed_value=alert.value))
    return panels


def _days() -> int:
    """The `days=` of the query (RECENT_DAYS when absent); InvalidInput when not a whole
    number from 1 to MAX_DAYS."""
    text = request.args.get("days")
    if not text:
        return RECENT_DAYS
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise InvalidInput([Problem("days", f"must be a whole number from 1 to {MAX_DAYS}")],
                           "bad filter: days")
    return int(text)


def _filters() -> tuple[str, str | None, str | None, str]:
    """state, kind, metric and view of the query; InvalidInput naming a bad value."""
    args = request.args
    state = args.get("state") or "open"
    kind = args.get("kind") or None
    view = args.get("view") or "summaries"
    problems = [Problem(name, f"must be one of {', '.join(allowed)}")
                for name, value, allowed in (("state", state, STATES), ("view", view, VIEWS),
                                             ("kind", kind or KINDS[0], KINDS))
                if value not in allowed]
    if problems:
        raise InvalidInput(problems, "bad filter: " + ", ".join(p.path for p in problems))
    return state, kind, args.get("metric") or None, view
