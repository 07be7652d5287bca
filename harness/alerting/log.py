"""Alerts as an event log in InfluxDB (`alert_events`): the current state is the last event."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from harness.alerting.alerts import EXCURSION_KINDS, TRANSITIONS, Alert, state_after
from harness.alerting.index import LIVE_STATES, AlertIndex, Entry
from harness.errors import HarnessError, NotFound
from harness.model import utcnow
from harness.storage.influx import InfluxStore, Series
from harness.storage.lineprotocol import Line
from harness.times import nanoseconds, parse_utc, point_time, time_literal

EVENTS = "alert_events"
# fields some events carry besides actor and note: a reassignment's target summary and
# relation, a summary's owner (harness.alerting.summaries, harness.alerting.ownership)
EVENT_FIELDS = ("summary", "relation", "assignee", "bug_url")


MANY = 100  # ids in one read past which it is POSTed (a URL has a length limit)


class TransitionRefused(HarnessError):
    """A triage step that the alert's current state does not allow."""

    status = 409


def opened_point(alert: Alert) -> Line:
    """The `opened` event, timed at the build its identity names (where an excursion began,
    else the alert's build), so that judging again overwrites it, whichever build noticed."""
    named = alert.started_time if alert.kind in EXCURSION_KINDS and alert.started_time \
        else alert.time
    return Line(EVENTS, {"alert": alert.id, "metric": alert.metric}, {
        "event": "opened", "kind": alert.kind, "severity": alert.severity,
        "series": alert.series, "build_id": alert.build_id,
        "build_time": nanoseconds(parse_utc(alert.time)),
        "document": json.dumps(alert.to_json() | {"history": []}),
    }, nanoseconds(parse_utc(named)))


def event_point(alert: Alert, event: str, actor: str, note: str, when: datetime,
                fields: Mapping[str, str] | None = None) -> Line:
    """One later event of an alert (acknowledged, resolved, invalid, reopened, notified,
    reassigned, owned), with the fields of its kind (EVENT_FIELDS)."""
    return Line(EVENTS, {"alert": alert.id, "metric": alert.metric},
                {"event": event, "actor": actor, "note": note, **(fields or {})},
                nanoseconds(when))


class AlertLog:
    """Reads and appends alert events."""

    def __init__(self, store: InfluxStore, index: AlertIndex | None = None) -> None:
        self.store = store
        self.index = index  # None: every read scans the log (tools, tests)

    def open(self, alerts: Iterable[Alert]) -> int:
        """Write the `opened` events of new alerts in one request (indexed before and
        after: harness.alerting.index)."""
        alerts = list(alerts)
        self.joined(alerts)
        written = self.store.write(opened_point(alert) for alert in alerts)
        self.joined(alerts)
        return written

    def joined(self, alerts: Iterable[Alert], live: bool = True) -> None:
        """Index alerts that are (or are about to be) written open or reopened."""
        if self.index is not None:
            self.index.add(Entry.of(alert, live) for alert in alerts)

    def closed(self, alerts: Sequence[Alert]) -> None:
        """Drop from the live index those of these alerts whose log shows them closed."""
        if self.index is None or not alerts:
            return
        revision = self.index.revision()
        states = self.states([alert.id for alert in alerts])
        self.index.remove([Entry.of(alert, False) for alert in alerts
                           if states.get(alert.id) not in LIVE_STATES], revision)

    def record(self, alert_id: str, event: str, actor: str = "", note: str = "",
               when: datetime | None = None, metric: str = "") -> None:
        """Append one event (acknowledged, resolved, invalid, notified); tagged with the
        alert's metric so that reads filtered by metric see every event."""
        self.store.write([Line(EVENTS, {"alert": alert_id, "metric": metric},
                               {"event": event, "actor": actor, "note": note},
                               nanoseconds(when or utcnow()))])

    def transition(self, alert_id: str, event: str, actor: str, note: str = "") -> Alert:
        """Move an alert to a new state if its current state allows it."""
        alert = self.get(alert_id)
        if alert.state not in TRANSITIONS[event]:
            raise TransitionRefused(f"alert {alert_id} is {alert.state}; it cannot be {event}")
        self.record(alert_id, event, actor, note, metric=alert.metric)
        self.closed([alert])
        return self.get(alert_id)

    def transition_many(self, alerts: Sequence[Alert], event: str, actor: str, note: str = "",
                        when: datetime | None = None) -> tuple[list[Alert], list[Alert]]:
        """Move each of these alerts (as read) whose state allows it to a new state, in one
        write: (the alerts moved, the alerts left alone). Should an alert have changed since
        it was read, its log stays sound: an event its state does not allow changes nothing."""
        moved = [alert for alert in alerts if alert.state in TRANSITIONS[event]]
        moment = when or utcnow()
        self.store.write(event_point(alert, event, actor, note, moment) for alert in moved)
        self.closed(moved)
        return moved, [alert for alert in alerts if alert.state not in TRANSITIONS[event]]

    def annotate(self, alerts: Sequence[Alert], event: str, actor: str,
                 fields: Mapping[str, str], note: str = "", when: datetime | None = None
                 ) -> None:
        """Append an event that changes no state (reassigned, owned) to each of these
        alerts, in one write."""
        if event in TRANSITIONS or set(fields) - set(EVENT_FIELDS):
            raise ValueError(f"not an annotation: {event!r} with {sorted(fields)}")
        moment = when or utcnow()
        self.store.write(event_point(alert, event, actor, note, moment, fields)
                         for alert in alerts)

    def get(self, alert_id: str) -> Alert:
        """One alert with its history; NotFound if there is none."""
        found = self._alerts("WHERE alert = $alert", {"alert": alert_id})
        if not found:
            raise NotFound(f"no alert {alert_id!r}")
        return found[0]

    def get_many(self, alert_ids: Sequence[str]) -> dict[str, Alert]:
        """Alert id → the alert with its history, for those of these ids that exist (one
        query)."""
        if not alert_ids:
            return {}
        ids = {f"a{index}": alert for index, alert in enumerate(dict.fromkeys(alert_ids))}
        found = self._alerts("WHERE " + " OR ".join(f"alert = ${key}" for key in ids), ids,
                             method="POST" if len(ids) > MANY else "GET")
        return {alert.id: alert for alert in found}

    def find(self, state: str | None = None, metric: str | None = None,
             kind: str | None = None, build: tuple[str, str] | None = None,
             metrics: Sequence[str] | None = None, severity: str | None = None,
             branch: str | None = None) -> list[Alert]:
        """Alerts, newest build first, filtered by state, metric(s), kind, build, severity
        or branch (each exactly; None: any). Open or acknowledged ones are read through the
        index when there is one; any other state reads the log of the metrics."""
        names = sorted(set(metrics or ())) if metric is None else [metric]
        if metric is None and metrics is not None and not names:
            return []
        params = {f"m{index}": name for index, name in enumerate(names)}
        clause = ("WHERE " + " OR ".join(f"metric = ${key}" for key in params)) if names else ""
        if state in LIVE_STATES and self.index is not None:  # the live ones, not the log
            alerts = [alert for alert in self.live() if not names or alert.metric in names]
        else:
            alerts = self._alerts(clause, params)
        return [
            alert for alert in alerts
            if (state is None or alert.state == state) and (kind is None or alert.kind == kind)
            and (build is None or (alert.build_ci, alert.build_id) == build)
            and (severity is None or alert.severity == severity)
            and (branch is None or alert.branch == branch)
        ]

    def states(self, alert_ids: Sequence[str]) -> dict[str, str]:
        """Alert id → its current state, for those that exist (light fields only)."""
        if not alert_ids:
            return {}
        ids = {f"a{index}": alert for index, alert in enumerate(alert_ids)}
        found = self.store.query(
            f"SELECT event FROM {EVENTS} WHERE "
            + " OR ".join(f"alert = ${key}" for key in ids) + " GROUP BY alert", ids,
            method="POST" if len(ids) > MANY else "GET")
        states: dict[str, str] = {}
        for item in found:
            rows, opened = _log(item)
            if opened is not None:
                states[item.tags["alert"]] = state_after(rows)
        return states

    def of_series(self, series: Collection[str], metrics: Iterable[str], noticed_from: int
                  ) -> list[Alert]:
        """What judging these series needs: their spec alerts open or acknowledged, their
        acknowledged regressions, and every alert of theirs noticed at or after a time (ns),
        which judging them again may confirm, change or withdraw. With an index, only the
        documents of their live alerts and of those noticed since are read."""
        if self.index is None:
            return self._of_series_scan(series, metrics, noticed_from)
        found = self._indexed(lambda index: index.of_series(series, noticed_from))
        return [alert for alert in found if alert.series in series and _needed(
            alert.kind, alert.state, _noticed(alert), noticed_from)]

    def live(self) -> list[Alert]:
        """The alerts open or acknowledged, newest build first."""
        if self.index is None:
            return [alert for alert in self.find() if alert.state in LIVE_STATES]
        return [alert for alert in self._indexed(lambda index: index.live())
                if alert.state in LIVE_STATES]

    def recent(self, since: datetime) -> list[Alert]:
        """The alerts open or acknowledged, and those with an event at or after a time (a
        closed alert whose last change is older is left out), newest build first."""
        if self.index is None:
            return [alert for alert in self.find() if alert.state in LIVE_STATES
                    or max(parse_utc(event["time"]) for event in alert.history) >= since]
        found = self.store.query(f"SELECT event FROM {EVENTS} WHERE time >= $since "
                                 "GROUP BY alert", {"since": time_literal(since)})
        changed = {item.tags["alert"] for item in found}
        return self._indexed(lambda index: index.live() | changed)

    def of_series_newest(self, series: str, newest: int) -> list[Alert]:
        """A series' alerts open or acknowledged, and the `newest` it noticed."""
        if self.index is None:
            return [alert for alert in self.find(metric=series.split("|", 1)[0])
                    if alert.series == series]
        return [alert for alert in self._indexed(
            lambda index: index.of_series([series], newest=newest)) if alert.series == series]

    def build_index(self) -> int:
        """Build the index from the whole log (a one-off read of its light fields, for a log
        written before the index or after a restore); returns how many alerts it holds."""
        if self.index is None:
            return 0
        found = self.store.query(f'SELECT event, "series", build_time FROM {EVENTS} '
                                 "GROUP BY alert")
        entries = []
        for item in found:
            rows, opened = _log(item)
            if opened is not None and opened.get("series"):
                entries.append(Entry(item.tags["alert"], opened["series"],
                                     opened.get("build_time") or opened["time"],
                                     state_after(rows) in LIVE_STATES))
        self.index.add(entries, built=True)
        return len(entries)

    def _indexed(self, ids: Callable[[AlertIndex], Collection[str]]) -> list[Alert]:
        """The alerts the index names (built first if it is not), newest build first; those
        found closed leave its live sets."""
        index = self.index
        assert index is not None
        if not index.built():
            self.build_index()
        revision = index.revision()
        found = self.get_many(sorted(ids(index)))
        index.remove([Entry.of(alert, False) for alert in found.values()
                      if alert.state not in LIVE_STATES], revision)
        return sorted(found.values(), key=lambda alert: (alert.time, alert.id), reverse=True)

    def _of_series_scan(self, series: Collection[str], metrics: Iterable[str],
                        noticed_from: int) -> list[Alert]:
        """of_series without an index: the light fields of every alert of these metrics,
        then the documents of those wanted."""
        names = sorted(set(metrics))
        if not names:
            return []
        params = {f"m{index}": name for index, name in enumerate(names)}
        clause = " OR ".join(f"metric = ${key}" for key in params)
        found = self.store.query(f'SELECT event, kind, "series", build_time FROM {EVENTS} '
                                 f"WHERE {clause} GROUP BY alert", params)
        wanted = []
        for item in found:
            rows, opened = _log(item)
            if opened is None or opened.get("series") not in series:
                continue
            if _needed(opened.get("kind"), state_after(rows),
                       opened.get("build_time") or opened["time"], noticed_from):
                wanted.append(item.tags["alert"])
        return sorted(self.get_many(wanted).values(), key=lambda alert: (alert.time, alert.id),
                      reverse=True)

    def _alerts(self, clause: str, params: dict[str, Any], method: str = "GET"
                ) -> list[Alert]:
        series = self.store.query(
            f"SELECT * FROM {EVENTS} {clause} GROUP BY alert", params, method=method)
        alerts = []
        for item in series:
            rows, opened = _log(item)
            if opened is None:
                continue
            events = [_event(row) for row in rows]
            alerts.append(Alert.from_json(json.loads(opened["document"])).with_events(events))
        return sorted(alerts, key=lambda alert: (alert.time, alert.id), reverse=True)


def _needed(kind: str | None, state: str, noticed: int, noticed_from: int) -> bool:
    """Whether judging a series needs one of its alerts (AlertLog.of_series)."""
    return (kind == "spec" and state in LIVE_STATES) or (
        kind == "regression" and state == "acknowledged") or (
        noticed >= noticed_from and kind in ("spec", *EXCURSION_KINDS))


def _noticed(alert: Alert) -> int:
    """When the build that noticed an alert ran (ns)."""
    return nanoseconds(parse_utc(alert.time))


def _log(item: Series) -> tuple[list[Mapping[str, Any]], Mapping[str, Any] | None]:
    """An alert's events oldest first, and its `opened` event (None if it has none)."""
    rows = sorted(item.rows, key=lambda row: row["time"])
    return rows, next((row for row in rows if row.get("event") == "opened"), None)


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"event": row["event"], "time": point_time(row["time"]),
            "actor": row.get("actor") or "", "note": row.get("note") or "",
            **{name: row[name] for name in EVENT_FIELDS if row.get(name) is not None}}
