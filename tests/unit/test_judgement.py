"""Judging a submission as a pure function of what the store held (harness.detection.judgement):
literal series in, results and alerts out, no server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from harness.alerting.alerts import series_key
from harness.catalog import Catalog, DetectionSettings
from harness.detection.judgement import (
    Stored,
    baseline_restarts,
    detection,
    history_needed,
    judge_submission,
    withdrawals,
)
from harness.detection.params import DEFAULT_PARAMS
from harness.model import Build, Measurement, PullRequest, Submission
from harness.points import NO_ROWS, Around, Rows
from harness.times import nanoseconds, point_time

from .examples import CATALOG, DIMENSIONS, PA1, RUNTIME, alert

START = datetime(2026, 10, 1, 3, tzinfo=UTC)
KEY = series_key(PA1.name, DIMENSIONS, "main")


def at(index: int) -> datetime:
    """The time of the index-th build of a series (one a day)."""
    return START + timedelta(days=index)


def rows(values: list[float], first: int = 0, verdict: str = "design") -> Rows:
    """Stored points of builds first, first+1, … (ids b000, b001, …)."""
    indices = range(first, first + len(values))
    return Rows([nanoseconds(at(i)) for i in indices], list(values), [verdict] * len(values),
                ["jenkins"] * len(values), [f"b{i:03d}" for i in indices])


def noise(count: int, seed: int = 1) -> list[float]:
    """A steady PA1 series: 5 mmag with σ 0.05."""
    return list(5.0 + 0.05 * np.random.default_rng(seed).standard_normal(count))


def build_of(index: int, value: float, *, pull_request: PullRequest | None = None,
             branch: str = "main") -> Submission:
    """The submission of the index-th build with one PA1 value."""
    build = Build("jenkins", f"b{index:03d}", branch, at(index), f"https://ci/{index}",
                  f"c{index}", pull_request)
    return Submission(f"s{index}", build, (Measurement(PA1.name, value, "mmag", DIMENSIONS),),
                      at(index))


def test_a_first_build_is_judged_against_the_specs_only() -> None:
    judged = judge_submission(build_of(0, 6.0), CATALOG, Stored({}))
    (result,) = judged.results
    assert result.verdict == "minimum" and result.excursion is not None
    assert (result.excursion.decision, result.excursion.needed) == ("insufficient", 20)
    (spec,) = judged.alerts
    assert (spec.kind, spec.build_id, spec.build_url) == ("spec", "b000", "https://ci/0")
    assert not judged.rejudged and not judged.withdrawn and not judged.provisional


def test_a_step_that_persists_is_one_regression_named_by_its_first_build() -> None:
    stored = Stored({KEY: Around(rows([*noise(40), 5.9, 5.95, 5.91]), NO_ROWS)})
    judged = judge_submission(build_of(43, 5.92), CATALOG, stored)
    (regression,) = [a for a in judged.alerts if a.kind == "regression"]
    assert (regression.started_build, regression.build_id) == ("b040", "b043")
    assert regression.started_time == point_time(nanoseconds(at(40)))
    assert regression.build_url == "https://ci/43"  # this build's; a stored one's is read later
    assert judged.results[0].excursion is not None
    assert judged.results[0].excursion.decision == "regression"
    assert not judged.provisional


def test_a_late_build_judges_the_later_ones_again_and_its_alerts_wait() -> None:
    later = rows([5.9, 5.95, 5.92], first=41)
    stored = Stored({KEY: Around(rows(noise(40)), later)})
    judged = judge_submission(build_of(40, 5.93), CATALOG, stored)
    (regression,) = [a for a in judged.alerts if a.kind == "regression"]
    assert regression.started_build == "b040" and regression.build_id != "b040"
    assert regression.id in judged.provisional
    assert [point.time for point in judged.rejudged] == later.times
    assert all(point.excursion.test == "history" for point in judged.rejudged)


def test_the_same_build_again_judges_nothing_later() -> None:
    history = noise(40)
    stored = Stored({KEY: Around(rows(history[:39]), rows(history[39:], first=39))})
    judged = judge_submission(build_of(39, history[39]), CATALOG, stored)
    assert not judged.rejudged and not judged.provisional


def test_an_open_alert_the_series_no_longer_calls_for_is_withdrawn() -> None:
    submission = build_of(40, 5.0)
    stale = alert("regression", build="b041", time=point_time(nanoseconds(at(41))))
    stored = Stored({KEY: Around(rows(noise(40)), rows([5.01], first=41))}, [stale])
    judged = judge_submission(submission, CATALOG, stored)
    assert judged.withdrawn == (stale,)
    assert not [a for a in judged.alerts if a.kind == "regression"]


def test_a_withdrawn_alert_found_again_is_reopened() -> None:
    withdrawn = alert(history=({"event": "opened", "time": "t0", "actor": "", "note": ""},
                               {"event": "invalid", "time": "t1", "actor": "harness",
                                "note": "withdrawn: the builds stored since no longer show"}),
                      state="invalid")
    again = replace(withdrawn, state="open", history=())
    submission = build_of(50, 6.0)  # 2026-11-20T03:00Z, when the alert was noticed
    assert withdrawn.withdrawn
    found = withdrawals([withdrawn], [again], submission, {})
    assert found == ((), (again,))


def test_another_build_at_the_same_time_keeps_its_alert() -> None:
    submission = build_of(40, 5.0)
    twin = alert("spec", build="other", time=point_time(nanoseconds(at(40))))
    assert withdrawals([twin], [], submission, {}) == ((), ())
    own = replace(twin, build_id="b040")
    assert withdrawals([own], [], submission, {}) == ((own,), ())


def test_a_pull_request_is_compared_with_its_base_and_never_alerts() -> None:
    base = {KEY: Around(rows(noise(40)), NO_ROWS)}
    submission = build_of(41, 9.2, branch="tickets/DM-1",
                          pull_request=PullRequest(7, None, "main"))
    judged = judge_submission(submission, CATALOG, Stored(base))
    excursion = judged.results[0].excursion
    assert excursion is not None and (excursion.test, excursion.decision) == ("base",
                                                                              "regression")
    assert judged.alerts == [] and judged.withdrawn == ()


def test_detection_off_leaves_spec_alerts_only() -> None:
    quiet = replace(PA1, detection=DetectionSettings(enabled=False))
    catalog = Catalog(metrics={PA1.name: quiet}, dimensions=CATALOG.dimensions)
    stored = Stored({KEY: Around(rows([*noise(40), 9.0, 9.1]), NO_ROWS)})
    judged = judge_submission(build_of(42, 9.2), catalog, stored)
    assert judged.results[0].excursion is None
    assert [a.kind for a in judged.alerts] == ["spec"]
    assert detection(catalog, judged.results[0].measurement) == (quiet, None)


def test_an_unknown_metric_is_stored_unjudged() -> None:
    submission = replace(build_of(0, 1.0), measurements=(Measurement("other.m", 1.0, "s"),))
    judged = judge_submission(submission, CATALOG, Stored({}))
    assert judged.results[0].verdict == "none" and judged.results[0].excursion is None
    assert judged.alerts == []


def test_an_acknowledged_regression_restarts_its_series_baseline() -> None:
    older = alert("regression", state="acknowledged", started_time="2026-10-05T03:00:00Z")
    newer = alert("regression", build="107", state="acknowledged",
                  started_time="2026-10-09T03:00:00Z")
    assert baseline_restarts([older, newer, alert("spec")]) == {
        older.series: nanoseconds(datetime(2026, 10, 9, 3, tzinfo=UTC))}


def test_history_needed_follows_the_metrics_settings() -> None:
    wide = replace(RUNTIME, detection=DetectionSettings(overrides={"window": 400}))
    catalog = Catalog(metrics={RUNTIME.name: wide}, dimensions=CATALOG.dimensions)
    submission = replace(build_of(0, 1.0),
                         measurements=(Measurement(RUNTIME.name, 1.0, "s", {"dataset": "d"}),))
    assert history_needed(submission, catalog) > DEFAULT_PARAMS.history_needed
    assert history_needed(build_of(0, 1.0), CATALOG) == DEFAULT_PARAMS.history_needed




def test_a_spec_alert_resolves_once_the_series_meets_the_spec_for_three_builds() -> None:
    # builds 40 and 41 met only the minimum spec (design 5 mmag); 42 and 43 meet it again
    history = rows([4.5] * 40) + Rows([nanoseconds(at(i)) for i in (40, 41, 42, 43)],
                                      [6.0, 5.8, 4.6, 4.5],
                                      ["minimum", "minimum", "design", "design"],
                                      ["jenkins"] * 4, ["b040", "b041", "b042", "b043"])
    spec = alert("spec", build="b040", time=point_time(nanoseconds(at(40))))
    stored = Stored({KEY: Around(history, NO_ROWS)}, [spec])
    assert judge_submission(build_of(44, 4.55), CATALOG, stored).resolved == (spec,)
    assert judge_submission(build_of(44, 5.5), CATALOG, stored).resolved == ()
    acknowledged = replace(spec, state="acknowledged")
    judged = judge_submission(build_of(44, 4.55), CATALOG, replace(stored, alerts=[acknowledged]))
    assert judged.resolved == (acknowledged,)


def test_a_spec_alert_found_by_this_judgement_waits_for_a_later_one() -> None:
    # a late build that fails design, with three later builds that meet it: the alert it
    # opens is left open now; the next build judged resolves it
    later = rows([4.5, 4.6, 4.4], first=41)
    judged = judge_submission(build_of(40, 6.0), CATALOG, Stored({KEY: Around(rows(noise(40)),
                                                                              later)}))
    assert [a.kind for a in judged.alerts] == ["spec"] and judged.resolved == ()


def test_how_many_builds_resolve_a_spec_alert_is_a_detection_setting() -> None:
    history = rows([4.5] * 40) + Rows([nanoseconds(at(40)), nanoseconds(at(41))], [6.0, 4.6],
                                      ["minimum", "design"], ["jenkins"] * 2, ["b040", "b041"])
    spec = alert("spec", build="b040", time=point_time(nanoseconds(at(40))))
    stored = Stored({KEY: Around(history, NO_ROWS)}, [spec])
    assert judge_submission(build_of(42, 4.55), CATALOG, stored).resolved == ()
    quick = replace(PA1, detection=DetectionSettings(overrides={"resolve_after": 2}))
    catalog = replace(CATALOG, metrics={**CATALOG.metrics, PA1.name: quick})
    assert judge_submission(build_of(42, 4.55), catalog, stored).resolved == (spec,)


def test_meeting_the_minimum_of_a_metric_without_a_design_spec_is_no_alert() -> None:
    only_minimum = replace(PA1, specs=tuple(s for s in PA1.specs if s.level == "minimum"))
    catalog = replace(CATALOG, metrics={**CATALOG.metrics, PA1.name: only_minimum})
    judged = judge_submission(build_of(0, 6.0), catalog, Stored({}))
    assert judged.results[0].verdict == "minimum" and judged.alerts == []
    (failed,) = judge_submission(build_of(0, 9.0), catalog, Stored({})).alerts
    assert (failed.kind, failed.severity) == ("spec", "critical")
