"""Alert identity and triage states on literal event logs (harness.alerting.alerts)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.alerting.alerts import (
    HARNESS_ACTOR,
    Alert,
    alert_id,
    last_step,
    series_key,
    state_after,
)

from .examples import DIMENSIONS, PA1, alert

EVENTS = ["opened", "acknowledged", "resolved", "invalid", "reopened", "notified"]


def log(*names: str, actor: str = "people") -> list[dict[str, Any]]:
    """An event log, oldest first."""
    return [{"event": name, "actor": actor, "note": "", "time": f"2026-11-2{i}T00:00:00Z"}
            for i, name in enumerate(names)]


# --- identity ---------------------------------------------------------------------------------


def test_a_series_key_is_metric_sorted_dimensions_and_branch() -> None:
    assert series_key("pkg.m", {"filter": "r", "dataset": "hsc"}, "main") == \
        "pkg.m|dataset=hsc|filter=r|main"
    assert series_key("pkg.m", {}, "main") == "pkg.m|main"


def test_the_order_of_dimensions_does_not_change_the_series() -> None:
    assert series_key("pkg.m", {"a": "1", "b": "2"}, "main") == \
        series_key("pkg.m", {"b": "2", "a": "1"}, "main")


def test_an_alert_id_is_stable_and_short() -> None:
    first = alert_id(PA1.name, DIMENSIONS, "main", "jenkins/105", "spec")
    assert first == alert_id(PA1.name, dict(reversed(DIMENSIONS.items())), "main",
                             "jenkins/105", "spec")
    assert len(first) == 20 and int(first, 16) >= 0


@pytest.mark.parametrize("change", [
    {"metric": "validate_drp.PA2"}, {"dimensions": {"dataset": "hsc_rc2", "filter": "i"}},
    {"branch": "release"}, {"build_key": "jenkins/106"}, {"build_key": "gha/105"},
    {"kind": "regression"},
])
def test_anything_that_names_the_alert_changes_its_id(change: dict[str, Any]) -> None:
    parts: dict[str, Any] = {"metric": PA1.name, "dimensions": DIMENSIONS, "branch": "main",
             "build_key": "jenkins/105", "kind": "spec"}
    assert alert_id(**parts) != alert_id(**{**parts, **change})


def test_an_alert_knows_its_series() -> None:
    assert alert().series == "validate_drp.PA1|dataset=hsc_rc2|filter=r|main"


# --- JSON ---------------------------------------------------------------------------------------


def test_an_alert_survives_json_with_its_changes_and_history() -> None:
    original = alert(changes=({"package": "pipe_tasks", "from": "a", "to": "b"},),
                     pull_request={"number": 4}, value=6.2).with_events(log("acknowledged"))
    data = original.to_json()
    assert data["changes"] == [{"package": "pipe_tasks", "from": "a", "to": "b"}]
    assert data["history"][0]["event"] == "acknowledged"
    assert Alert.from_json(data) == original


def test_reading_an_alert_ignores_keys_it_does_not_know() -> None:
    data = alert().to_json() | {"links": {"self": "/x"}, "added_later": 1}
    assert Alert.from_json(data) == alert()


def test_an_alert_written_without_changes_or_history_reads_back_with_none() -> None:
    data = {key: value for key, value in alert().to_json().items()
            if key not in ("changes", "history")}
    read = Alert.from_json(data)
    assert (read.changes, read.history, read.state) == ((), (), "open")


# --- triage states --------------------------------------------------------------------------


def test_an_alert_without_events_after_opening_is_open() -> None:
    assert state_after([]) == "open"
    assert state_after(log("opened", "notified")) == "open"


@pytest.mark.parametrize(("events", "state"), [
    (["opened", "acknowledged"], "acknowledged"),
    (["opened", "resolved"], "resolved"),
    (["opened", "acknowledged", "resolved"], "resolved"),
    (["opened", "invalid"], "invalid"),
    (["opened", "acknowledged", "invalid"], "invalid"),
    (["opened", "invalid", "reopened"], "open"),
    (["opened", "invalid", "reopened", "acknowledged"], "acknowledged"),
])
def test_the_last_allowed_transition_decides(events: list[str], state: str) -> None:
    assert state_after(log(*events)) == state


@pytest.mark.parametrize(("events", "state"), [
    (["opened", "acknowledged", "acknowledged"], "acknowledged"),
    (["opened", "resolved", "acknowledged"], "resolved"),
    (["opened", "resolved", "reopened"], "resolved"),
    (["opened", "reopened"], "open"),
    (["opened", "invalid", "acknowledged"], "invalid"),
    (["opened", "resolved", "invalid"], "resolved"),
])
def test_a_transition_the_state_does_not_allow_is_ignored(events: list[str], state: str) -> None:
    assert state_after(log(*events)) == state


@given(st.lists(st.sampled_from(EVENTS), max_size=12), st.lists(st.sampled_from(EVENTS),
                                                                max_size=12))
def test_nothing_after_resolved_changes_the_state(before: list[str], after: list[str]) -> None:
    assert state_after(log(*before, "resolved", *after)) == \
        ("resolved" if state_after(log(*before)) in ("open", "acknowledged")
         else state_after(log(*before, *after)))


@given(st.lists(st.sampled_from(EVENTS), max_size=15), st.data())
def test_notifications_never_change_the_state(events: list[str], data: st.DataObject) -> None:
    where = data.draw(st.integers(0, len(events)))
    assert state_after(log(*events[:where], "notified", *events[where:])) == \
        state_after(log(*events))
    assert state_after(log(*events)) in ("open", "acknowledged", "resolved", "invalid")


def test_with_events_sets_state_and_history_and_leaves_the_rest() -> None:
    original = alert()
    triaged = original.with_events(log("opened", "acknowledged"))
    assert triaged.state == "acknowledged" and len(triaged.history) == 2
    assert (triaged.id, triaged.reason) == (original.id, original.reason)
    assert original.state == "open"


def test_an_alert_the_harness_set_aside_is_withdrawn() -> None:
    assert alert().with_events(log("opened", "invalid", actor=HARNESS_ACTOR)).withdrawn


@pytest.mark.parametrize("events", [
    ["opened"], ["opened", "resolved"], ["opened", "invalid", "reopened"],
])
def test_an_alert_the_harness_did_not_set_aside_is_not_withdrawn(events: list[str]) -> None:
    assert not alert().with_events(log(*events, actor=HARNESS_ACTOR)).withdrawn


def test_an_alert_a_person_marked_invalid_is_not_withdrawn() -> None:
    assert not alert().with_events(log("opened", "invalid", actor="people")).withdrawn


# a harness withdrawal stays one whatever follows it that changes no state (a message sent,
# a move to another summary, a summary's owner set, a step its state refuses)
@pytest.mark.parametrize("later", [
    ["notified"], ["reassigned"], ["owned", "notified"], ["acknowledged"], ["resolved"],
])
def test_a_withdrawal_is_read_from_the_last_step_not_the_last_event(later: list[str]) -> None:
    events = [*log("opened", "invalid", actor=HARNESS_ACTOR), *log(*later, actor="people")]
    withdrawn = alert().with_events(events)
    assert withdrawn.state == "invalid"
    assert withdrawn.withdrawn


def test_a_person_s_step_after_a_reopening_is_not_a_withdrawal() -> None:
    events = [*log("opened", "invalid", "reopened", actor=HARNESS_ACTOR),
              *log("invalid", "notified", actor="people")]
    assert not alert().with_events(events).withdrawn
    assert last_step(events) == events[3]
    assert last_step(log("opened", "notified")) is None


@given(st.lists(st.sampled_from(EVENTS), max_size=15), st.data())
def test_reassignments_and_owners_never_change_the_state(events: list[str],
                                                         data: st.DataObject) -> None:
    where = data.draw(st.integers(0, len(events)))
    added = data.draw(st.lists(st.sampled_from(["reassigned", "owned"]), min_size=1,
                               max_size=3))
    assert state_after(log(*events[:where], *added, *events[where:])) == \
        state_after(log(*events))
