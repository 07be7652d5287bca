"""Fuzzing the HTTP API against its own OpenAPI document (GET /api/v1/openapi.json).

schemathesis generates valid and invalid requests for every operation and sends them to
the real app (real Redis, InfluxDB and Celery worker behind it); every answer must be
documented (status code, content type, body schema, headers) and none may be a 5xx.
Failures are collected rather than shrunk, so one run reports all of them."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness.model import document_digest
from harness.storage.influx import InfluxStore
from tests.conftest import (
    ADMIN_SECRET,
    INGEST_SECRET,
    TRIAGE_SECRET,
    bearer,
    submission,
    wait_done,
)

MIN_CASES = 2000
# deeper or different runs: HARNESS_FUZZ_CASES_PER_OPERATION=1000 HARNESS_FUZZ_SEED=7
CASES_PER_OPERATION = int(os.environ.get("HARNESS_FUZZ_CASES_PER_OPERATION", "140"))
SEED = os.environ.get("HARNESS_FUZZ_SEED")  # unset: the same cases every run
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# who sends a generated request: mostly the admin token, also no token and narrow scopes
IDENTITIES = ("admin", "admin", "admin", "admin", "admin", "anonymous", "ingest", "triage")


@dataclass
class Tally:
    """What the fuzzing saw: each operation's answers by status, 5xx and contradictions."""

    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # one example per kind of failure

    @property
    def total(self) -> int:
        """Cases sent, over every operation."""
        return sum(self.answers.values())

    @property
    def operations(self) -> set[str]:
        """The operations that were sent cases."""
        return {label for label, _ in self.answers}

    def statuses(self) -> Counter[int]:
        """How many answers had each status code."""
        counts: Counter[int] = Counter()
        for (_, status), count in self.answers.items():
            counts[status] += count
        return counts


@pytest.fixture
def schema(app: Any) -> schemathesis.BaseSchema:
    """The document as the real app serves it, bound to that app for the requests.
    (`from_wsgi` would leave out the document's own operation.)"""
    document = app.test_client().get("/api/v1/openapi.json")
    assert document.status_code == 200
    loaded = schemathesis.openapi.from_dict(document.json)
    loaded.app = app
    return loaded


def identity_headers(client: Any) -> dict[str, dict[str, str]]:
    """The Authorization header of each identity (a squash access token for /squash/)."""
    answer = client.post("/squash/auth", json={"username": "ops", "password": ADMIN_SECRET})
    assert answer.status_code == 200, answer.json
    return {"admin": bearer(ADMIN_SECRET), "ingest": bearer(INGEST_SECRET),
            "triage": bearer(TRIAGE_SECRET), "anonymous": {},
            "squash": {"Authorization": f"JWT {answer.json['access_token']}"}}


@dataclass(frozen=True)
class Known:
    """Resources that exist, so that generated requests reach more than 404s."""

    path: dict[str, str]  # path parameter → a value naming an existing resource
    queries: dict[str, dict[str, Any]]  # operation → query arguments that find something


def existing_resources(client: Any) -> Known:
    """Two builds of a branch, the second breaching PA1's specs (an alert) with a package
    change, a blob, and a document digest; every one named for the fuzzer."""
    first = submission()
    second = submission(id="9188", time="2026-11-21T03:12:00Z")
    second["measurements"][0]["value"] = 20.0  # mmag: fails PA1's minimum spec in r
    second["build"]["packages"][0]["commit"] = "88bc1f3"
    for body in (first, second):
        del body["build"]["pull_request"]  # builds of main: pull requests never alert
        answer = client.post("/api/v1/submissions", json=body, headers=bearer())
        assert answer.status_code == 202, answer.json
        status = wait_done(client, answer.json["status_url"])
        assert status["state"] == "done", status
    [alert] = status["alerts"]
    [summary] = client.get("/api/v1/alert-summaries").json["summaries"]
    blob = next(blob for result in status["results"] for blob in result["blobs"])
    return Known(
        path={"ci": "github-actions", "build_id": "9188", "metric_name": "validate_drp.PA1",
              "submission_id": answer.json["submission"], "alert_id": alert["id"],
              "summary_id": summary["id"], "blob_id": blob},
        queries={"GET /api/v1/submissions": {"digest": document_digest(second)},
                 "GET /api/v1/report": {"branch": "main"},
                 "GET /api/v1/alerts": {"metric": "validate_drp.PA1"},
                 "GET /api/v1/alert-summaries": {"metric": "validate_drp.PA1"}},
    )


def valid_bodies(app: Any) -> dict[str, st.SearchStrategy[tuple[Any, dict[str, str]]]]:
    """Per ingest operation, documents (with query arguments) that pass validation more often
    than not: catalog metrics in their units, odd but printable text in the build and the
    dimensions, and Job documents that register metrics and specs of their own.
    (schemathesis alone hardly ever names a metric the catalog has.)"""
    catalog = app.extensions["harness"].catalog
    printable = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1,
                        max_size=24).filter(lambda text: text == text.strip())
    text = printable | printable | printable | st.text(min_size=1, max_size=24)
    metric = st.sampled_from([(m.name, m.unit) for m in catalog.metrics.values()])
    value = st.floats(allow_nan=False, allow_infinity=False)
    moment = st.datetimes(datetime(1990, 1, 1), datetime(2200, 1, 1),
                          timezones=st.just(UTC)).map(datetime.isoformat)
    ci = st.sampled_from(["github-actions", "jenkins"]) | text
    unit = st.sampled_from(["", "s", "min", "mmag", "%", "furlong"])

    def measurement(named: tuple[str, str], job: bool = False) -> Any:
        right = st.just(named[1]) | st.just(named[1]) | unit
        if job:  # in a Job, no unit is "dimensionless"
            return st.fixed_dictionaries(
                {"metric": st.just(named[0]), "value": value | st.none(), "unit": right})
        return st.fixed_dictionaries({"metric": st.just(named[0]), "value": value},
                                     optional={"unit": right})

    native = st.fixed_dictionaries(
        {"build": st.fixed_dictionaries(
            {"ci": ci, "id": text, "branch": st.sampled_from(["main", "fuzz"]) | text},
            optional={"time": moment, "commit": text, "pull_request": st.fixed_dictionaries(
                {"number": st.integers(1, 10**6)}, optional={"base": text})}),
         "measurements": st.lists(metric.flatmap(measurement), min_size=1, max_size=4)},
        optional={"dimensions": st.dictionaries(st.sampled_from(sorted(catalog.dimensions)),
                                                text, max_size=3)})
    definition: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
        {"name": st.from_regex(r"\Afuzz_[a-z]{1,4}\.[A-Za-z0-9_]{1,6}\Z"), "unit": unit},
        optional={"description": text, "better": st.sampled_from(["lower", "higher"]),
                  "tags": st.lists(text, max_size=2),
                  "reference": st.dictionaries(text, text | st.integers(), max_size=2)})

    def spec(named: dict[str, Any]) -> Any:
        return st.fixed_dictionaries(
            {"name": (st.sampled_from(["design", "minimum", "stretch"]) | text)
             .map(lambda level: f"{named['name']}.{level}"),
             "threshold": st.fixed_dictionaries(
                 {"value": value, "operator": st.sampled_from(["<", "<=", ">", ">=", "=="])},
                 optional={"unit": st.just(named["unit"]) | unit})},
            optional={"type": st.just("threshold"),
                      "tags": st.sampled_from([["design"], ["minimum"], ["stretch"]])
                      | st.lists(text, max_size=2),
                      "metadata_query": st.dictionaries(
                          st.sampled_from(sorted(catalog.dimensions)) | text,
                          text | st.lists(text, max_size=2), max_size=2)})

    @st.composite
    def job(draw: Any) -> dict[str, Any]:
        own = draw(st.lists(definition, max_size=2, unique_by=lambda d: d["name"]))
        named = metric | st.sampled_from([(d["name"], d["unit"]) for d in own]) if own else metric
        document = draw(st.fixed_dictionaries(
            {"measurements": st.lists(named.flatmap(lambda m: measurement(m, job=True)),
                                      min_size=1, max_size=4),
             "meta": st.fixed_dictionaries(
                 {"env": st.fixed_dictionaries(
                     {"ci_id": text | st.integers(0, 10**9), "ci_name": ci},
                     optional={"ci_dataset": text, "date": moment, "ci_refs": text})},
                 optional={"filter_name": text, "instrument": text})}))
        if own:
            document["metrics"] = own
            document["specs"] = [draw(spec(d)) for d in own if draw(st.booleans())]
        return document

    register = st.sampled_from([{}, {"register": "true"}])
    return {"POST /api/v1/submissions": st.tuples(native, st.just({})),
            "POST /api/v1/jobs": st.tuples(job(), register),
            "POST /squash/job": st.tuples(job(), st.just({}))}


def strategies(operation: Any, known: Known,
               bodies: dict[str, st.SearchStrategy[tuple[Any, dict[str, str]]]]) -> list[Any]:
    """Valid and invalid cases of an operation (some cannot be made invalid), cases about
    the known resources, and documents that the ingest operations accept."""
    found = [operation.as_strategy(GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # an operation with nothing to negate
        found.append(operation.as_strategy(GenerationMode.NEGATIVE))
    names = re.findall(r"{(\w+)}", operation.path)
    fixed = {name: known.path[name] for name in names if name in known.path}
    if fixed:
        found.append(operation.as_strategy(path_parameters=fixed))
    if operation.label in known.queries:
        found.append(operation.as_strategy(query=known.queries[operation.label]))
    if operation.label in bodies:
        found.append(st.tuples(operation.as_strategy(), bodies[operation.label]).map(with_body))
    if operation.label == "POST /api/v1/alerts/bulk":  # a set naming an alert that exists
        triage = st.fixed_dictionaries(
            {"ids": st.just([known.path["alert_id"]]),
             "action": st.sampled_from(["acknowledge", "resolve", "invalidate"])},
            optional={"note": st.text(max_size=40)})
        found.append(st.tuples(operation.as_strategy(), st.tuples(triage, st.just({})))
                     .map(with_body))
    return found


def with_body(drawn: tuple[Any, tuple[Any, dict[str, str]]]) -> Any:
    """The case, sending this body and these query arguments instead of its own."""
    case, (body, query) = drawn
    case.body = body
    case.query = query
    return case


def fuzz(operation: Any, strategy: Any, headers: dict[str, dict[str, str]],
         tally: Tally) -> None:
    """Send up to CASES_PER_OPERATION generated cases to one operation, recording each."""
    label = operation.label

    @settings(max_examples=CASES_PER_OPERATION, deadline=None, derandomize=SEED is None,
              database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, identity=st.sampled_from(IDENTITIES))
    @seed(int(SEED or 0))
    def send(case: Any, identity: str) -> None:
        sent = dict(headers[identity])
        if label == "POST /squash/job" and identity == "admin":
            sent = headers["squash"]
        try:
            response = case.call(headers=sent)
        except Exception as error:  # unhandled in the app: a 500 in production
            tally.answers[(label, 500)] += 1
            tally.server_errors.append(f"{label}: {type(error).__name__}: {error}")
            tally.failures.setdefault(f"{label} raised {type(error).__name__}",
                                      f"{case.as_curl_command(headers=sent)}\n{error!r}")
            return
        tally.answers[(label, response.status_code)] += 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{label}: {response.status_code} {response.text[:200]}")
        try:
            case.validate_response(response, checks=CHECKS, headers=sent)
        except FailureGroup as group:
            for failure in group.exceptions:
                tally.failures.setdefault(f"{label}: {failure.title}", str(group)[:3000])

    send()


def report(tally: Tally, seconds: float) -> dict[str, Any]:
    """The figures of a run, printed and appended to $HARNESS_FUZZ_REPORT when set."""
    per_operation: dict[str, dict[str, int]] = {}
    for (label, status), count in sorted(tally.answers.items()):
        per_operation.setdefault(label, {})[str(status)] = count
    figures = {"test": "fuzz_api", "cases": tally.total, "operations": len(tally.operations),
               "server_errors": len(tally.server_errors),
               "contradictions": len(tally.failures), "seconds": round(seconds, 1),
               "statuses": {str(code): n for code, n in sorted(tally.statuses().items())},
               "per_operation": per_operation}
    print(json.dumps(figures, indent=1))
    if os.environ.get("HARNESS_FUZZ_REPORT"):
        with open(os.environ["HARNESS_FUZZ_REPORT"], "a", encoding="utf-8") as stream:
            stream.write(json.dumps(figures) + "\n")
    return figures


def test_fuzzed_requests_get_documented_answers_and_no_5xx(
    app: Any, client: Any, system: InfluxStore, schema: Any
) -> None:
    known = existing_resources(client)
    headers = identity_headers(client)
    bodies = valid_bodies(app)
    operations = [result.ok() for result in schema.get_all_operations()]
    tally = Tally()
    started = time.monotonic()

    for operation in operations:
        fuzz(operation, st.one_of(*strategies(operation, known, bodies)), headers, tally)

    report(tally, time.monotonic() - started)
    assert tally.operations == {operation.label for operation in operations}
    assert tally.total >= MIN_CASES
    # the cases got past authentication and validation too, not only refused at the door
    assert {200, 202, 401, 403, 404, 409, 422} <= set(tally.statuses())
    assert not tally.server_errors and not tally.failures, "\n\n".join(
        [*tally.server_errors[:20], *(f"== {kind}\n{example}"
                                      for kind, example in tally.failures.items())])


# --- the document itself, and what fuzzing found ----------------------------------------

def test_document_describes_every_api_route(app: Any, client: Any) -> None:
    document = client.get("/api/v1/openapi.json").json
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules()
              if rule.rule.startswith(("/api/", "/squash/", "/healthz"))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item}
    assert documented == routes
    native = document["components"]["schemas"]["SubmissionIn"]
    assert native["required"] == ["build", "measurements"]
    assert native["properties"]["measurements"]["maxItems"] == 10_000  # the configured limit


@pytest.mark.parametrize("since", ["0504-06-16T22:57:42-19:59", "8668-11-17T21:43:20+19:44",
                                   "0001-01-01T00:00:00+19:59", "9999-12-31T23:59:59-19:59"])
def test_series_since_beyond_what_influxdb_holds_is_no_server_error(
    client: Any, influx: InfluxStore, since: str
) -> None:
    # fuzzing found: InfluxDB refused the time literal ("overflows time literal") → 500
    response = client.get("/api/v1/metrics/validate_drp.PA1/series",
                          query_string={"since": since})
    assert response.status_code == 200, response.json
    assert response.json["series"] == []


@pytest.mark.parametrize("until", ["0504-06-16T22:57:42", "3236-04-03T10:46:04.7+16:01",
                                   "0001-01-01T00:00:00+19:59", "9999-12-31T23:59:59-19:59"])
def test_report_until_beyond_what_influxdb_holds_is_no_server_error(
    client: Any, influx: InfluxStore, until: str
) -> None:
    # fuzzing found: a year before 1000 became an unpadded, unparsable time, a year out of
    # InfluxDB's range overflowed its time literal, and a far time with an offset overflowed
    # Python's datetime on conversion to UTC: each a 500
    response = client.get("/api/v1/report", query_string={"until": until})
    assert response.status_code == 404, response.json
    assert response.json["error"].startswith("no results on branch main until ")
