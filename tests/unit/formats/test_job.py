"""lsst.verify Job documents on literal bodies (harness.formats.job)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.errors import InvalidInput, MetricConflict
from harness.formats.job import parse_job
from harness.formats.native import ParsedSubmission

from ..examples import CATALOG

RECEIVED = datetime(2026, 11, 20, 4, tzinfo=UTC)
JOB: dict[str, Any] = {
    "measurements": [
        {"metric": "validate_drp.PA1", "identifier": "m1", "value": 4.7, "unit": "mmag",
         "blob_refs": ["b1"]},
        {"metric": "pipe_tasks.runtime", "identifier": "m2", "value": 13.5, "unit": "min",
         "blob_refs": []},
    ],
    "blobs": [{"identifier": "b1", "name": "MatchedMultiVisitDataset",
               "data": {"mag": {"value": [21.1, 21.3], "unit": "mag", "label": "m"}}}],
    "metrics": [], "specs": [],
    "meta": {
        "env": {"env_name": "jenkins", "ci_id": 9187, "ci_name": "jenkins",
                "ci_dataset": "hsc_rc2", "ci_url": "https://ci.example.org/9187",
                "ci_refs": ["main"], "date": "2026-11-20T03:12:00", "added_later": 1},
        "packages": {"pipe_tasks": {"name": "pipe_tasks", "git_sha": "77ab0e2",
                                    "git_url": "https://github.com/lsst/pipe_tasks"}},
        "filter_name": "r",
        "validate_drp.PA1.note": "seeing was poor",
    },
}


def job(**meta: Any) -> dict[str, Any]:
    copied = copy.deepcopy(JOB)
    copied["meta"].update(meta)
    return copied


def parse(data: Any, **options: Any) -> ParsedSubmission:
    return parse_job(data, CATALOG, received=RECEIVED, **options)


def problems(data: Any, **options: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse(data, **options)
    return {problem.path: problem.message for problem in caught.value.problems}


def test_a_job_becomes_a_build_with_measurements_in_the_metrics_units() -> None:
    submission = parse(JOB).submission
    build = submission.build
    assert (build.ci, build.id, build.branch, build.url) == (
        "jenkins", "9187", "main", "https://ci.example.org/9187")
    assert build.time == datetime(2026, 11, 20, 3, 12, tzinfo=UTC)
    assert [(p.name, p.commit) for p in build.packages] == [("pipe_tasks", "77ab0e2")]
    runtime = submission.measurements[1]
    assert (runtime.value, runtime.unit) == (810.0, "s")


def test_dimensions_are_found_under_their_aliases_in_meta_and_env() -> None:
    first, second = parse(JOB).submission.measurements
    assert first.dimensions == {"dataset": "hsc_rc2", "filter": "r"}
    assert second.dimensions == {"dataset": "hsc_rc2"}


def test_blobs_and_notes_are_linked_to_their_measurement() -> None:
    submission = parse(JOB).submission
    linked = [submission.blobs[blob] for blob in submission.measurements[0].blobs]
    assert [blob["name"] for blob in linked] == ["MatchedMultiVisitDataset", "notes"]
    assert linked[0]["identifier"] == "b1"
    assert linked[1]["data"] == {"note": {"value": "seeing was poor"}}
    assert submission.measurements[1].blobs == ()


def test_the_branch_comes_from_the_query_then_ci_refs_then_the_default() -> None:
    assert parse(JOB, branch="release").submission.build.branch == "release"
    without_refs = copy.deepcopy(JOB)
    del without_refs["meta"]["env"]["ci_refs"]
    assert parse(without_refs).submission.build.branch == CATALOG.default_branch
    text_refs = copy.deepcopy(JOB)
    text_refs["meta"]["env"]["ci_refs"] = "tickets/DM-1 other"
    assert parse(text_refs).submission.build.branch == "tickets/DM-1"


def test_a_measurement_without_a_value_is_kept_without_one() -> None:
    data = copy.deepcopy(JOB)
    data["measurements"][1]["value"] = None
    assert parse(data).submission.measurements[1].value is None


def test_an_unknown_metric_suggests_registering_the_documents_own() -> None:
    data = copy.deepcopy(JOB)
    data["measurements"][1]["metric"] = "ap_verify.latency"
    message = problems(data)["measurements[1].metric"]
    assert "unknown metric 'ap_verify.latency'" in message and "register=true" in message


def test_registering_the_documents_metrics_and_specs() -> None:
    data = copy.deepcopy(JOB)
    data["measurements"][1]["metric"] = "ap_verify.latency"
    data["metrics"] = [{"name": "ap_verify.latency", "unit": "min", "description": "d"}]
    data["specs"] = [{"name": "ap_verify.latency.design", "type": "threshold",
                      "threshold": {"value": 10.0, "unit": "min", "operator": "<="},
                      "tags": ["design"]}]
    parsed = parse(data, register=True)
    [metric] = parsed.new_metrics
    assert (metric.name, metric.better, metric.source) == ("ap_verify.latency", "lower",
                                                           "inline")
    assert [(s.level, s.threshold) for s in metric.specs] == [("design", 10.0)]
    assert parsed.submission.measurements[1].value == 13.5


def test_registered_definitions_are_validated_with_paths() -> None:
    data = copy.deepcopy(JOB)
    data["metrics"] = [{"name": "nodots", "unit": "s"}, {"name": "ap.x", "unit": "furlongs"}]
    data["specs"] = [{"name": "ap.x.design", "type": "range"}]
    with pytest.raises(InvalidInput) as caught:
        parse(data, register=True)
    paths = {problem.path for problem in caught.value.problems}
    assert {"metrics[0].name", "metrics[1].unit", "specs[0].type"} <= paths


def test_a_job_may_not_redefine_a_catalog_metric() -> None:
    data = copy.deepcopy(JOB)
    data["metrics"] = [{"name": "validate_drp.PA1", "unit": "s"}]
    with pytest.raises(MetricConflict):
        parse(data, register=True)


def test_a_blob_ref_naming_no_blob_is_named() -> None:
    data = copy.deepcopy(JOB)
    data["measurements"][0]["blob_refs"] = ["b1", "b9"]
    assert problems(data) == {"measurements[0].blob_refs[1]":
                              "names no blob of this document ('b9')"}


@pytest.mark.parametrize(("meta", "path", "message"), [
    ({"filter_name": "r|i"}, "meta.filter_name", "must not contain '|'"),
    ({"filter_name": "x" * 201}, "meta.filter_name", "1 to 200 characters"),
])
def test_a_dimension_value_unfit_for_a_tag_is_named(meta: dict[str, Any], path: str,
                                                   message: str) -> None:
    assert message in problems(job(**meta))[path]


def test_a_ref_unfit_for_a_branch_is_named() -> None:
    data = copy.deepcopy(JOB)
    data["meta"]["env"]["ci_refs"] = ["bad|branch"]
    assert "meta.env.ci_refs[0]" in problems(data)
    assert "branch" in problems(JOB, branch="bad|branch")


def test_a_missing_ci_name_is_named_in_env() -> None:
    data = copy.deepcopy(JOB)
    del data["meta"]["env"]["ci_name"]
    assert problems(data) == {"meta.env.ci_name": "is required"}


def test_a_job_must_be_an_object_with_measurements() -> None:
    assert problems([]) == {"": "the body must be a JSON object (a Job document)"}
    assert "measurements" in problems({**JOB, "measurements": []})
    assert problems(JOB, max_measurements=1) == {"measurements": "at most 1 measurements"}


# --- dimensions from meta: a declared one must be there (unless optional), others dropped


def test_a_missing_declared_dimension_names_where_a_job_gives_it() -> None:
    data = copy.deepcopy(JOB)
    del data["meta"]["filter_name"]
    data["measurements"].append(copy.deepcopy(data["measurements"][0]))  # once, not twice
    with pytest.raises(InvalidInput) as caught:
        parse(data)
    assert [problem.to_json() for problem in caught.value.problems] == [{
        "path": "meta.filter",
        "message": "validate_drp.PA1 declares dimension 'filter'; give it (as 'filter' or "
                   "'filter_name' or 'band' in `meta` or `meta.env`)"}]


def test_a_value_unfit_for_a_tag_is_named_once_not_as_missing_too() -> None:
    assert set(problems(job(filter_name="r|i"))) == {"meta.filter_name"}


def test_a_dimension_in_meta_that_the_metric_does_not_declare_is_dropped_with_a_notice(
) -> None:
    parsed = parse(JOB)
    assert parsed.submission.measurements[1].dimensions == {"dataset": "hsc_rc2"}
    assert [notice.to_json() for notice in parsed.ignored] == [{
        "path": "meta.filter_name",
        "message": "pipe_tasks.runtime does not declare dimension 'filter'; dropped"}]


def test_a_metric_the_job_registers_requires_none_of_its_dimensions() -> None:
    data = copy.deepcopy(JOB)
    del data["meta"]["filter_name"]
    data["measurements"] = [{"metric": "ap_verify.latency", "value": 1.0, "unit": "min"}]
    data["metrics"] = [{"name": "ap_verify.latency", "unit": "min", "better": "lower"}]
    parsed = parse(data, register=True)
    assert parsed.submission.measurements[0].dimensions == {"dataset": "hsc_rc2"}
    assert parsed.ignored == ()
