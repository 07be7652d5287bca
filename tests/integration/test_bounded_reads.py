"""Reads that do not grow with the past: judging a submission, the overview and the alerts
page read the alerts that are live (or recent), through the alert index in Redis, whatever
the length of the alert log; the index stays right through triage, withdrawal, a lost
index (a restarted Redis, a restore) and old data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from harness.alerting.alerts import Alert, alert_id
from harness.alerting.index import AlertIndex
from harness.alerting.log import AlertLog
from harness.storage.influx import InfluxStore, Series
from harness.times import nanoseconds
from tests.conftest import TRIAGE_SECRET, bearer

START = datetime(2024, 1, 1, 3, 0, tzinfo=UTC)
SERIES = "dm_latency.OTT1|dataset=hsc_rc2|main"
OLD = 60  # closed alerts of the past


def spec_alert(day: int) -> Alert:
    """A spec alert of the series noticed by nightly n<day>."""
    dimensions = {"dataset": "hsc_rc2"}
    return Alert(
        id=alert_id("dm_latency.OTT1", dimensions, "main", f"jenkins/n{day:03d}", "spec"),
        kind="spec", severity="critical", metric="dm_latency.OTT1", dimensions=dimensions,
        branch="main", build_ci="jenkins", build_id=f"n{day:03d}",
        time=(START + timedelta(days=day)).isoformat().replace("+00:00", "Z"),
        reason="OTT1 fails its spec", unit="s", value=150.0)


class Counting:
    """Counts the rows that the queries of a store return."""

    def __init__(self, store: InfluxStore) -> None:
        self.rows = 0
        self.original = store.query
        store.query = self  # type: ignore[method-assign]

    def __call__(self, *args: Any, **kwargs: Any) -> list[Series]:
        found = self.original(*args, **kwargs)
        self.rows += sum(len(item.rows) for item in found)
        return found


@pytest.fixture
def history(influx: InfluxStore, redis_client: redis.Redis) -> Iterator[AlertLog]:
    """A log of OLD spec alerts resolved long ago and one still open (the newest)."""
    log = AlertLog(influx, AlertIndex(redis_client))
    log.build_index()  # of an empty log: the one-off read that a deployment does once
    old = [spec_alert(day) for day in range(OLD)]
    log.open([*old, spec_alert(OLD)])
    log.transition_many(old, "resolved", "jane", when=START + timedelta(days=OLD))
    yield log


def test_judging_reads_the_live_alerts_of_its_series_not_its_past(
        history: AlertLog) -> None:
    counting = Counting(history.store)
    now = nanoseconds(START + timedelta(days=OLD + 1))
    found = history.of_series({SERIES}, ["dm_latency.OTT1"], now)
    assert [alert.build_id for alert in found] == [f"n{OLD:03d}"]
    assert counting.rows <= 2  # the open alert's one event (else ~2 * OLD rows)

    late = nanoseconds(START + timedelta(days=OLD - 2, hours=1))  # a late build: later ones
    found = history.of_series({SERIES}, ["dm_latency.OTT1"], late)
    assert {alert.build_id for alert in found} == {f"n{OLD - 1:03d}", f"n{OLD:03d}"}


def test_a_lost_index_is_built_again_from_the_log(history: AlertLog,
                                                  redis_client: redis.Redis) -> None:
    assert AlertIndex(redis_client).clear() > 0  # a flushed Redis, or a restore
    assert [alert.build_id for alert in history.live()] == [f"n{OLD:03d}"]
    assert AlertIndex(redis_client).built()
    counting = Counting(history.store)
    assert len(history.live()) == 1 and counting.rows <= 2


def test_old_data_without_an_index_is_indexed_on_first_read(
        influx: InfluxStore, redis_client: redis.Redis) -> None:
    AlertLog(influx).open([spec_alert(0), spec_alert(1)])  # written before the index
    log = AlertLog(influx, AlertIndex(redis_client))
    assert {alert.build_id for alert in log.live()} == {"n000", "n001"}


def test_triage_through_the_api_leaves_the_index_right(
        client: Any, history: AlertLog, redis_client: redis.Redis) -> None:
    index = AlertIndex(redis_client)
    newest = spec_alert(OLD)
    answer = client.post(f"/api/v1/alerts/{newest.id}/acknowledge",
                         headers=bearer(TRIAGE_SECRET))
    assert answer.status_code == 200 and index.live() == {newest.id}
    answer = client.post(f"/api/v1/alerts/{newest.id}/resolve", headers=bearer(TRIAGE_SECRET))
    assert answer.status_code == 200 and index.live() == set()
    assert history.live() == []
    now = nanoseconds(START + timedelta(days=OLD + 1))
    assert history.of_series({SERIES}, ["dm_latency.OTT1"], now) == []


def test_a_withdrawn_alert_leaves_the_index_and_a_reopened_one_comes_back(
        history: AlertLog, redis_client: redis.Redis) -> None:
    index, newest = AlertIndex(redis_client), spec_alert(OLD)
    history.transition_many([newest], "invalid", "harness")
    assert index.live() == set()
    history.joined([newest])  # as judging does before and after writing `reopened`
    history.record(newest.id, "reopened", "harness", metric=newest.metric)
    history.joined([newest])
    assert [alert.state for alert in history.live()] == ["open"]


def test_the_alerts_page_reads_open_and_recent_alerts_and_reaches_old_ones_by_days(
        client: Any, history: AlertLog) -> None:
    counting = Counting(client.application.extensions["harness"].store)
    page = client.get("/dash/alerts?view=alerts&state=all")
    assert page.status_code == 200
    assert "n060" in page.text and "n000" not in page.text
    assert counting.rows <= 5  # the open alert's events (the log holds ~2 * OLD rows)
    long_ago = client.get("/dash/alerts?view=alerts&state=resolved&days=36500")
    assert "n000" in long_ago.text and "n059" in long_ago.text
    assert client.get("/dash/alerts?days=0").status_code == 422


def test_the_overview_counts_open_alerts_from_the_index(client: Any, history: AlertLog
                                                         ) -> None:
    store = client.application.extensions["harness"].store
    counting = Counting(store)
    assert client.get("/dash/").status_code == 200
    assert counting.rows <= 2  # the open alert's event, not the log's ~2 * OLD rows
