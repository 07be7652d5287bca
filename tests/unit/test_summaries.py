"""Alert summaries on literal alerts (harness.alerting.summaries): one row per cause, its
state and severity, a stable id, alerts moved between summaries, an owner
(harness.alerting.ownership); and the one Slack follow-up of a triage step on several
alerts (harness.alerting.triage_messages, delivery.notify_triage_once)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, cast

import pytest
import redis

from harness.alerting.alerts import Alert, AlertState, alert_id
from harness.alerting.delivery import notified_key, notify_once, notify_triage_once
from harness.alerting.ownership import Ownership, owner_change
from harness.alerting.summaries import (
    Cause,
    Placement,
    cause_of,
    find_summary,
    placement_of,
    reassignment_problem,
    select,
    split_for,
    summarize,
    summary_id_of,
    summary_state,
    worst_severity,
)
from harness.alerting.triage_messages import triage_message
from harness.errors import InvalidInput

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
    assert f"{PUBLIC}/dash/summaries/{summary.id}" in text
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


# --- moving alerts between summaries (reassigned events) -----------------------------------

def moved(alert: Alert, summary_id: str, relation: str = "member",
          time: str = "2026-10-02T00:00:00Z") -> Alert:
    """The alert as a person moved it to a summary (a `reassigned` event at `time`)."""
    event = {"event": "reassigned", "time": time, "actor": "people", "note": "",
             "summary": summary_id, "relation": relation}
    return replace(alert, history=(*alert.history, event))


def test_an_alert_moved_into_a_summary_is_one_of_its_alerts_and_not_of_its_own() -> None:
    step = step_in_eight_series()
    stray = excursion(METRICS[0], "hsc_rc2", onset=27, noticed=29)  # a cause of its own
    target = summarize(step)[0].id
    assert len(summarize([*step, stray])) == 2

    [summary] = summarize([*step, moved(stray, target)])

    assert summary.id == target and len(summary.alerts) == 9
    assert summary.counts[METRICS[0]] == 3
    assert summary.downstream == ()
    # where it began is still the summary's own onset, not the stray's
    assert summary.build["id"] == "n025" and summary.onset_time == build_time(25)
    assert placement_of(moved(stray, target)) == Placement(target, "member")
    assert summary_id_of(moved(stray, target)) == target


def test_a_moved_alert_keeps_its_summary_open_as_a_member() -> None:
    step = [replace(alert, state="acknowledged") for alert in step_in_eight_series()]
    stray = excursion(METRICS[0], "hsc_rc2", onset=27, noticed=29, severity="critical")
    target = summarize(step)[0].id

    [summary] = summarize([*step, moved(stray, target)])

    assert (summary.state, summary.severity) == ("open", "critical")


def test_a_downstream_alert_is_listed_apart_and_leaves_state_severity_and_counts() -> None:
    step = [replace(alert, state="acknowledged") for alert in step_in_eight_series()]
    effect = excursion("dm_latency.calProcTime", "hsc_rc2", onset=26, noticed=27,
                       severity="critical")
    target = summarize(step)[0].id

    [summary] = summarize([*step, moved(effect, target, "downstream")])

    assert [alert.id for alert in summary.downstream] == [effect.id]
    assert len(summary.alerts) == 8 and "dm_latency.calProcTime" not in summary.counts
    assert (summary.state, summary.severity) == ("acknowledged", "warning")
    assert [a.id for a in summary.every_alert][-1] == effect.id  # triage reaches it too
    assert select([summary], metric="dm_latency.calProcTime") == [summary]
    data = summary.to_json()
    assert [alert["id"] for alert in data["downstream"]] == [effect.id]


def test_the_latest_move_wins_and_a_move_to_its_own_cause_undoes_it() -> None:
    step = step_in_eight_series()
    stray = excursion(METRICS[0], "hsc_rc2", onset=27, noticed=29)
    target, own = summarize(step)[0].id, cause_of(stray).id
    there = moved(stray, target, time="2026-10-02T00:00:00Z")
    back = moved(there, own, time="2026-10-03T00:00:00Z")

    assert placement_of(back) is None and summary_id_of(back) == own
    assert sorted(len(s.alerts) for s in summarize([*step, back])) == [1, 8]
    downstream = moved(back, target, "downstream", time="2026-10-04T00:00:00Z")
    [summary] = summarize([*step, downstream])
    assert [a.id for a in summary.downstream] == [stray.id]


def test_an_alert_moved_to_a_summary_that_is_gone_stays_with_its_own_cause() -> None:
    step = step_in_eight_series()
    stray = excursion(METRICS[0], "hsc_rc2", onset=27, noticed=29)
    other = spec(METRICS[1], "hsc_rc2")
    gone = summarize([other])[0].id
    # the only alert of `gone` moved away, into the step's summary
    step_id = summarize(step)[0].id

    summaries = summarize([*step, moved(other, step_id), moved(stray, gone)])

    assert sorted((s.id, len(s.alerts)) for s in summaries) == sorted(
        [(step_id, 9), (cause_of(stray).id, 1)])


def test_a_move_is_refused_to_an_unknown_summary_or_downstream_of_its_own_cause() -> None:
    step = step_in_eight_series()
    stray = excursion(METRICS[0], "hsc_rc2", onset=27, noticed=29)
    summaries = summarize([*step, stray])
    target, own = summarize(step)[0].id, cause_of(stray).id
    assert {target, own} == {s.id for s in summaries}

    assert reassignment_problem(stray, target, "member", summaries) is None
    assert reassignment_problem(stray, target, "downstream", summaries) is None
    assert reassignment_problem(stray, own, "member", summaries) is None  # undoing a move
    assert reassignment_problem(stray, "0" * 20, "member", summaries) == (
        "summary", f"no alert summary {'0' * 20!r}")
    assert reassignment_problem(stray, own, "downstream", summaries) == (
        "relation", "an alert cannot be downstream of its own cause")
    assert reassignment_problem(stray, target, "sideways", summaries) == (
        "relation", "must be one of member, downstream")


# --- ownership (owned events) -------------------------------------------------------------

def owned(alerts: list[Alert], summary_id: str, time: str, assignee: str = "",
          bug_url: str = "", actor: str = "people") -> list[Alert]:
    """The alerts with an `owned` event naming the summary."""
    event = {"event": "owned", "time": time, "actor": actor, "note": "",
             "summary": summary_id, "assignee": assignee, "bug_url": bug_url}
    return [replace(alert, history=(*alert.history, event)) for alert in alerts]


def test_a_summary_has_no_owner_until_one_is_set() -> None:
    [summary] = summarize(step_in_eight_series())
    assert summary.owner == Ownership()
    data = summary.to_json()
    assert (data["assignee"], data["bug_url"], data["owner_changed"]) == (None, None, None)


def test_the_latest_owner_naming_the_summary_wins() -> None:
    alerts = step_in_eight_series()
    summary_id = summarize(alerts)[0].id
    alerts = owned(alerts, summary_id, "2026-10-01T00:00:00Z", "Jane Doe <jd@example.org>",
                   "https://jira.example.org/browse/DM-1")
    alerts = owned(alerts, summary_id, "2026-10-02T00:00:00Z", "Joe Bloggs",
                   "https://jira.example.org/browse/DM-1", actor="triager")
    alerts[:2] = owned(alerts[:2], "0" * 20, "2026-10-03T00:00:00Z", "someone else")

    [summary] = summarize(alerts)

    assert summary.owner == Ownership("Joe Bloggs", "https://jira.example.org/browse/DM-1",
                                      "triager", "2026-10-02T00:00:00Z")
    data = summary.to_json()
    assert (data["assignee"], data["bug_url"]) == ("Joe Bloggs",
                                                   "https://jira.example.org/browse/DM-1")
    assert data["owner_changed"] == {"by": "triager", "time": "2026-10-02T00:00:00Z"}
    cleared = summarize(owned(alerts, summary_id, "2026-10-04T00:00:00Z"))[0]
    assert (cleared.owner.assignee, cleared.owner.bug_url) == (None, None)


def test_a_change_of_owner_keeps_what_it_leaves_out_and_null_clears() -> None:
    current = Ownership("Jane Doe", "https://bugs.example.org/1", "people", "t")

    assert owner_change({"bug_url": "http://bugs.example.org/2"}, current) == Ownership(
        "Jane Doe", "http://bugs.example.org/2")
    assert owner_change({"assignee": None}, current) == Ownership(
        None, "https://bugs.example.org/1")
    assert owner_change({"assignee": " Jo ", "bug_url": None}, current) == Ownership("Jo")
    assert owner_change({"assignee": "x" * 200}, Ownership()).fields() == {
        "assignee": "x" * 200, "bug_url": ""}


@pytest.mark.parametrize(("body", "paths"), [
    ({}, [""]),
    ({"assignee": "Jo", "owner": "Jo", "colour": 1}, ["owner", "colour"]),
    ({"assignee": ""}, ["assignee"]),
    ({"assignee": "   "}, ["assignee"]),
    ({"assignee": "x" * 201}, ["assignee"]),
    ({"assignee": "Jo\nDoe"}, ["assignee"]),
    ({"assignee": "Jo\u2028Doe"}, ["assignee"]),
    ({"assignee": 7}, ["assignee"]),
    ({"bug_url": "ftp://bugs.example.org/1"}, ["bug_url"]),
    ({"bug_url": "DM-1"}, ["bug_url"]),
    ({"bug_url": "https://"}, ["bug_url"]),
    ({"bug_url": "https://bugs.example.org/a b"}, ["bug_url"]),
    ({"bug_url": "https://bugs.example.org/a|b"}, ["bug_url"]),
    ({"bug_url": "https://bugs.example.org:99999/1"}, ["bug_url"]),
    ({"bug_url": "https://b.example.org/" + "x" * 2000}, ["bug_url"]),
    ({"assignee": None, "bug_url": ["https://b.example.org"]}, ["bug_url"]),
])
def test_a_bad_owner_names_each_field_at_fault(body: dict[str, Any], paths: list[str]) -> None:
    with pytest.raises(InvalidInput) as error:
        owner_change(body, Ownership())
    assert [problem.path for problem in error.value.problems] == paths


def test_the_follow_up_of_an_owned_summary_names_the_assignee_and_the_bug() -> None:
    alerts = step_in_eight_series()
    summary_id = summarize(alerts)[0].id
    alerts = acknowledged(owned(alerts, summary_id, "2026-09-30T00:00:00Z",
                                "Jane <jd@example.org>", "https://jira.example.org/DM-1?a=1"))

    message = triage_message(alerts, "acknowledged", PUBLIC, summary_id)

    [context] = [block for block in message["blocks"] if block["type"] == "context"]
    assert [element["text"] for element in context["elements"]] == [
        "by people · jointcal DM-1",
        "assigned to Jane &lt;jd@example.org&gt; · <https://jira.example.org/DM-1?a=1|bug link>"]
    unowned = triage_message(acknowledged(step_in_eight_series()), "acknowledged", PUBLIC,
                             summary_id)
    assert "assigned to" not in json.dumps(unowned)


# --- onsets that noise split -------------------------------------------------------------

def test_a_series_whose_onset_came_out_a_build_early_joins_the_others() -> None:
    # the estimate put one series' onset at build 24, a build before the step
    early = excursion(METRICS[0], "hsc_rc2", onset=24, noticed=30)
    alerts = [*step_in_eight_series()[1:], early]

    [summary] = summarize(alerts)

    assert len(summary.alerts) == 8 and early in summary.alerts
    assert summary.id == cause_of(alerts[0]).id  # named by the onset most alerts share
    assert summary.build["id"] == "n025" and summary.onset_time == build_time(25)
    assert find_summary(alerts, cause_of(early).id) is None


def test_onsets_apart_by_more_than_the_first_confirmation_stay_apart() -> None:
    # build 27 comes after build 26, where the step of build 25 was first confirmed
    later = excursion(METRICS[0], "hsc_rc2", onset=27, noticed=29)
    assert len(summarize([*step_in_eight_series(), later])) == 2


def test_nearby_onsets_of_other_metrics_or_kinds_are_other_causes() -> None:
    other_metric = excursion("dm_latency.calProcTime", "hsc_rc2", onset=24, noticed=30)
    improvement = excursion(METRICS[0], "hsc_rc2", onset=24, noticed=30, kind="improvement")
    nearby_spec = spec(METRICS[0], "hsc_rc2", build=26)
    found = summarize([*step_in_eight_series(), other_metric, improvement, nearby_spec])
    assert sorted(len(summary.alerts) for summary in found) == [1, 1, 1, 8]


def test_of_two_equal_groups_the_earlier_names_the_cause() -> None:
    first = excursion(METRICS[2], "hsc_rc2", onset=36, noticed=50)
    second = excursion(METRICS[2], "dc2_test_med", onset=41, noticed=48)
    for alerts in ([first, second], [second, first]):
        [summary] = summarize(alerts)
        assert summary.id == cause_of(first).id and summary.build["id"] == "n036"
