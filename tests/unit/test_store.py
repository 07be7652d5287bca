"""The store's pure parts: times in nanoseconds and RFC 3339, InfluxQL literals, the points
a submission becomes, build records as the API shows them (harness.storage.influx)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.model import (
    Build,
    Excursion,
    Measurement,
    Package,
    PullRequest,
    Result,
    StoredResult,
    Submission,
)
from harness.storage.influx import (
    build_point,
    build_record,
    dimensions_of,
    identifier,
    rejudged_point,
    result_point,
    stored_result,
)
from harness.times import EARLIEST, LATEST, nanoseconds, point_time, rfc3339, time_literal

MOMENT = datetime(2026, 11, 20, 3, 12, 0, 123456, tzinfo=UTC)
MOMENT_NS = 1_795_144_320_123_456_000


# --- times ----------------------------------------------------------------------------------


def test_nanoseconds_are_exact_to_the_microsecond() -> None:
    assert nanoseconds(MOMENT) == MOMENT_NS
    assert nanoseconds(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert nanoseconds(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)) == -1_000_000_000


def test_the_offset_of_a_moment_does_not_change_its_nanoseconds() -> None:
    elsewhere = MOMENT.astimezone(timezone(timedelta(hours=-7)))
    assert nanoseconds(elsewhere) == MOMENT_NS


def test_a_naive_moment_is_taken_as_utc() -> None:
    assert nanoseconds(MOMENT.replace(tzinfo=None)) == MOMENT_NS


def test_a_point_time_is_rfc3339_to_the_microsecond_with_z() -> None:
    assert point_time(MOMENT_NS) == "2026-11-20T03:12:00.123456Z"
    assert point_time(MOMENT_NS + 999) == "2026-11-20T03:12:00.123456Z"
    assert point_time(nanoseconds(datetime(2026, 1, 1, tzinfo=UTC))) == "2026-01-01T00:00:00Z"


def test_rfc3339_keeps_every_nanosecond() -> None:
    assert rfc3339(MOMENT_NS + 789) == "2026-11-20T03:12:00.123456789Z"
    assert rfc3339(0) == "1970-01-01T00:00:00.000000000Z"


def test_a_time_literal_is_clamped_to_what_influxdb_can_store() -> None:
    assert time_literal(datetime(1000, 1, 1, tzinfo=UTC)) == rfc3339(nanoseconds(EARLIEST))
    assert time_literal(datetime(9999, 1, 1, tzinfo=UTC)) == rfc3339(nanoseconds(LATEST))
    assert time_literal(MOMENT.replace(tzinfo=None)) == "2026-11-20T03:12:00.123456000Z"


@given(st.datetimes(min_value=datetime(1700, 1, 1), max_value=datetime(2240, 12, 31),
                    timezones=st.just(UTC)))
def test_a_point_time_reads_back_as_the_same_moment(moment: datetime) -> None:
    text = point_time(nanoseconds(moment))
    assert text.endswith("Z")
    assert datetime.fromisoformat(text.replace("Z", "+00:00")) == moment
    assert rfc3339(nanoseconds(moment))[:19] == text[:19]


@pytest.mark.parametrize("year", [1690, 2243])
def test_a_point_time_at_the_ends_of_the_storable_range_keeps_its_microsecond(year: int) -> None:
    moment = datetime(year, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert point_time(nanoseconds(moment)) == f"{year}-01-01T00:00:00.000001Z"


# --- names -------------------------------------------------------------------------------------


def test_an_identifier_is_quoted_and_escaped() -> None:
    assert identifier("harness") == '"harness"'
    assert identifier('we"ird\\name') == '"we\\"ird\\\\name"'


def test_dimensions_of_stored_tags_leave_out_metric_branch_and_empty_tags() -> None:
    assert dimensions_of({"metric": "pkg.m", "branch": "main", "filter": "r",
                          "dataset": ""}) == {"filter": "r"}


# --- points and records -----------------------------------------------------------------------


BUILD = Build("jenkins", "9187", "main", MOMENT, "https://ci.example.org/9187", "3f2c9e1",
              PullRequest(412, "https://git.example.org/pr/412", "main"),
              (Package("pipe_tasks", "77ab0e2", "https://git.example.org/pipe_tasks"),))
SUBMISSION = Submission(
    "sub-1", BUILD, (Measurement("pkg.m", 4.5, "mmag", {"filter": "r", "dataset": "hsc"},
                                 ("blob1", "blob2"), (4.0, 5.0)),),
    datetime(2026, 11, 20, 4, tzinfo=UTC))


def test_a_result_point_tags_only_metric_branch_and_dimensions() -> None:
    result = Result(SUBMISSION.measurements[0], "design", "pkg.m.design",
                    Excursion(baseline=4.0, noise=0.1, change=0.5, relative_change=0.125,
                              score=1.2, decision="ok", started=0, threshold=3.35))
    point = result_point(SUBMISSION, result, MOMENT_NS)
    assert point.tags == {"metric": "pkg.m", "branch": "main", "dataset": "hsc", "filter": "r"}
    assert point.fields["value"] == 4.5 and point.fields["blobs"] == "blob1,blob2"
    assert (point.fields["sample_count"], point.fields["sample_spread"]) == (
        2, pytest.approx(0.70710678))
    assert (point.fields["baseline"], point.fields["decision"]) == (4.0, "ok")
    assert "noise" not in point.fields
    assert (point.fields["pr_number"], point.fields["pr_base"]) == (412, "main")
    assert point.time == MOMENT_NS


def test_a_result_point_reads_back_as_a_stored_result() -> None:
    excursion = Excursion(4.0, 0.1, 0.5, 0.125, 1.2, "ok", 0, 3.35)
    point = result_point(SUBMISSION, Result(SUBMISSION.measurements[0], "design",
                                            "pkg.m.design", excursion), MOMENT_NS)
    stored = stored_result(point.tags, {**point.fields, "time": point.time})
    assert stored == StoredResult(
        "pkg.m", {"dataset": "hsc", "filter": "r"}, 4.5, "mmag", "design", "pkg.m.design",
        ("blob1", "blob2"), 4.0, 1.2, "ok", 0.5, MOMENT_NS, "jenkins", "9187",
        "https://ci.example.org/9187", "3f2c9e1", "sub-1", 2, SUBMISSION.measurements[0].spread,
        BUILD.pull_request)
    assert stored.to_json() == {"metric": "pkg.m", "dimensions": {"dataset": "hsc",
                                "filter": "r"}, "value": 4.5, "unit": "mmag",
                                "verdict": "design", "spec": "pkg.m.design",
                                "excursion": {"decision": "ok", "baseline": 4.0,
                                              "change": 0.5, "score": 1.2}}


def test_a_point_judged_again_carries_only_its_judgement() -> None:
    excursion = Excursion(4.0, 0.1, 2.5, 0.625, 5.2, "regression", 2, 3.35)
    point = rejudged_point("pkg.m", {"filter": "r"}, "main", MOMENT_NS, excursion)
    assert point.tags == {"metric": "pkg.m", "branch": "main", "filter": "r"}
    assert point.fields == {"baseline": 4.0, "change": 2.5, "score": 5.2,
                             "decision": "regression"}
    assert point.time == MOMENT_NS


def test_a_result_without_a_value_or_excursion_has_neither_field() -> None:
    measurement = Measurement("pkg.m", None, "mmag")
    point = result_point(SUBMISSION, Result(measurement, "none"), MOMENT_NS)
    fields = point.fields
    assert not {"value", "baseline", "decision", "sample_count", "blobs"} & fields.keys()
    assert (fields["verdict"], fields["spec"]) == ("none", "")


def test_a_build_point_reads_back_as_the_build() -> None:
    point = build_point(SUBMISSION, MOMENT_NS)
    assert point.tags == {"ci": "jenkins", "branch": "main"}
    row = {**point.tags, **point.fields, "time": point.time}
    record = build_record(row)
    assert record.build == BUILD and (record.time, record.submission) == (MOMENT_NS, "sub-1")
    assert record.judged_on == "main"
    assert record.to_json() == {
        "ci": "jenkins", "id": "9187", "branch": "main", "time": "2026-11-20T03:12:00.123456Z",
        "url": "https://ci.example.org/9187", "commit": "3f2c9e1",
        "packages": [{"name": "pipe_tasks", "commit": "77ab0e2",
                      "url": "https://git.example.org/pipe_tasks", "version": None}],
        "links": {"self": "/api/v1/builds/jenkins/9187"},
        "pull_request": {"number": 412, "url": "https://git.example.org/pr/412",
                         "base": "main"},
    }
    assert json.loads(str(row["packages"]))[0]["name"] == "pipe_tasks"


def test_a_build_record_without_a_pull_request_shows_none() -> None:
    record = build_record({"ci": "gha", "build_id": "7/1", "branch": "main", "time": 0,
                           "packages": "[]"})
    assert record.build.pull_request is None and record.build.packages == ()
    shown = record.to_json()
    assert "pull_request" not in shown
    assert shown["links"]["self"] == "/api/v1/builds/gha/7%2F1"
