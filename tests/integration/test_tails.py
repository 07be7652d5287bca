"""The cached series tails (harness/storage/tails.py) against real Redis and InfluxDB: they answer
exactly what InfluxDB would, and say when they cannot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import hypothesis.strategies as st
import pytest
import redis
from hypothesis import HealthCheck, given

from harness.alerting.alerts import series_key
from harness.catalog import load_catalog
from harness.detection.params import DEFAULT_PARAMS
from harness.ingest import KEEP, judge_and_store
from harness.model import Build, Measurement, Submission
from harness.settings import Settings
from harness.storage.blobs import BlobStore
from harness.storage.influx import InfluxStore
from harness.storage.registry import Registry
from harness.storage.tails import PREFIX, Rows, SeriesTails
from harness.times import nanoseconds

START = datetime(2026, 1, 1, 3, tzinfo=UTC)
DIMENSIONS = {"dataset": "hsc_rc2", "filter": "r"}
KEY = series_key("validate_drp.AM1", DIMENSIONS, "main")


def nightly(night: int, value: float, build_id: str | None = None) -> Submission:
    """A main-branch build with one AM1 measurement, one a night."""
    moment = START + timedelta(days=night)
    build = Build("jenkins", build_id or f"n{night}", "main", moment)
    measurement = Measurement("validate_drp.AM1", value, "marcsec", DIMENSIONS)
    return Submission(f"s{night}-{build.id}", build, (measurement,), moment)


def store_all(settings: Settings, store: InfluxStore, submissions: list[Submission]) -> None:
    """Judge and store each submission in order, as the worker does."""
    catalog = load_catalog(settings.metrics_dir)
    registry = Registry(settings.broker_url)
    blobs = BlobStore(settings.blob_dir)
    for submission in submissions:
        judge_and_store(submission, catalog, store, registry, blobs)


def from_influx(store: InfluxStore, before: datetime, limit: int) -> list[dict[str, Any]]:
    found, _ = store.series_history({KEY: ("validate_drp.AM1", DIMENSIONS)}, "main", before,
                                    limit)
    return [dict(row) for row in found[KEY]]


def test_cached_history_equals_influxdb(settings: Settings, influx: InfluxStore,
                                        redis_client: redis.Redis) -> None:
    store_all(settings, influx, [nightly(night, 7.0 + night % 5 * 0.1) for night in range(40)])
    tails = SeriesTails(redis_client, KEEP)
    limit = DEFAULT_PARAMS.history_needed

    for before in (START + timedelta(days=40), START + timedelta(days=12, hours=1)):
        found, missing = tails.read([KEY], nanoseconds(before), limit)
        assert missing == []
        assert list(found[KEY].before) == list(Rows.of(from_influx(influx, before, limit)))
    found, _ = tails.read([KEY], nanoseconds(START + timedelta(days=40)), 5)
    assert [row["build_id"] for row in found[KEY].before] == ["n35", "n36", "n37", "n38", "n39"]
    assert found[KEY].before[-1] == {
        "time": nanoseconds(START + timedelta(days=39)), "value": 7.4, "verdict": "design",
        "ci": "jenkins", "build_id": "n39", "samples": 1, "spread": 0.0}
    assert len(found[KEY].after) == 0
    # from a time on: every later point the cache keeps, the one at that time included
    found, _ = tails.read([KEY], nanoseconds(START + timedelta(days=37)), limit)
    assert [row["build_id"] for row in found[KEY].after] == ["n37", "n38", "n39"]
    assert found[KEY].before.build_ids[-1] == "n36"


def test_a_repost_replaces_the_cached_point(settings: Settings, influx: InfluxStore,
                                            redis_client: redis.Redis) -> None:
    store_all(settings, influx, [nightly(night, 7.0) for night in range(3)])
    store_all(settings, influx, [nightly(2, 9.5)])  # the same build, re-posted, new value

    found, _ = SeriesTails(redis_client, KEEP).read(
        [KEY], nanoseconds(START + timedelta(days=9)), 10)
    assert [row["value"] for row in found[KEY].before] == [7.0, 7.0, 9.5]
    assert list(found[KEY].before) == list(Rows.of(
        from_influx(influx, START + timedelta(days=9), 10)))


def test_unfilled_and_trimmed_series_are_left_to_influxdb(redis_client: redis.Redis) -> None:
    tails = SeriesTails(redis_client, keep=5)
    rows = [{"time": night * 10**9, "value": float(night), "verdict": "design", "ci": "ci",
             "build_id": f"b{night}"} for night in range(1, 9)]
    tails.add({KEY: rows[-1]})  # a writer's point before any fill: not an answer yet
    assert tails.read([KEY], 10**12, 3) == ({}, [KEY])

    tails.fill({KEY: rows[:4]})  # fewer than `keep`: the whole series
    found, missing = tails.read([KEY], 10**12, 10)
    assert missing == []
    assert [row["build_id"] for row in found[KEY].before] == ["b1", "b2", "b3", "b4", "b8"]

    for row in rows[4:7]:
        tails.add({KEY: row})  # 8 points: the start and b1, b2 are trimmed
    found, missing = tails.read([KEY], 10**12, 5)
    assert [row["build_id"] for row in found[KEY].before] == ["b4", "b5", "b6", "b7", "b8"]
    assert tails.read([KEY], 7 * 10**9, 5)[1] == [KEY]  # needs b2, no longer kept
    found, _ = tails.read([KEY], 7 * 10**9, 2)
    assert [row["build_id"] for row in found[KEY].before] == ["b5", "b6"]
    assert [row["build_id"] for row in found[KEY].after] == ["b7", "b8"]


def test_a_build_id_with_the_old_separator_is_cached(settings: Settings, influx: InfluxStore,
                                                     redis_client: redis.Redis) -> None:
    store_all(settings, influx, [nightly(0, 7.0), nightly(1, 7.1, build_id="odd\x1fid")])
    store_all(settings, influx, [nightly(2, 7.2)])

    before = START + timedelta(days=9)
    found, missing = SeriesTails(redis_client, KEEP).read([KEY], nanoseconds(before), 10)
    assert missing == []
    assert [row["build_id"] for row in found[KEY].before] == ["n0", "odd\x1fid", "n2"]
    assert list(found[KEY].before) == list(Rows.of(from_influx(influx, before, 10)))


@pytest.mark.parametrize("field", [{"samples": 2**64}, {"time": 2**63},
                                   {"build_id": "x" * 70_000}, {"ci": "\ud800"}])
def test_a_point_that_cannot_be_packed_drops_its_series(redis_client: redis.Redis,
                                                       field: dict[str, Any]) -> None:
    tails = SeriesTails(redis_client, keep=5)
    rows = [point(night) for night in range(1, 4)]
    tails.fill({KEY: rows})
    tails.add({KEY: {**point(4), **field}})
    assert not redis_client.exists(PREFIX + KEY)
    tails.fill({KEY: [*rows, {**point(4), **field}]})
    assert not redis_client.exists(PREFIX + KEY)
    assert tails.read([KEY], 10**12, 3) == ({}, [KEY])  # InfluxDB answers


def point(night: int) -> dict[str, Any]:
    """A point of the night, as InfluxDB returns it."""
    return {"time": night * 10**9, "value": float(night), "verdict": "design", "ci": "ci",
            "build_id": f"b{night}", "samples": 1, "spread": 0.0}


TEXTS = st.one_of(st.none(), st.text(), st.sampled_from(["", "\x1f", "a\x1fb", "filled"]))
ROWS = st.fixed_dictionaries({
    # microseconds, as builds' times are: distinct times have distinct (float) scores
    "time": st.integers(-(2**61) // 1000, 2**61 // 1000).map(lambda n: n * 1000),
    "value": st.one_of(st.none(), st.floats(allow_nan=False)),
    "verdict": TEXTS, "ci": TEXTS, "build_id": TEXTS,
    "samples": st.integers(1, 2**63 - 1), "spread": st.floats(allow_nan=False),
})


@hypothesis.settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filled=st.lists(ROWS, max_size=30, unique_by=lambda row: row["time"]),
       added=st.lists(ROWS, max_size=10), at=ROWS.map(lambda row: row["time"]),
       limit=st.integers(0, 40))
def test_read_returns_exactly_the_points_filled_and_added(
        redis_client: redis.Redis, filled: list[dict[str, Any]], added: list[dict[str, Any]],
        at: int, limit: int) -> None:
    redis_client.delete(PREFIX + KEY)
    tails = SeriesTails(redis_client, keep=100)
    tails.fill({KEY: filled})
    for row in added:
        tails.add({KEY: row})

    stored = sorted({row["time"]: row for row in filled + added}.values(),
                    key=lambda row: row["time"])
    found, missing = tails.read([KEY], at, limit)
    assert missing == []
    earlier = [row for row in stored if row["time"] < at]
    assert list(found[KEY].before) == list(Rows.of(earlier[max(0, len(earlier) - limit):]
                                                   if limit else []))
    assert list(found[KEY].after) == list(Rows.of([row for row in stored
                                                   if row["time"] >= at]))
