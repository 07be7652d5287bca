"""The harness's own line-protocol encoder writes byte for byte what influxdb_client's `Point`
writes, for any text and number, and for every point the harness builds
(harness.storage.lineprotocol)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from influxdb_client.client.write.point import Point

from harness.alerting.alerts import EXCURSION_KINDS, Alert
from harness.alerting.log import EVENTS, AlertLog, event_point, opened_point
from harness.model import Build, Excursion, Measurement, PullRequest, Result, Submission
from harness.storage.influx import BUILDS, RESULTS, build_point, rejudged_point, result_point
from harness.storage.lineprotocol import FieldValue, Line, encode
from harness.testing.hostile import PAYLOADS
from harness.times import nanoseconds, parse_utc
from tests.unit.examples import alert
from tests.unit.test_store import BUILD, MOMENT, MOMENT_NS, SUBMISSION

HOSTILE = [*PAYLOADS.values(), "", " ", "\\", "main\\", "a\\ b", "#comment", "=", ",", '"',
           "\r\n", "a\u2028b", "\x00", "ünï ☃", "🚀" * 50, "x" * 100_000, "'; DROP --"]
SPECIAL = st.sampled_from(',= \n\t\r"\\#\'é☃🚀\x00\u2028')
TEXT = (st.text() | st.sampled_from(HOSTILE)
        | st.text(alphabet=SPECIAL | st.characters(), max_size=40)
        | st.text(alphabet=SPECIAL, min_size=1, max_size=10_000))
FLOATS = st.floats() | st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308,
                                        1.7976931348623157e308, -1.7976931348623157e308,
                                        1e16, 1e-7, 0.1, 123456789.0, float("nan"),
                                        float("inf"), float("-inf")])
INTEGERS = st.integers() | st.sampled_from([0, -1, 2**63 - 1, -(2**63), 2**64, -(2**70)])
VALUES = st.none() | st.booleans() | INTEGERS | FLOATS | TEXT
TIMES = st.none() | st.integers(-(2**63), 2**63 - 1)


def point_line(measurement: str, tags: Mapping[str, str | None],
               fields: Mapping[str, FieldValue], time: int | None) -> str:
    """What influxdb_client writes for the same point."""
    point = Point(measurement)
    for key, value in tags.items():
        point = point.tag(key, value)
    for name, field in fields.items():
        point = point.field(name, field)
    if time is not None:
        point = point.time(time)
    with warnings.catch_warnings():  # a measurement starting with "#" is a comment: it warns
        warnings.simplefilter("ignore", SyntaxWarning)
        return str(point.to_line_protocol())


@settings(max_examples=1500, deadline=None)
@given(TEXT, st.dictionaries(TEXT, st.none() | TEXT, max_size=6),
       st.dictionaries(TEXT, VALUES, max_size=8), TIMES)
def test_any_point_is_encoded_as_influxdb_client_encodes_it(
        measurement: str, tags: dict[str, str | None], fields: dict[str, FieldValue],
        time: int | None) -> None:
    expected = point_line(measurement, tags, fields, time)
    assert encode(measurement, tags, fields, time) == expected
    present = {key: value for key, value in tags.items() if value is not None}
    assert Line(measurement, present, fields, time).to_line_protocol() == expected


@given(st.sampled_from(HOSTILE), st.sampled_from(HOSTILE), FLOATS | INTEGERS | st.booleans())
def test_hostile_text_in_every_position_is_encoded_as_influxdb_client_does(
        text: str, other: str, number: FieldValue) -> None:
    tags = {text: other, other: text, "k": text}
    fields = {text: other, other: number, "s": text, "n": number}
    assert encode(text, tags, fields, 1) == point_line(text, tags, fields, 1)


def test_a_point_with_no_field_left_is_an_empty_line() -> None:
    assert encode("m", {"a": "b"}, {"x": None, "y": float("nan")}) == ""
    assert encode("m", {}, {"y": float("inf"), "z": 1.0}, 5) == "m z=1 5"


def test_the_encoding_is_influxdb_line_protocol() -> None:
    line = encode("res ults", {"metric": "a,b=c d", "branch": "main\\", "empty": ""},
                  {"value": 4.0, "n": 3, "ok": True, "note": 'say "hi"\\', "w": 1e16}, 7)
    assert line == ('res\\ ults,branch=main\\ ,metric=a\\,b\\=c\\ d '
                    'n=3i,note="say \\"hi\\"\\\\",ok=true,value=4,w=1e+16 7')


def test_subclasses_of_field_types_are_encoded_as_their_base_types() -> None:
    class Name(str):
        pass

    class Count(int):
        pass

    class Ratio(float):
        pass

    fields: dict[str, FieldValue] = {"a": Name('x"y'), "b": Count(3), "c": Ratio(0.5)}
    assert encode("m", {}, fields) == point_line("m", {}, fields, None)
    bad: dict[str, Any] = {"x": [1]}
    for encoder in (lambda: encode("m", {}, bad), lambda: point_line("m", {}, bad, None)):
        try:
            encoder()
        except ValueError as error:
            assert "not supported" in str(error)
        else:
            raise AssertionError("a list field is refused")


# --- the harness's points, against the Point-based builders they replace -------------------


def old_build_point(submission: Submission, time: int) -> Point:
    build = submission.build
    point = (Point(BUILDS).tag("ci", build.ci).tag("branch", build.branch)
             .field("build_id", build.id).field("submission", submission.id)
             .field("received", submission.received.isoformat())
             .field("packages", json.dumps(build.packages_json()))
             .field("measurements", len(submission.measurements)).time(time))
    return old_build_fields(point, build)


def old_result_point(submission: Submission, result: Result, time: int) -> Point:
    measurement, build = result.measurement, submission.build
    point = old_series_point(measurement.metric, measurement.dimensions, build.branch)
    if measurement.value is not None:
        point = point.field("value", float(measurement.value))
    if measurement.blobs:
        point = point.field("blobs", ",".join(measurement.blobs))
    if measurement.samples:
        point = point.field("sample_count", measurement.count)
        point = point.field("sample_spread", float(measurement.spread))
    point = (old_with_excursion(point, result.excursion)
             .field("unit", measurement.unit).field("verdict", result.verdict)
             .field("spec", result.spec or "").field("ci", build.ci)
             .field("build_id", build.id).field("submission", submission.id).time(time))
    return old_build_fields(point, build)


def old_series_point(metric: str, dimensions: Mapping[str, str], branch: str) -> Point:
    point = Point(RESULTS).tag("metric", metric).tag("branch", branch)
    for key, value in sorted(dimensions.items()):
        point = point.tag(key, value)
    return point


def old_with_excursion(point: Point, excursion: Excursion | None) -> Point:
    if excursion is None:
        return point
    return (point.field("baseline", float(excursion.baseline))
            .field("change", float(excursion.change)).field("score", float(excursion.score))
            .field("decision", excursion.decision))


def old_build_fields(point: Point, build: Build) -> Point:
    if build.url:
        point = point.field("build_url", build.url)
    if build.commit:
        point = point.field("commit", build.commit)
    if build.pull_request is not None:
        point = point.field("pr_number", int(build.pull_request.number))
        if build.pull_request.url:
            point = point.field("pr_url", build.pull_request.url)
        if build.pull_request.base:
            point = point.field("pr_base", build.pull_request.base)
    return point


def old_opened_point(alert: Alert) -> Point:
    named = alert.started_time if alert.kind in EXCURSION_KINDS and alert.started_time \
        else alert.time
    return (Point(EVENTS).tag("alert", alert.id).tag("metric", alert.metric)
            .field("event", "opened").field("kind", alert.kind)
            .field("severity", alert.severity).field("series", alert.series)
            .field("build_id", alert.build_id)
            .field("build_time", nanoseconds(parse_utc(alert.time)))
            .field("document", json.dumps(alert.to_json() | {"history": []}))
            .time(nanoseconds(parse_utc(named))))


def old_event_point(alert: Alert, event: str, actor: str, note: str, when: datetime,
                    fields: Mapping[str, str] | None = None) -> Point:
    point = (Point(EVENTS).tag("alert", alert.id).tag("metric", alert.metric)
             .field("event", event).field("actor", actor).field("note", note))
    for name, value in (fields or {}).items():
        point = point.field(name, value)
    return point.time(nanoseconds(when))


def old_record(alert_id: str, event: str, actor: str, note: str, when: datetime,
               metric: str) -> Point:
    point = Point(EVENTS).tag("alert", alert_id)
    if metric:
        point = point.tag("metric", metric)
    return (point.field("event", event).field("actor", actor).field("note", note)
            .time(nanoseconds(when)))


EXCURSIONS = st.none() | st.builds(
    Excursion, baseline=FLOATS, noise=st.just(0.1), change=FLOATS, relative_change=st.none(),
    score=FLOATS, decision=st.sampled_from(["ok", "regression", "improvement"]),
    started=st.integers(0, 3), threshold=st.just(3.35))
MEASUREMENTS = st.builds(
    Measurement, metric=TEXT, value=st.none() | FLOATS, unit=TEXT,
    dimensions=st.dictionaries(TEXT, TEXT, max_size=4),
    blobs=st.lists(TEXT, max_size=3).map(tuple),
    samples=st.lists(st.floats(-1e6, 1e6), max_size=4).map(tuple))
BUILDS_ = st.builds(
    Build, ci=TEXT, id=TEXT, branch=TEXT, time=st.just(MOMENT), url=st.none() | TEXT,
    commit=st.none() | TEXT,
    pull_request=st.none() | st.builds(PullRequest, st.integers(1, 10**6),
                                       st.none() | TEXT, st.none() | TEXT),
    packages=st.just(BUILD.packages))


@settings(max_examples=300, deadline=None)
@given(st.builds(Submission, id=TEXT, build=BUILDS_, measurements=st.just(()),
                 received=st.just(MOMENT)),
       MEASUREMENTS, st.sampled_from(["none", "design", "fail"]), st.none() | TEXT, EXCURSIONS,
       st.integers(-(2**62), 2**62))
def test_a_submissions_points_are_the_lines_the_point_builders_wrote(
        submission: Submission, measurement: Measurement, verdict: Any, spec: str | None,
        excursion: Excursion | None, time: int) -> None:
    result = Result(measurement, verdict, spec, excursion)
    assert build_point(submission, time).to_line_protocol() == \
        old_build_point(submission, time).to_line_protocol()
    assert result_point(submission, result, time).to_line_protocol() == \
        old_result_point(submission, result, time).to_line_protocol()
    if excursion is not None:
        dimensions, branch = measurement.dimensions, submission.build.branch
        assert rejudged_point(measurement.metric, dimensions, branch, time,
                              excursion).to_line_protocol() == old_with_excursion(
            old_series_point(measurement.metric, dimensions, branch), excursion
        ).time(time).to_line_protocol()


def test_the_example_submissions_points_are_the_lines_the_point_builders_wrote() -> None:
    excursion = Excursion(4.0, 0.1, 0.5, 0.125, 1.2, "ok", 0, 3.35)
    for result in (Result(SUBMISSION.measurements[0], "design", "pkg.m.design", excursion),
                   Result(Measurement("pkg.m", None, "mmag"), "none")):
        assert result_point(SUBMISSION, result, MOMENT_NS).to_line_protocol() == \
            old_result_point(SUBMISSION, result, MOMENT_NS).to_line_protocol()
    assert build_point(SUBMISSION, MOMENT_NS).to_line_protocol() == \
        old_build_point(SUBMISSION, MOMENT_NS).to_line_protocol()


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["regression", "improvement", "spec"]), st.sampled_from(HOSTILE),
       st.sampled_from(HOSTILE), st.none() | st.just("2026-11-17T03:00:00+00:00"),
       st.dictionaries(st.sampled_from(["summary", "relation", "assignee", "bug_url"]), TEXT))
def test_an_alerts_events_are_the_lines_the_point_builders_wrote(
        kind: str, text: str, other: str, started: str | None, fields: dict[str, str]) -> None:
    found = alert(kind, series=(text, {text: other, "filter": "r"}, other), build=other,
                  started_time=started, reason=text, commit=other)
    when = datetime(2026, 11, 21, 5, tzinfo=UTC)
    assert opened_point(found).to_line_protocol() == old_opened_point(found).to_line_protocol()
    assert event_point(found, "reassigned", text, other, when, fields).to_line_protocol() == \
        old_event_point(found, "reassigned", text, other, when, fields).to_line_protocol()


class WrittenLines:
    """A store that keeps the lines written to it."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, points: Any) -> int:
        self.lines += [point.to_line_protocol() for point in points]
        return len(self.lines)


def test_a_recorded_event_is_the_line_the_point_builder_wrote() -> None:
    store = WrittenLines()
    log = AlertLog(store)  # type: ignore[arg-type]
    for metric in ("", "pkg.m", PAYLOADS["comma-equals-space"]):
        for text in ("", *PAYLOADS.values()):
            log.record("a1" + text, "acknowledged", text, text, MOMENT, metric)
            assert store.lines[-1] == old_record(
                "a1" + text, "acknowledged", text, text, MOMENT, metric).to_line_protocol()
    assert len(store.lines) == 3 * (1 + len(PAYLOADS))
