"""The scheduled scans on literal histories: missing periods (deadman) and change-point
alerts (harness.detection.scans), over an in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from harness.detection.scans import missing_periods

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
