"""The scheduled scans on literal histories: missing periods (deadman) and change-point
alerts (harness.detection.scans), over an in-memory store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.alerting.log import AlertLog
from harness.catalog import Catalog, Metric
from harness.detection.scans import find_change_points, find_missing, missing_periods
from harness.storage.influx import InfluxStore, Series
from harness.times import duration_text, nanoseconds

DAY = timedelta(days=1)
CADENCE = timedelta(hours=36)
START = datetime(2024, 3, 1, 3, tzinfo=UTC)


def days(*offsets: float) -> list[datetime]:
    return [START + offset * DAY for offset in offsets]


# --- missing_periods ---------------------------------------------------------------------------


def test_a_nightly_series_has_no_missing_period() -> None:
    assert missing_periods(days(0, 1, 2, 3), CADENCE, START + 3.5 * DAY) == []


def test_no_values_at_all_is_no_gap() -> None:
    assert missing_periods([], CADENCE, START) == []


def test_a_gap_longer_than_the_cadence_is_missing_between_its_values() -> None:
    assert missing_periods(days(0, 1, 4, 5), CADENCE, START + 5 * DAY) == [
        (START + DAY, START + 4 * DAY)]


def test_a_gap_of_exactly_the_cadence_is_not_missing() -> None:
    assert missing_periods(days(0, 1.5, 3), CADENCE, START + 4.5 * DAY) == []


def test_a_gap_until_now_is_still_open() -> None:
    assert missing_periods(days(0, 1), CADENCE, START + 3 * DAY) == [(START + DAY, None)]


def test_order_and_repeated_times_do_not_matter() -> None:
    assert missing_periods(days(5, 0, 1, 1, 4), CADENCE, START + 5 * DAY) == [
        (START + DAY, START + 4 * DAY)]


@given(st.lists(st.integers(0, 200), max_size=40), st.integers(1, 30), st.integers(0, 60))
def test_every_gap_and_only_the_gaps_are_reported(
        hours: list[int], cadence_h: int, later_h: int) -> None:
    times = [START + timedelta(hours=h) for h in hours]
    cadence = timedelta(hours=cadence_h)
    now = START + timedelta(hours=max(hours, default=0) + later_h)
    gaps = missing_periods(times, cadence, now)
    ordered = sorted(set(times))
    expected: list[tuple[datetime, datetime | None]] = [
        (a, b) for a, b in pairwise(ordered) if b - a > cadence]
    if ordered and now - ordered[-1] > cadence:
        expected.append((ordered[-1], None))
    assert gaps == expected


# --- what the alerts say ------------------------------------------------------------------------


class LiteralStore:
    """The one read the scans make, answered with literal rows of one series."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], tags: Mapping[str, str]) -> None:
        self.series = [Series(tags, tuple(rows))]

    def query(self, statement: str, params: Mapping[str, Any]) -> list[Series]:
        return self.series


class NoAlerts:
    """An alert log holding nothing."""

    def find(self) -> list[Any]:
        return []


def nightly_rows(values: Sequence[float], skip: Sequence[int] = ()) -> list[dict[str, Any]]:
    """One row per night from START, but the skipped nights."""
    return [{"time": nanoseconds(START + night * DAY), "build_id": f"n{night:03d}",
             "ci": "jenkins", "value": value}
            for night, value in enumerate(values) if night not in skip]


@pytest.mark.parametrize(("span", "text"), [
    (timedelta(hours=36), "1 day 12 h"), (timedelta(days=1), "1 day"),
    (timedelta(days=2, hours=12), "2 days 12 h"), (timedelta(minutes=90), "1 h 30 min"),
    (timedelta(hours=4), "4 h"), (timedelta(seconds=45), "45 s"),
    (timedelta(days=1, seconds=61), "1 day 1 min 1 s"), (timedelta(seconds=0.5), "0.5 s"),
    (timedelta(hours=36, milliseconds=400), "1 day 12 h"),
])
def test_a_duration_is_written_as_people_write_it(span: timedelta, text: str) -> None:
    assert duration_text(span) == text


@given(st.integers(1, 10**8))
def test_a_written_duration_adds_up_to_the_duration(seconds: int) -> None:
    sizes = {"day": 86_400, "days": 86_400, "h": 3600, "min": 60, "s": 1}
    words = duration_text(timedelta(seconds=seconds)).split(" ")
    assert sum(int(count) * sizes[unit] for count, unit in zip(words[::2], words[1::2],
                                                               strict=True)) == seconds


def test_a_missing_data_alert_says_the_cadence_as_people_write_it() -> None:
    metric = Metric("dm_latency.OTT1", "s", "lower", cadence_s=36 * 3600)
    store = LiteralStore(nightly_rows([45.0] * 8, skip=(4, 5)), {})
    found = find_missing(cast(InfluxStore, store), Catalog({metric.name: metric}),
                         START + 8 * DAY)
    [gap] = [alert for alert in found if "until" in alert.reason]
    assert gap.reason == ("no value of dm_latency.OTT1 on main for more than 1 day 12 h: last "
                          "at 2024-03-04 03:00 UTC, until 2024-03-07 03:00 UTC")


def test_a_change_point_of_a_unitless_metric_has_no_double_space() -> None:
    metric = Metric("pkg.ratio", "", "lower")
    values = [4.2 + 0.01 * (night % 3) for night in range(40)]
    values[20:] = [value + 0.5 for value in values[20:]]
    store = LiteralStore(nightly_rows(values), {"metric": "pkg.ratio", "branch": "main"})
    [alert] = find_change_points(cast(InfluxStore, store), Catalog({metric.name: metric}),
                                 cast(AlertLog, NoAlerts()))
    assert alert.reason == ("pkg.ratio shifted from 4.21 to 4.71 (+11.9%) starting with "
                            "build n020 (regression)")
