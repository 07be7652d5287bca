"""The native submission format on literal bodies: what a valid one becomes, and errors that
name the field (harness.formats.native)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.catalog.definitions import metric_from_json, same_definition
from harness.errors import InvalidInput, MetricConflict
from harness.formats.common import MAX_IGNORED
from harness.formats.native import ParsedSubmission, parse_submission
from harness.model import PullRequest

from ..examples import CATALOG, PA1

RECEIVED = datetime(2026, 11, 20, 4, tzinfo=UTC)
BODY: dict[str, Any] = {
    "build": {"ci": "jenkins", "id": "9187", "branch": "main", "time": "2026-11-20T03:12:00",
              "url": "https://ci.example.org/9187", "commit": "3f2c9e1",
              "packages": [{"name": "pipe_tasks", "commit": "77ab0e2"}]},
    "dimensions": {"dataset": "hsc_rc2", "filter": "r"},
    "measurements": [
        {"metric": "validate_drp.PA1", "value": 0.0047, "unit": "mag"},
        {"metric": "pipe_tasks.runtime", "value": 812.0, "unit": "s"},
    ],
}


def body(**changes: Any) -> dict[str, Any]:
    """The example body with paths changed or deleted (`build__ci`, `measurements__0__value`)."""
    copied = copy.deepcopy(BODY)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node: Any = copied
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return copied


_DELETE = object()


def parse(data: Any, **options: Any) -> ParsedSubmission:
    return parse_submission(data, CATALOG, received=RECEIVED, **options)


def problems(data: Any, **options: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse(data, **options)
    assert caught.value.status == 422
    return {problem.path: problem.message for problem in caught.value.problems}


# --- valid submissions ---------------------------------------------------------------------------


def test_a_valid_submission_is_in_the_metrics_units_with_its_series_dimensions() -> None:
    parsed = parse(BODY)
    first, second = parsed.submission.measurements
    assert (first.metric, first.value, first.unit) == ("validate_drp.PA1", pytest.approx(4.7),
                                                       "mmag")
    assert first.dimensions == {"dataset": "hsc_rc2", "filter": "r"}
    assert second.dimensions == {"dataset": "hsc_rc2"}  # runtime is not per filter
    assert parsed.new_metrics == () and parsed.submission.received == RECEIVED


def test_a_build_time_without_an_offset_is_utc() -> None:
    build = parse(BODY).submission.build
    assert build.time == datetime(2026, 11, 20, 3, 12, tzinfo=UTC)
    assert build.packages[0].name == "pipe_tasks" and build.pull_request is None


def test_a_build_without_a_time_is_timed_when_received() -> None:
    submission = parse(body(build__time=_DELETE)).submission
    assert submission.build.time is None and submission.time == RECEIVED


def test_a_measurement_dimension_overrides_the_submission_one() -> None:
    data = body(measurements__0__dimensions={"filter": "i"})
    assert parse(data).submission.measurements[0].dimensions["filter"] == "i"


def test_samples_give_the_value_as_their_mean_in_the_metric_unit() -> None:
    data = body(measurements__0={"metric": "validate_drp.PA1", "samples": [0.004, 0.006],
                                 "unit": "mag"})
    measurement = parse(data).submission.measurements[0]
    assert measurement.value == pytest.approx(5.0)
    assert measurement.samples == pytest.approx((4.0, 6.0)) and measurement.count == 2


def test_a_value_with_no_unit_is_taken_in_the_metric_unit() -> None:
    data = body(measurements__0={"metric": "validate_drp.PA1", "value": 4.7})
    assert parse(data).submission.measurements[0].value == 4.7


def test_extras_become_one_blob_linked_to_the_measurement() -> None:
    data = body(measurements__1__extras={"per_ccd_s": {"value": [3.1, 2.9], "unit": "s"}})
    submission = parse(data).submission
    [blob_id] = submission.measurements[1].blobs
    assert submission.blobs[blob_id]["data"] == {"per_ccd_s": {"value": [3.1, 2.9],
                                                               "unit": "s"}}


def test_a_pull_request_build() -> None:
    data = body(build__pull_request={"number": 412, "base": "main"}, build__branch="feature")
    build = parse(data).submission.build
    assert build.pull_request == PullRequest(412, None, "main")
    assert build.baseline_branch == "main"


def test_an_inline_metric_is_new_and_usable_in_the_same_submission() -> None:
    data = body(metrics=[{"name": "ap_verify.latency", "unit": "s", "better": "lower",
                          "dimensions": ["dataset"]}],
                measurements__1={"metric": "ap_verify.latency", "value": 3.0})
    parsed = parse(data)
    assert [m.name for m in parsed.new_metrics] == ["ap_verify.latency"]
    assert parsed.new_metrics[0].source == "inline"
    assert parsed.submission.measurements[1].dimensions == {"dataset": "hsc_rc2"}


def test_an_inline_metric_may_not_redefine_a_catalog_metric() -> None:
    data = body(metrics=[{"name": "validate_drp.PA1", "unit": "s", "better": "lower"}])
    with pytest.raises(MetricConflict) as caught:
        parse(data)
    assert caught.value.status == 409
    assert caught.value.problems[0].path == "metrics[0].name"


def test_a_registered_metric_round_trips_as_json() -> None:
    assert metric_from_json(PA1.to_json(definition_only=True)).specs == PA1.specs
    again = metric_from_json(PA1.to_json(definition_only=True))
    assert same_definition(again, PA1) and again.source == "inline"


# --- errors naming the field ----------------------------------------------------------------


def test_an_unknown_metric_is_named_at_its_measurement() -> None:
    found = problems(body(measurements__1__metric="pipe_tasks.nope"))
    assert list(found) == ["measurements[1].metric"]
    assert "unknown metric 'pipe_tasks.nope'" in found["measurements[1].metric"]


def test_a_non_finite_value_is_named() -> None:
    assert problems(body(measurements__0__value=float("nan"))) == {
        "measurements[0].value": "must be a finite number"}


@pytest.mark.parametrize(("path", "value", "where", "message"), [
    ("build__ci", _DELETE, "build.ci", "is required"),
    ("build__colour", "red", "build.colour", "is not a known field"),
    ("measurements__0__value", "4.7", "measurements[0].value", "must be a number"),
    ("build__branch", "main|x", "build.branch", "must not contain '|'"),
    ("build__branch", "main\\", "build.branch", "must not end with a backslash"),
    ("build__ci", "jenkins/2", "build.ci", "must not contain '/'"),
    ("build__id", "/9187", "build.id", "must not start with '/'"),
    ("build__id", " 9187", "build.id", "must not start or end with white space"),
    ("build__commit", "a\nb", "build.commit", "must not contain control characters"),
    ("build__url", "ftp://ci.example.org/1", "build.url", "must be an http(s) URL"),
    ("build__time", "2300-01-01T00:00:00Z", "build.time", "must be between the years 1678"),
    ("build__branch", "", "build.branch", "at least 1 character"),
])
def test_a_bad_field_is_named_with_a_plain_message(path: str, value: Any, where: str,
                                                   message: str) -> None:
    found = problems(body(**{path: value}))
    assert where in found, found
    assert message in found[where]


def test_a_missing_value_and_samples_is_named_at_the_value() -> None:
    assert problems(body(measurements__0={"metric": "validate_drp.PA1"})) == {
        "measurements[0].value": "required: give a `value` or `samples`"}


def test_a_unit_that_does_not_convert_is_named_at_the_unit() -> None:
    found = problems(body(measurements__0__unit="s"))
    assert "s does not convert to mmag" in found["measurements[0].unit"]
    assert "(the unit of validate_drp.PA1)" in found["measurements[0].unit"]


def test_undeclared_and_foreign_dimensions_are_named() -> None:
    found = problems(body(dimensions={"dataset": "hsc", "filter": "r", "colour": "red"},
                          measurements__1__dimensions={"filter": "r"}))
    assert set(found) == {"dimensions.colour", "measurements[1].dimensions.filter"}
    assert "not a dimension of pipe_tasks.runtime (declared: dataset)" in \
        found["measurements[1].dimensions.filter"]


# --- dimensions: a declared one must be given (unless optional), an undeclared one is dropped


def test_a_missing_declared_dimension_is_named_at_its_measurement() -> None:
    how = "in the submission's or the measurement's `dimensions`; harness post: --dimension"
    found = problems(body(dimensions={"dataset": "hsc_rc2"}))
    assert found == {"measurements[0].dimensions": (  # it has no `dimensions` of its own
        f"validate_drp.PA1 declares dimension 'filter'; give it ({how} filter=…)")}
    found = problems(body(dimensions={"dataset": "hsc_rc2"},
                          measurements__0__dimensions={"dataset": "dc2"}))
    assert found == {"measurements[0].dimensions.filter": (
        f"validate_drp.PA1 declares dimension 'filter'; give it ({how} filter=…)")}
    with pytest.raises(InvalidInput) as caught:
        parse(body(dimensions=_DELETE))
    assert [(p.path, p.message.split(";")[0]) for p in caught.value.problems] == [
        ("measurements[0].dimensions", "validate_drp.PA1 declares dimension 'dataset'"),
        ("measurements[0].dimensions", "validate_drp.PA1 declares dimension 'filter'"),
        ("measurements[1].dimensions", "pipe_tasks.runtime declares dimension 'dataset'")]


def test_a_declared_dimension_may_come_from_the_measurement() -> None:
    data = body(dimensions={"dataset": "hsc_rc2"}, measurements__0__dimensions={"filter": "g"})
    parsed = parse(data)
    assert parsed.submission.measurements[0].dimensions == {"dataset": "hsc_rc2", "filter": "g"}
    assert parsed.ignored == ()


def test_an_optional_dimension_may_be_omitted() -> None:
    per_dataset = replace(PA1, optional_dimensions=("filter",))
    catalog = replace(CATALOG, metrics={**CATALOG.metrics, PA1.name: per_dataset})
    parsed = parse_submission(body(dimensions={"dataset": "hsc_rc2"}), catalog,
                              received=RECEIVED)
    assert parsed.submission.measurements[0].dimensions == {"dataset": "hsc_rc2"}


def test_an_inline_metric_requires_none_of_its_dimensions() -> None:
    data = body(metrics=[{"name": "ap_verify.latency", "unit": "s", "better": "lower"}],
                dimensions={"dataset": "hsc_rc2", "filter": "r"},
                measurements=[{"metric": "ap_verify.latency", "value": 1.0}])
    assert parse(data).submission.measurements[0].dimensions == {"dataset": "hsc_rc2",
                                                                 "filter": "r"}


def test_a_submission_dimension_the_metric_does_not_declare_is_dropped_with_a_notice() -> None:
    parsed = parse(BODY)
    assert parsed.submission.measurements[1].dimensions == {"dataset": "hsc_rc2"}
    assert [notice.to_json() for notice in parsed.ignored] == [{
        "path": "measurements[1].dimensions.filter",
        "message": "pipe_tasks.runtime does not declare dimension 'filter'; dropped"}]


def test_the_notices_are_capped() -> None:
    runtime = {"metric": "pipe_tasks.runtime", "value": 1.0}
    ignored = parse(body(measurements=[runtime] * (MAX_IGNORED + 5))).ignored
    assert len(ignored) == MAX_IGNORED + 1
    assert ignored[-1].to_json() == {"path": "", "message": "and 5 more dropped keys not listed"}


def test_every_problem_is_reported_at_once() -> None:
    found = problems(body(measurements__0__metric="x.y", measurements__1__unit="mmag"))
    assert set(found) == {"measurements[0].metric", "measurements[1].unit"}


def test_too_many_measurements_is_refused_before_validation() -> None:
    assert problems(BODY, max_measurements=1) == {
        "measurements": "at most 1 measurements, got 2"}


@pytest.mark.parametrize("data", [[], "text", None, 3])
def test_a_body_that_is_not_an_object(data: Any) -> None:
    assert problems(data) == {"": "the body must be a JSON object"}


def test_no_measurements_is_refused() -> None:
    assert "measurements" in problems(body(measurements=[]))
