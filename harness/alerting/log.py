"""Alerts as an event log in InfluxDB (`alert_events`): the current state is the last event."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from influxdb_client.client.write.point import Point

from harness.alerting.alerts import EXCURSION_KINDS, TRANSITIONS, Alert, state_after
from harness.errors import HarnessError, NotFound
from harness.model import utcnow
from harness.storage.influx import InfluxStore, Series
from harness.times import nanoseconds, parse_utc, point_time

EVENTS = "alert_events"
# fields some events carry besides actor and note: a reassignment's target summary and
# relation, a summary's owner (harness.alerting.summaries, harness.alerting.ownership)
EVENT_FIELDS = ("summary", "relation", "assignee", "bug_url")


class TransitionRefused(HarnessError):
    """A triage step that the alert's current state does not allow."""

    status = 409


def opened_point(alert: Alert) -> Point:
    """The `opened` event, timed at the build its identity names (where an excursion began,
    else the alert's build), so that judging again overwrites it, whichever build noticed."""
    named = alert.started_time if alert.kind in EXCURSION_KINDS and alert.started_time \
        else alert.time
    return (
        Point(EVENTS).tag("alert", alert.id).tag("metric", alert.metric)
        .field("event", "opened").field("kind", alert.kind).field("severity", alert.severity)
        .field("series", alert.series).field("build_id", alert.build_id)
        .field("build_time", nanoseconds(parse_utc(alert.time)))
        .field("document", json.dumps(alert.to_json() | {"history": []}))
        .time(nanoseconds(parse_utc(named)))
    )


def event_point(alert: Alert, event: str, actor: str, note: str, when: datetime,
                fields: Mapping[str, str] | None = None) -> Point:
    """One later event of an alert (acknowledged, resolved, invalid, reopened, notified,
    reassigned, owned), with the fields of its kind (EVENT_FIELDS)."""
    point = (Point(EVENTS).tag("alert", alert.id).tag("metric", alert.metric)
             .field("event", event).field("actor", actor).field("note", note))
    for name, value in (fields or {}).items():
        point = point.field(name, value)
    return point.time(nanoseconds(when))


class AlertLog:
    """Reads and appends alert events."""

    def __init__(self, store: InfluxStore) -> None:
        self.store = store

    def open(self, alerts: Iterable[Alert]) -> int:
        """Write the `opened` events of new alerts in one request."""
        return self.store.write(opened_point(alert) for alert in alerts)

    def record(self, alert_id: str, event: str, actor: str = "", note: str = "",
               when: datetime | None = None, metric: str = "") -> None:
        """Append one event (acknowledged, resolved, invalid, notified); tagged with the
        alert's metric so that reads filtered by metric see every event."""
        point = Point(EVENTS).tag("alert", alert_id)
        if metric:
            point = point.tag("metric", metric)
        self.store.write([
            point.field("event", event).field("actor", actor).field("note", note)
            .time(nanoseconds(when or utcnow()))
        ])

    def transition(self, alert_id: str, event: str, actor: str, note: str = "") -> Alert:
        """Move an alert to a new state if its current state allows it."""
        alert = self.get(alert_id)
        if alert.state not in TRANSITIONS[event]:
            raise TransitionRefused(f"alert {alert_id} is {alert.state}; it cannot be {event}")
        self.record(alert_id, event, actor, note, metric=alert.metric)
        return self.get(alert_id)

    def transition_many(self, alerts: Sequence[Alert], event: str, actor: str, note: str = "",
                        when: datetime | None = None) -> tuple[list[Alert], list[Alert]]:
        """Move each of these alerts (as read) whose state allows it to a new state, in one
        write: (the alerts moved, the alerts left alone). Should an alert have changed since
        it was read, its log stays sound: an event its state does not allow changes nothing."""
        moved = [alert for alert in alerts if alert.state in TRANSITIONS[event]]
        moment = when or utcnow()
        self.store.write(event_point(alert, event, actor, note, moment) for alert in moved)
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
        found = self._alerts("WHERE " + " OR ".join(f"alert = ${key}" for key in ids), ids)
        return {alert.id: alert for alert in found}

    def find(self, state: str | None = None, metric: str | None = None,
             kind: str | None = None, build: tuple[str, str] | None = None,
             metrics: Sequence[str] | None = None, severity: str | None = None,
             branch: str | None = None) -> list[Alert]:
        """Alerts, newest build first, filtered by state, metric(s), kind, build, severity
        or branch (each exactly; None: any)."""
        names = sorted(set(metrics or ())) if metric is None else [metric]
        if metric is None and metrics is not None and not names:
            return []
        params = {f"m{index}": name for index, name in enumerate(names)}
        clause = ("WHERE " + " OR ".join(f"metric = ${key}" for key in params)) if names else ""
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
            + " OR ".join(f"alert = ${key}" for key in ids) + " GROUP BY alert", ids)
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
        which judging them again may confirm, change or withdraw. Light fields first, so a
        submission does not read the documents of every alert its metrics ever had."""
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
            state, kind = state_after(rows), opened.get("kind")
            noticed = opened.get("build_time") or opened["time"]
            if (kind == "spec" and state in ("open", "acknowledged")) or (
                    kind == "regression" and state == "acknowledged") or (
                    noticed >= noticed_from and kind in ("spec", *EXCURSION_KINDS)):
                wanted.append(item.tags["alert"])
        if not wanted:
            return []
        ids = {f"a{index}": alert for index, alert in enumerate(wanted)}
        return self._alerts("WHERE " + " OR ".join(f"alert = ${key}" for key in ids), ids)

    def _alerts(self, clause: str, params: dict[str, Any]) -> list[Alert]:
        series = self.store.query(
            f"SELECT * FROM {EVENTS} {clause} GROUP BY alert", params)
        alerts = []
        for item in series:
            rows, opened = _log(item)
            if opened is None:
                continue
            events = [_event(row) for row in rows]
            alerts.append(Alert.from_json(json.loads(opened["document"])).with_events(events))
        return sorted(alerts, key=lambda alert: (alert.time, alert.id), reverse=True)


def _log(item: Series) -> tuple[list[Mapping[str, Any]], Mapping[str, Any] | None]:
    """An alert's events oldest first, and its `opened` event (None if it has none)."""
    rows = sorted(item.rows, key=lambda row: row["time"])
    return rows, next((row for row in rows if row.get("event") == "opened"), None)


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"event": row["event"], "time": point_time(row["time"]),
            "actor": row.get("actor") or "", "note": row.get("note") or "",
            **{name: row[name] for name in EVENT_FIELDS if row.get(name) is not None}}
