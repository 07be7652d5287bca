"""The plain data: builds, measurements, submissions, results as JSON (harness.model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from harness.model import (
    Build,
    Excursion,
    Measurement,
    Package,
    PullRequest,
    Result,
    Submission,
    utcnow,
)

BUILD = Build("jenkins", "9187", "feature", datetime(2026, 11, 20, 3, 12, tzinfo=UTC),
              "https://ci/9187", "3f2c9e1", PullRequest(412, "https://git/pr/412", "main"),
              (Package("pipe_tasks", "77ab0e2", None, "w.2026.47"),))


def test_a_build_survives_json() -> None:
    data = BUILD.to_json()
    assert data["time"] == "2026-11-20T03:12:00+00:00"
    assert data["pull_request"] == {"number": 412, "url": "https://git/pr/412", "base": "main"}
    assert Build.from_json(data) == BUILD


def test_a_build_time_keeps_its_offset_and_a_missing_one_stays_missing() -> None:
    data = {"ci": "gha", "id": "1", "branch": "main", "time": "2026-11-20T05:12:00+02:00"}
    time = Build.from_json(data).time
    assert time is not None and time.utcoffset() == timedelta(hours=2)
    assert time == datetime(2026, 11, 20, 3, 12, tzinfo=UTC)
    assert Build.from_json({"ci": "gha", "id": "1", "branch": "main"}).time is None


def test_a_pull_request_is_judged_against_its_base_else_its_own_branch() -> None:
    assert BUILD.baseline_branch == "main" and BUILD.key == "jenkins/9187"
    assert Build("gha", "1", "feature", pull_request=PullRequest(3)).baseline_branch == \
        "feature"
    assert Build("gha", "1", "main").baseline_branch == "main"


def test_a_measurement_counts_its_samples_and_their_spread() -> None:
    assert (Measurement("p.m", 2.0, "s").count, Measurement("p.m", 2.0, "s").spread) == (1, 0.0)
    sampled = Measurement("p.m", 2.0, "s", samples=(1.0, 2.0, 3.0))
    assert (sampled.count, sampled.spread) == (3, 1.0)
    assert Measurement("p.m", 2.0, "s", samples=(2.0,)).spread == 0.0


def test_a_measurement_survives_json_and_omits_samples_it_has_not() -> None:
    plain = Measurement("p.m", 2.0, "s", {"dataset": "hsc"}, ("b1",))
    assert "samples" not in plain.to_json()
    sampled = Measurement("p.m", None, "s", samples=(1.0, 2.0))
    for measurement in (plain, sampled):
        assert Measurement.from_json(measurement.to_json()) == measurement


def test_a_submission_survives_json_and_is_timed_by_its_build() -> None:
    received = datetime(2026, 11, 21, tzinfo=timezone(timedelta(hours=-5)))
    submission = Submission("s1", BUILD, (Measurement("p.m", 1.0, "s"),), received,
                            {"b1": {"name": "extras", "data": {}}})
    assert Submission.from_json(submission.to_json()) == submission
    assert submission.time == BUILD.time
    untimed = Submission("s2", Build("gha", "1", "main"), (), received)
    assert untimed.time == received


def test_a_result_as_the_status_shows_it() -> None:
    measurement = Measurement("p.m", 2.0, "s", {"dataset": "hsc"}, samples=(1.0, 3.0))
    excursion = Excursion(1.5, 0.2, 0.5, 1 / 3, 1.1, "ok", 0, 3.35)
    shown = Result(measurement, "design", "p.m.design", excursion).to_json()
    assert shown == {"metric": "p.m", "dimensions": {"dataset": "hsc"}, "value": 2.0,
                     "unit": "s", "verdict": "design", "spec": "p.m.design",
                     "excursion": {"baseline": 1.5, "noise": 0.2, "change": 0.5,
                                   "relative_change": 1 / 3, "score": 1.1, "decision": "ok",
                                   "started": 0, "threshold": 3.35, "test": "history",
                                   "needed": 0}, "blobs": [],
                     "samples": {"count": 2, "spread": pytest.approx(1.41421356)}}
    assert Result(Measurement("p.m", None, "s"), "none").to_json()["excursion"] is None


def test_now_is_aware_and_in_utc() -> None:
    assert utcnow().utcoffset() == timedelta(0)
