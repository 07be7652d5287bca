"""A metric registered by its first measurement (`harness post --metric mypkg.x=12.5s`):
under the operator's HARNESS_AUTO_METRICS globs, never inside the catalog's own packages
(harness.catalog.auto, harness.formats.native)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from harness.catalog.auto import allowed, catalog_packages
from harness.errors import InvalidInput, MetricConflict, SettingsError
from harness.formats.native import parse_submission
from harness.settings import Settings

from ..examples import CATALOG

RECEIVED = datetime(2026, 11, 20, 4, tzinfo=UTC)


def submission(*measurements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A native body of these measurements on one build."""
    return {"build": {"ci": "gha", "id": "1", "branch": "main"},
            "measurements": list(measurements), **extra}


def test_a_new_metric_is_registered_from_its_value_lower_is_better() -> None:
    parsed = parse_submission(submission({"metric": "mypkg.wall_time", "value": 12.5,
                                          "unit": "s"}),
                              CATALOG, received=RECEIVED, auto_metrics=("*",))
    (metric,) = parsed.new_metrics
    assert (metric.name, metric.unit, metric.better, metric.source) == (
        "mypkg.wall_time", "s", "lower", "inline")
    assert parsed.submission.measurements[0].value == 12.5


def test_higher_is_better_and_the_posted_dimensions_are_kept() -> None:
    parsed = parse_submission(
        submission({"metric": "mypkg.rate", "value": 3.0, "unit": "1/s", "better": "higher",
                    "dimensions": {"dataset": "hsc"}}, dimensions={"filter": "r"}),
        CATALOG, received=RECEIVED, auto_metrics=("mypkg.*",))
    (metric,) = parsed.new_metrics
    assert (metric.better, metric.dimensions) == ("higher", ("dataset", "filter"))
    assert parsed.submission.measurements[0].dimensions == {"dataset": "hsc", "filter": "r"}


def test_a_name_in_a_catalog_package_is_a_typo_not_a_new_metric() -> None:
    assert "validate_drp" in catalog_packages(CATALOG)
    with pytest.raises(InvalidInput) as raised:
        parse_submission(submission({"metric": "validate_drp.PA2", "value": 1.0}), CATALOG,
                         received=RECEIVED, auto_metrics=("*",))
    (problem,) = raised.value.problems
    assert problem.path == "measurements[0].metric"
    assert "HARNESS_AUTO_METRICS" in problem.message


@pytest.mark.parametrize(("name", "globs", "expected"), [
    ("mypkg.wall_time", ("*",), True), ("mypkg.wall_time", ("other.*",), False),
    ("mypkg.wall_time", (), False), ("team_a.x.y", ("team_?.*",), True),
    ("pipe_tasks.wall", ("*",), False), ("not-a-name", ("*",), False),
])
def test_the_policy(name: str, globs: tuple[str, ...], expected: bool) -> None:
    assert allowed(name, CATALOG, globs) is expected


def test_without_auto_metrics_an_unknown_metric_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_submission(submission({"metric": "mypkg.wall_time", "value": 1.0}), CATALOG,
                         received=RECEIVED)


def test_a_bad_unit_of_a_new_metric_is_named() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_submission(submission({"metric": "mypkg.m", "value": 1.0, "unit": "parsecs!"}),
                         CATALOG, received=RECEIVED, auto_metrics=("*",))
    assert [p.path for p in raised.value.problems] == ["measurements[0].unit"]


def test_the_setting() -> None:
    assert Settings.from_env({}).auto_metrics == ("*",)
    assert Settings.from_env({"HARNESS_AUTO_METRICS": "mypkg.*, team_*"}).auto_metrics == (
        "mypkg.*", "team_*")
    assert Settings.from_env({"HARNESS_AUTO_METRICS": "none"}).auto_metrics == ()
    with pytest.raises(SettingsError, match="HARNESS_AUTO_METRICS"):
        Settings.from_env({"HARNESS_AUTO_METRICS": "my pkg/*"})


def test_an_inline_definition_that_agrees_with_the_catalog_uses_the_catalogs_metric() -> None:
    """An adapter defines its metrics inline on every post; the catalog may give one of them
    specs, tags and detection settings by its name."""
    parsed = parse_submission(
        submission({"metric": "validate_drp.PA1", "value": 0.0047, "unit": "mag",
                    "dimensions": {"dataset": "hsc", "filter": "r"}},
                   metrics=[{"name": "validate_drp.PA1", "unit": "mag", "better": "lower"}]),
        CATALOG, received=RECEIVED)
    assert parsed.new_metrics == ()
    assert parsed.submission.measurements[0].value == pytest.approx(4.7)  # in mmag


@pytest.mark.parametrize(("definition", "named"), [
    ({"unit": "mmag", "better": "higher"}, "better is 'lower' there"),
    ({"unit": "s", "better": "lower"}, "its unit is mmag"),
])
def test_a_definition_that_contradicts_the_catalog_is_a_conflict(definition: dict[str, str],
                                                                  named: str) -> None:
    with pytest.raises(MetricConflict) as raised:
        parse_submission(submission({"metric": "validate_drp.PA1", "value": 1.0},
                                    metrics=[{"name": "validate_drp.PA1", **definition}]),
                         CATALOG, received=RECEIVED)
    assert named in raised.value.problems[0].message
