"""The demo history: pure generation, seeded and deterministic."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from datetime import UTC, datetime

import pytest

from harness.tools.demo import (
    DATASETS,
    FILTERS,
    NIGHTLY_CI,
    PR_CI,
    demo_events,
    generate_history,
)

END = datetime(2026, 7, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def history() -> list[dict]:
    return generate_history(nights=120, seed=7, end=END)


@pytest.fixture(scope="module")
def events():
    return demo_events(nights=120, end=END)


def nightly(history: list[dict], dataset: str) -> list[dict]:
    return [
        s
        for s in history
        if s["build"]["ci"] == NIGHTLY_CI and s["dimensions"]["dataset"] == dataset
    ]


def values(submission: dict, metric: str) -> dict[str | None, float]:
    return {
        m.get("dimensions", {}).get("filter"): m["value"]
        for m in submission["measurements"]
        if m["metric"] == metric
    }


# --- generate_history -------------------------------------------------------------------


def test_the_same_seed_gives_the_same_history(history):
    assert generate_history(nights=120, seed=7, end=END) == history
    assert generate_history(nights=120, seed=8, end=END) != history


def test_120_nights_give_two_nightly_submissions_a_night_but_one_plus_the_pr_builds(
    history, events
):
    nightly_count = sum(s["build"]["ci"] == NIGHTLY_CI for s in history)
    pr_count = sum(s["build"]["ci"] == PR_CI for s in history)
    assert nightly_count == 119 * len(DATASETS)
    assert len(events.pr_build_ids) == 4
    assert pr_count == len(events.pr_build_ids) * len(DATASETS)
    assert len(history) == nightly_count + pr_count


def test_submissions_are_ordered_by_build_time_and_end_before_end(history):
    times = [datetime.fromisoformat(s["build"]["time"].replace("Z", "+00:00")) for s in history]
    assert all(s["build"]["time"].endswith("Z") for s in history)
    assert times == sorted(times)
    assert times[-1] < END


def test_the_missing_night_has_no_submissions(history, events):
    nights = {s["build"]["time"][:10] for s in history}
    assert events.missing_night.isoformat() not in nights
    assert f"nightly-{events.missing_night.isoformat()}" not in {s["build"]["id"] for s in history}


def test_nightly_builds_are_jenkins_builds_of_main_at_about_three(history):
    for submission in nightly(history, "hsc_rc2"):
        build = submission["build"]
        night = build["time"][:10]
        assert build["id"] == f"nightly-{night}"
        assert build["branch"] == "main"
        assert build["url"].startswith("https://ci.example.org/job/nightly/")
        assert "02:55" <= build["time"][11:16] <= "03:40"
        assert len(build["commit"]) == 7 and int(build["commit"], 16) >= 0
        assert {p["name"] for p in build["packages"]} == {
            "pipe_tasks",
            "meas_algorithms",
            "jointcal",
            "ip_diffim",
            "obs_subaru",
            "daf_butler",
        }


def test_the_regression_build_raises_am1_in_every_filter(history, events):
    for dataset in DATASETS:
        builds = nightly(history, dataset)
        at = next(i for i, s in enumerate(builds) if s["build"]["id"] == events.regression_build_id)
        assert at >= 20
        regressed = values(builds[at], "validate_drp.AM1")
        for band in FILTERS:
            before = statistics.median(
                values(s, "validate_drp.AM1")[band] for s in builds[at - 20 : at]
            )
            assert regressed[band] - before > 1.5, (dataset, band)


def test_the_regression_comes_with_a_jointcal_change_and_stays(history, events):
    builds = nightly(history, "hsc_rc2")
    at = next(i for i, s in enumerate(builds) if s["build"]["id"] == events.regression_build_id)
    commits = [{p["name"]: p["commit"] for p in s["build"]["packages"]} for s in builds]
    assert commits[at]["jointcal"] != commits[at - 1]["jointcal"]
    before = statistics.median(values(s, "validate_drp.AD1")["r"] for s in builds[at - 20 : at])
    after = statistics.median(values(s, "validate_drp.AD1")["r"] for s in builds[at : at + 20])
    assert after - before > 1.5


def test_a_meas_algorithms_change_lowers_pf1_by_a_quarter(history, events):
    builds = nightly(history, "dc2_test_med")
    at = next(i for i, s in enumerate(builds) if s["build"]["id"] == events.improvement_build_id)
    commits = [{p["name"]: p["commit"] for p in s["build"]["packages"]} for s in builds]
    assert commits[at]["meas_algorithms"] != commits[at - 1]["meas_algorithms"]
    for band in FILTERS:
        before = statistics.median(values(s, "validate_drp.PF1")[band] for s in builds[at - 15:at])
        after = statistics.median(values(s, "validate_drp.PF1")[band] for s in builds[at:at + 15])
        assert 0.65 < after / before < 0.85, band


def test_the_peak_memory_drifts_up_from_a_daf_butler_change_then_holds(history, events):
    builds = nightly(history, "hsc_rc2")
    at = next(i for i, s in enumerate(builds) if s["build"]["id"] == events.drift_build_id)
    commits = [{p["name"]: p["commit"] for p in s["build"]["packages"]} for s in builds]
    assert commits[at]["daf_butler"] != commits[at - 1]["daf_butler"]
    memory = [values(s, "pipe_tasks.peak_memory")[None] for s in builds]
    before = statistics.median(memory[at - 15:at])
    middle = statistics.median(memory[at + 5:at + 15])
    after = statistics.median(memory[at + 25:at + 40])
    assert before < middle < after and 1.07 < after / before < 1.13
    assert 0.97 < statistics.median(memory[-15:]) / after < 1.03  # it stays


def test_no_series_is_parked_at_a_design_threshold(history):
    # every near-spec series keeps about three scatters from its design threshold
    for dataset, metric, band, design in (("hsc_rc2", "validate_drp.PA1", "r", 5.0),
                                          ("hsc_rc2", "validate_drp.AD3", "z", 30.0),
                                          ("dc2_test_med", "dm_latency.OTT1", None, 60.0)):
        level = statistics.median(values(s, metric)[band] for s in nightly(history, dataset))
        assert level < 0.93 * design, (dataset, metric, band)


def test_pr_builds_carry_their_pull_request(history, events):
    prs = [s for s in history if s["build"]["ci"] == PR_CI]
    assert {s["build"]["id"] for s in prs} == set(events.pr_build_ids)
    for submission in prs:
        build = submission["build"]
        assert build["branch"].startswith("tickets/DM-")
        pr = build["pull_request"]
        assert pr["base"] == "main"
        assert pr["url"] == f"https://github.com/lsst/pipe_tasks/pull/{pr['number']}"


def test_one_pr_build_worsens_pa1(history, events):
    for dataset in DATASETS:
        pr = next(
            s
            for s in history
            if s["build"]["id"] == events.pa1_pr_build_id and s["dimensions"]["dataset"] == dataset
        )
        earlier = [s for s in nightly(history, dataset) if s["build"]["time"] < pr["build"]["time"]]
        for band in FILTERS:
            baseline = statistics.median(values(s, "validate_drp.PA1")[band] for s in earlier[-10:])
            assert values(pr, "validate_drp.PA1")[band] > 1.15 * baseline, (dataset, band)


def test_every_measurement_is_complete_finite_and_json(history):
    for submission in history:
        assert 0 < len(submission["measurements"]) <= 120
        for measurement in submission["measurements"]:
            assert {"metric", "value", "unit"} <= measurement.keys()
            assert isinstance(measurement["value"], float)
            assert math.isfinite(measurement["value"])
        json.dumps(submission, allow_nan=False)


def test_per_filter_metrics_name_their_filter_and_runtime_has_per_ccd_times(history):
    measurements = history[0]["measurements"]
    pa1 = [m for m in measurements if m["metric"] == "validate_drp.PA1"]
    assert sorted(m["dimensions"]["filter"] for m in pa1) == sorted(FILTERS)
    runtime = next(m for m in measurements if m["metric"] == "pipe_tasks.runtime")
    assert "dimensions" not in runtime
    per_ccd = runtime["extras"]["per_ccd_s"]
    assert per_ccd["unit"] == "s" and 15 <= len(per_ccd["value"]) <= 25
    assert sum(per_ccd["value"]) == pytest.approx(runtime["value"], rel=1e-3)


def test_package_commits_change_on_some_nights_only(history):
    builds = nightly(history, "hsc_rc2")
    commits = [{p["name"]: p["commit"] for p in s["build"]["packages"]} for s in builds]
    changed = [sum(a[n] != b[n] for n in a) for a, b in itertools.pairwise(commits)]
    assert any(c == 0 for c in changed)
    assert any(c >= 1 for c in changed)
    assert max(changed) < len(commits[0])


def test_too_short_a_history_is_refused():
    with pytest.raises(ValueError, match="nights"):
        generate_history(nights=5, end=END)
