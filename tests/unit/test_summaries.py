"""Alert summaries on literal alerts (harness.alerting.summaries): one row per cause, its
state and severity, a stable id; and the one Slack follow-up of a triage step on several
alerts (harness.alerting.triage_messages, delivery.notify_triage_once)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, cast

import pytest
import redis

from harness.alerting.alerts import Alert, AlertState, alert_id
from harness.alerting.delivery import notified_key, notify_once, notify_triage_once
from harness.alerting.summaries import (
    Cause,
    cause_of,
    find_summary,
    select,
    split_for,
    summarize,
    summary_state,
    worst_severity,
)
from harness.alerting.triage_messages import triage_message

PUBLIC = "http://harness.example.org"
METRICS = ("pipe_tasks.runtime", "pipe_tasks.wall_time", "pipe_tasks.peak_memory",
           "pipe_tasks.n_sources")
DATASETS = ("hsc_rc2", "dc2_test_med")
JOINTCAL = {"package": "jointcal", "from": "c1", "to": "c2", "kind": "changed",
            "url": "https://github.com/lsst/jointcal"}


def build_time(build: int) -> str:
    """The time of nightly build `build` (one a day)."""
    return f"2026-09-{1 + build // 24:02d}T{build % 24:02d}:00:00+00:00"


def excursion(metric: str, dataset: str, onset: int = 25, noticed: int = 28,
              kind: str = "regression", branch: str = "main", **fields: Any) -> Alert:
    """An excursion alert of one series that began at build `onset`, noticed at `noticed`."""
    dimensions = {"dataset": dataset}
    values: dict[str, Any] = {
        "id": alert_id(metric, dimensions, branch, f"jenkins/n{onset:03d}", kind),
        "kind": kind, "severity": "warning" if kind == "regression" else "info",
        "metric": metric, "dimensions": dimensions, "branch": branch, "build_ci": "jenkins",
        "build_id": f"n{noticed:03d}", "time": build_time(noticed), "reason": "it moved",
        "started_build": f"n{onset:03d}", "started_time": build_time(onset),
        "build_url": f"https://ci.example.org/n{noticed:03d}", "commit": f"c{noticed}",
        "changes": (JOINTCAL,),
    }
    return Alert(**(values | fields))


def spec(metric: str, dataset: str, build: int = 40, severity: str = "critical",
         **fields: Any) -> Alert:
    """A spec alert noticed (and begun) at build `build`."""
    dimensions = {"dataset": dataset}
    values: dict[str, Any] = {
        "id": alert_id(metric, dimensions, "main", f"jenkins/n{build:03d}", "spec"),
        "kind": "spec", "severity": severity, "metric": metric, "dimensions": dimensions,
        "branch": "main", "build_ci": "jenkins", "build_id": f"n{build:03d}",
        "time": build_time(build), "reason": "fails its spec",
        "build_url": f"https://ci.example.org/n{build:03d}", "commit": f"c{build}",
    }
    return Alert(**(values | fields))


def step_in_eight_series() -> list[Alert]:
    """One step at build 25 in 4 metrics × 2 datasets, each series noticing it on its own
    build (26 to 33)."""
    return [excursion(metric, dataset, noticed=26 + index)
            for index, (metric, dataset) in enumerate(
                (m, d) for m in METRICS for d in DATASETS)]


# --- grouping ----------------------------------------------------------------------------

def test_the_same_onset_in_eight_series_is_one_summary_of_eight() -> None:
    alerts = step_in_eight_series()

    [summary] = summarize(alerts)

    assert len(summary.alerts) == 8
    assert {alert.id for alert in summary.alerts} == {alert.id for alert in alerts}
    assert summary.counts == {metric: 2 for metric in sorted(METRICS)}
    assert summary.kind == "regression" and summary.cause.direction == "regression"
    assert summary.started_build == "n025"
    # the onset build: no alert was noticed there, so no url or commit is known for it
    assert summary.build == {"ci": "jenkins", "id": "n025", "time": build_time(25),
                             "url": None, "commit": None}
    assert summary.changes == [JOINTCAL]  # the package change, once
    data = summary.to_json()
    assert json.loads(json.dumps(data)) == data
    assert [alert["id"] for alert in data["alerts"]] == [alert.id for alert in summary.alerts]


def test_the_onset_build_carries_the_url_and_commit_of_alerts_noticed_there() -> None:
    alerts = [spec(metric, dataset) for metric in METRICS[:2] for dataset in DATASETS]

    [summary] = summarize(alerts)

    assert summary.build == {"ci": "jenkins", "id": "n040", "time": build_time(40),
                             "url": "https://ci.example.org/n040", "commit": "c40"}
    assert summary.started_build is None  # spec alerts begin where they are noticed
    assert summary.severity == "critical"


@pytest.mark.parametrize(("other", "why"), [
    (excursion(METRICS[0], "hsc_rc2", kind="improvement"), "another direction"),
    (excursion(METRICS[0], "hsc_rc2", onset=39, noticed=42), "a step two weeks later"),
    (excursion(METRICS[0], "hsc_rc2", branch="release"), "another branch"),
    (excursion(METRICS[0], "hsc_rc2", build_ci="github-actions"), "another CI's build"),
    (spec(METRICS[0], "hsc_rc2", build=25), "a spec alert of the onset build"),
    (excursion(METRICS[0], "hsc_rc2", kind="changepoint"), "a change point"),
])
def test_another_kind_direction_onset_or_branch_is_another_summary(other: Alert,
                                                                    why: str) -> None:
    summaries = summarize([*step_in_eight_series(), other])

    assert sorted(len(summary.alerts) for summary in summaries) == [1, 8], why
    assert len({summary.id for summary in summaries}) == 2


def test_spec_alerts_of_one_build_split_by_severity() -> None:
    critical = [spec(metric, "hsc_rc2") for metric in METRICS[:3]]
    warning = [spec(metric, "dc2_test_med", severity="warning") for metric in METRICS]

    summaries = summarize([*critical, *warning])

    assert sorted((s.cause.direction, len(s.alerts)) for s in summaries) == [
        ("critical", 3), ("warning", 4)]


def test_change_points_group_by_their_start_and_direction() -> None:
    up = [excursion(m, "hsc_rc2", kind="changepoint", severity="warning", noticed=25)
          for m in METRICS]
    down = excursion(METRICS[0], "dc2_test_med", kind="changepoint", severity="info",
                     noticed=25)

    summaries = summarize([*up, down])

    assert sorted((s.cause.direction, len(s.alerts)) for s in summaries) == [
        ("improvement", 1), ("regression", 4)]


def test_a_missing_data_alert_groups_by_the_last_build_seen() -> None:
    gap = [spec(metric, "hsc_rc2", kind="missing", severity="warning") for metric in METRICS]
    [summary] = summarize(gap)
    assert cause_of(gap[0]) == Cause("main", "missing", "missing", "jenkins", "n040")
    assert len(summary.alerts) == 4


def test_summaries_come_newest_onset_first() -> None:
    later = [excursion(m, "hsc_rc2", onset=39, noticed=42) for m in METRICS]
    spec_alerts = [spec(m, "hsc_rc2", build=33) for m in METRICS]

    summaries = summarize([*step_in_eight_series(), *spec_alerts, *later])

    assert [s.cause.build_id for s in summaries] == ["n039", "n033", "n025"]


# --- identity ----------------------------------------------------------------------------

def test_the_id_is_stable_as_alerts_join_and_whatever_their_order() -> None:
    alerts = step_in_eight_series()
    first = summarize(alerts[:1])[0].id

    ids = {summarize(alerts[:count])[0].id for count in range(1, 9)}
    ids.add(summarize(list(reversed(alerts)))[0].id)

    assert ids == {first}
    assert len(first) == 20 and int(first, 16) >= 0
    assert find_summary(alerts, first) is not None
    assert find_summary(alerts, "0" * 20) is None


def test_the_id_does_not_depend_on_the_noticing_build_or_the_state() -> None:
    one = excursion(METRICS[0], "hsc_rc2", noticed=27)
    other = replace(excursion(METRICS[1], "hsc_rc2", noticed=31), state="resolved")
    assert summarize([one])[0].id == summarize([other])[0].id


# --- state and severity -----------------------------------------------------------------

@pytest.mark.parametrize(("states", "expected"), [
    (["open", "resolved", "invalid"], "open"),
    (["acknowledged", "open"], "open"),
    (["acknowledged", "resolved", "invalid"], "acknowledged"),
    (["resolved", "invalid", "invalid"], "resolved"),
    (["invalid", "invalid"], "invalid"),
    (["resolved"], "resolved"),
])
def test_the_state_comes_from_the_alerts(states: list[AlertState], expected: str) -> None:
    alerts = [replace(alert, state=state)
              for alert, state in zip(step_in_eight_series(), states, strict=False)]
    assert summary_state(states) == expected
    assert summarize(alerts)[0].state == expected


def test_the_severity_is_the_worst() -> None:
    assert worst_severity(["info", "warning"]) == "warning"
    assert worst_severity(["warning", "critical", "info"]) == "critical"
    assert worst_severity(["info"]) == "info"
    alerts = step_in_eight_series()
    alerts[3] = replace(alerts[3], severity="critical")
    assert summarize(alerts)[0].severity == "critical"


def test_select_filters_by_state_kind_and_metric() -> None:
    acknowledged = [replace(a, state="acknowledged") for a in step_in_eight_series()]
    spec_alerts = [spec(METRICS[0], dataset) for dataset in DATASETS]
    summaries = summarize([*acknowledged, *spec_alerts])

    assert [s.kind for s in select(summaries, state="open")] == ["spec"]
    assert [s.kind for s in select(summaries, kind="regression")] == ["regression"]
    assert len(select(summaries, metric=METRICS[0])) == 2
    assert [s.kind for s in select(summaries, metric=METRICS[3])] == ["regression"]
    assert select(summaries, state="acknowledged", kind="spec") == []


def test_a_step_leaves_alone_the_alerts_whose_state_does_not_allow_it() -> None:
    alerts = step_in_eight_series()
    alerts[0] = replace(alerts[0], state="resolved")
    alerts[1] = replace(alerts[1], state="acknowledged")

    moved, left = split_for(alerts, "acknowledged")
    assert [a.id for a in left] == [alerts[0].id, alerts[1].id]
    assert len(moved) == 6
    moved, left = split_for(alerts, "resolved")
    assert [a.id for a in left] == [alerts[0].id]


# --- one follow-up per step ---------------------------------------------------------------

def acknowledged(alerts: list[Alert]) -> list[Alert]:
    """The alerts as acknowledged by `people` with a note."""
    step = {"event": "acknowledged", "time": "2026-10-01T00:00:00Z", "actor": "people",
            "note": "jointcal DM-1"}
    return [replace(a, state="acknowledged", history=(*a.history, step)) for a in alerts]


def test_the_follow_up_is_one_message_linking_the_summary_and_each_alert() -> None:
    alerts = acknowledged(step_in_eight_series())
    summary = summarize(alerts)[0]

    message = triage_message(alerts, "acknowledged", PUBLIC, summary.id)

    text = json.dumps(message, ensure_ascii=False)
    assert message["text"].startswith("Acknowledged: Regression: 8 alerts on main since "
                                      "jenkins n025")
    assert f"{PUBLIC}/dash/alert-summaries/{summary.id}" in text
    assert all(f"{PUBLIC}/dash/alerts/{alert.id}" in text for alert in alerts)
    assert "by people · jointcal DM-1" in text
    many = triage_message(alerts * 3, "acknowledged", PUBLIC)
    assert "… and 9 more" in json.dumps(many, ensure_ascii=False)
    assert many["text"].startswith("Acknowledged: 24 alerts ·")
    with pytest.raises(ValueError, match="opened"):
        triage_message(alerts, "opened", PUBLIC)
    spec_alerts = [spec(metric, "hsc_rc2") for metric in METRICS[:2]]
    assert triage_message(spec_alerts, "invalid", PUBLIC, summarize(spec_alerts)[0].id)[
        "text"].startswith("Marked invalid: Spec not met (critical): 2 alerts on main in "
                           "jenkins n040")


class FakeRedis:
    """The few Redis commands the once-only delivery uses, on a dict."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def set(self, key: str, value: str, nx: bool = False, ex: int | None = None) -> bool:
        if nx and key in self.data:
            return False
        self.data[key] = value
        return True

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def mget(self, keys: list[str]) -> list[str | None]:
        return [self.data.get(key) for key in keys]

    def mset(self, values: dict[str, str]) -> bool:
        self.data.update(values)
        return True

    def delete(self, *keys: str) -> int:
        return sum(self.data.pop(key, None) is not None for key in keys)


def test_a_step_on_several_alerts_is_told_once_and_never_again_alone() -> None:
    fake = FakeRedis()
    client = cast(redis.Redis, fake)
    sent: list[Any] = []
    recorded: list[tuple[str, str]] = []
    alerts = acknowledged(step_in_eight_series())
    told_alone = alerts[0]  # its own follow-up went out before
    fake.data[notified_key(told_alone.id, "acknowledged")] = "sent"
    options: dict[str, Any] = {"client": client, "webhook_url": "http://slack.invalid/x",
                               "public_url": PUBLIC, "send": lambda _, m: sent.append(m),
                               "record": lambda a, e: recorded.append((a, e))}
    summary_id = summarize(alerts)[0].id

    assert notify_triage_once(alerts, "acknowledged", summary_id, **options) == "sent"
    assert notify_triage_once(alerts, "acknowledged", summary_id, **options) == "already sent"
    assert notify_once(alerts[3], "acknowledged", **options) == "already sent"

    [message] = sent
    assert told_alone.id not in json.dumps(message)
    assert message["text"].startswith("Acknowledged: Regression: 7 alerts")
    assert sorted(recorded) == sorted((a.id, "acknowledged") for a in alerts[1:])
    assert notify_triage_once(alerts, "resolved", summary_id, **options) == "sent"
    assert len(sent) == 2
    assert notify_triage_once(alerts, "acknowledged", None, **options | {
        "webhook_url": None}) == "disabled"
