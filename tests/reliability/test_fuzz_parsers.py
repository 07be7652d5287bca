"""Hypothesis fuzz of the ingest parsers: the native format, lsst.verify Job JSON, and the
raw request body on its way to them.

Arbitrary JSON values, valid documents with mutated fields, and arbitrary bytes go in; the
only allowed outcomes are a parsed submission (which the worker can serialize and turn into
line protocol, with tag values InfluxDB can keep) or the harness's own input errors, each
problem carrying a path that names a place in the document. Anything else is a crash.

Run with `-s` to see how many examples each target ran."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import hypothesis.strategies as st
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings

from harness.catalog import Catalog, load_catalog
from harness.detection.verdicts import judge
from harness.errors import InvalidInput, MetricConflict, Problem
from harness.formats.job import parse_job
from harness.formats.native import ParsedSubmission, parse_submission
from harness.model import Submission, document_digest
from harness.storage.influx import build_point, result_point
from harness.web.api.submissions import read_json
from tests.conftest import CHECKOUT, SUBMISSION

EXAMPLES = 1500  # per target; the whole module stays well under 30 s
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much,
                                       HealthCheck.large_base_example])
RECEIVED = datetime(2026, 11, 22, tzinfo=UTC)
RUNS: Counter[str] = Counter()  # examples run per target
OUTCOMES: Counter[str] = Counter()  # parsed / refused per target

JOB: dict[str, Any] = {
    "measurements": [
        {"metric": "validate_drp.PA1", "identifier": "m-pa1", "value": 4.2, "unit": "mmag",
         "blob_refs": ["b-phot"]},
        {"metric": "validate_drp.TE1", "identifier": "m-te1", "value": None, "unit": "",
         "blob_refs": []},
    ],
    "blobs": [{"identifier": "b-phot", "name": "MatchedMultiVisitDataset",
               "data": {"mag": {"value": [17.1, 18.4], "unit": "mag", "label": "mag",
                                "description": "PSF magnitude"}}}],
    "metrics": [{"name": "my_pipe.latency", "description": "latency", "unit": "s"}],
    "specs": [{"name": "my_pipe.latency.design", "type": "threshold",
               "threshold": {"value": 3.0, "unit": "min", "operator": "<="},
               "tags": ["design"], "metadata_query": {}}],
    "meta": {
        "env": {"env_name": "jenkins", "ci_id": "4512", "ci_name": "validate_drp",
                "ci_dataset": "hsc_rc2", "ci_url": "https://ci.lsst.codes/job/4512/",
                "ci_refs": ["main"], "status": 0, "date": "2026-11-18T05:00:00Z"},
        "packages": {"pipe_tasks": {"name": "pipe_tasks", "git_sha": "77ab0e2",
                                    "git_branch": "main",
                                    "git_url": "https://github.com/lsst/pipe_tasks.git",
                                    "eups_version": "g77ab0e2+1"}},
        "filter_name": "r",
        "validate_drp.PA1.nStars": 1873,
    },
}
NATIVE: dict[str, Any] = {
    **copy.deepcopy(SUBMISSION),
    "metrics": [{"name": "my_pkg.wall_time", "unit": "s", "better": "lower",
                 "description": "wall time", "dimensions": ["dataset"]}],
}
NATIVE["measurements"].append({"metric": "my_pkg.wall_time", "value": 2.0, "unit": "min"})


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The project's own catalog."""
    return load_catalog(CHECKOUT / "metrics")


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    """Print the examples each target ran (visible with -s)."""
    yield
    for target, count in sorted(RUNS.items()):
        print(f"\nfuzz {target}: {count} examples ({OUTCOMES[target + ':parsed']} parsed, "
              f"{OUTCOMES[target + ':refused']} refused)")


# --- strategies ------------------------------------------------------------------------

HOSTILE_TEXT = st.sampled_from([
    "", " ", "main", "main\\", "a|b", "a/b", "/x", "x\n", "\x00", "\ud800", "NaN", "1e999",
    "'; DROP DATABASE harness_test; --", 'a"b', "a,b=c d", "ünï ☃", "a\u2028b", "$branch",
    "9" * 5000, "x" * 201, "validate_drp.PA1", "mmag", "1/0", "m**1000000", "1e999 m",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-20T03:12:00+14:00",
    "javascript:alert(1)", "https://ci.example.org/x", "http://", "dataset", "filter",
])
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
           | st.text(max_size=12) | HOSTILE_TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6) | HOSTILE_TEXT, children, max_size=4),
    max_leaves=12,
)


def _locations(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every location inside a JSON value (the root is ())."""
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _locations(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _locations(item, (*here, index))


def _parent(document: Any, location: tuple[Any, ...]) -> Any:
    for key in location[:-1]:
        document = document[key]
    return document


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A valid document with a few fields replaced, removed, added or repeated."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        locations = [loc for loc in _locations(document) if loc]
        if not locations:
            break
        location = draw(st.sampled_from(locations))
        parent, key = _parent(document, location), location[-1]
        operation = draw(st.sampled_from(["replace", "replace", "text", "remove", "add",
                                          "repeat"]))
        if operation == "replace":
            parent[key] = draw(JSON_VALUES)
        elif operation == "text":
            parent[key] = draw(HOSTILE_TEXT | st.text(max_size=20))
        elif operation == "remove":
            del parent[key]
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(HOSTILE_TEXT | st.text(max_size=10))] = draw(JSON_VALUES)
        elif operation == "repeat" and isinstance(parent, list):
            parent.extend([copy.deepcopy(parent[key])] * draw(st.integers(1, 3)))
    return document


@st.composite
def body_bytes(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, or the JSON text of a (mutated) document with bytes spliced in,
    non-finite literals, duplicate keys or deep nesting."""
    kind = draw(st.sampled_from(["binary", "document", "spliced", "literal", "duplicate",
                                 "nested"]))
    if kind == "binary":
        return draw(st.binary(max_size=200))
    document = draw(mutated(NATIVE) | mutated(JOB) | JSON_VALUES)
    text = json.dumps(document).encode()
    if kind == "spliced":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.binary(max_size=8)) + text[at:]
    if kind == "literal":
        numbers = re.findall(rb"(?<=[:\[, ])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text)
        if numbers:
            number = draw(st.sampled_from(numbers))
            literal = draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity"]))
            return text.replace(number, literal, 1)
    if kind == "duplicate":
        pairs = re.findall(rb'"[^"\\]*": [^,{}\[\]]+', text)
        if pairs:
            pair = draw(st.sampled_from(pairs))
            return text.replace(pair, pair + b", " + pair, 1)
    if kind == "nested":
        depth = draw(st.sampled_from([63, 64, 65, 500, 990, 5000]))
        return text.replace(b"4.7", b"[" * depth + b"4.7" + b"]" * depth, 1)
    return text


# --- the allowed outcomes ---------------------------------------------------------------

def _names_a_place(document: Any, path: str) -> bool:
    """Whether a problem's path leads into the document: every step exists, except a
    missing field or item at the end, or steps below a scalar (a union member's index)."""
    rest = path
    node = document
    while rest:
        if isinstance(node, list):
            found = re.match(r"\[(\d+)\]\.?", rest)
            if found is None:  # a field of what should have been an object
                return re.fullmatch(r"[^.\[]+", rest) is not None
            index = int(found.group(1))
            if index >= len(node):
                return not rest[found.end():]
            node, rest = node[index], rest[found.end():]
        elif isinstance(node, dict) and rest.startswith('[""]') and "" in node:
            node, rest = node[""], rest[4:].removeprefix(".")
        elif isinstance(node, dict):
            # the longest key that starts the rest of the path (keys may hold dots)
            named = {_printable(key): key for key in node if isinstance(key, str)}
            keys = [name for name in named if rest.startswith(name)
                    and rest[len(name):len(name) + 1] in ("", ".", "[")]
            if not keys:
                return re.fullmatch(r"[^.\[]+", rest) is not None  # one missing field
            name = max(keys, key=len)
            node, rest = node[named[name]], rest[len(name):].removeprefix(".")
        else:
            return True  # below a scalar: pydantic names the member of a union it tried
    return True


def _printable(key: str) -> str:
    """A key as an error path shows it (a lone surrogate escaped)."""
    return key.encode(errors="backslashreplace").decode(errors="backslashreplace") \
        if re.search("[\ud800-\udfff]", key) else key


def check_refusal(error: InvalidInput | MetricConflict, document: Any,
                  query_paths: tuple[str, ...] = ()) -> None:
    """A refusal carries problems, each with a path naming a place in the document."""
    problems: list[Problem] = error.problems
    assert problems, error
    for problem in problems:
        assert isinstance(problem.path, str) and isinstance(problem.message, str)
        assert problem.message
        assert problem.path in query_paths or _names_a_place(document, problem.path), (
            problem, document)
    json.dumps([problem.to_json() for problem in problems])  # the error body


def check_parsed(parsed: ParsedSubmission, catalog: Catalog, document: Any) -> None:
    """What the web and the worker do next with a parsed submission must not fail: the
    document's digest, the task's JSON, judging, line protocol; every tag fits InfluxDB."""
    submission = parsed.submission
    document_digest(document)
    payload = json.loads(json.dumps(submission.to_json(), allow_nan=False))
    assert Submission.from_json(payload) == submission
    full = catalog.with_metrics(parsed.new_metrics)
    results = [judge(measurement, full) for measurement in submission.measurements]
    lines = [build_point(submission, 0).to_line_protocol()]
    lines += [result_point(submission, result, 0).to_line_protocol() for result in results]
    assert all("\n" not in line for line in lines)
    tags = [submission.build.ci, submission.build.branch]
    tags += [value for m in submission.measurements for value in m.dimensions.values()]
    for tag in tags:
        assert tag and not tag.endswith("\\") and "|" not in tag, tag
        assert not re.search(r"[\x00-\x1f\x7f]", tag), tag
        tag.encode()


def outcome(target: str, parse: Callable[[], ParsedSubmission], catalog: Catalog,
            document: Any, query_paths: tuple[str, ...] = ()) -> None:
    """Run one parse; only a submission or a well-formed refusal is allowed."""
    RUNS[target] += 1
    try:
        parsed = parse()
    except (InvalidInput, MetricConflict) as error:
        OUTCOMES[target + ":refused"] += 1
        check_refusal(error, document, query_paths)
        return
    OUTCOMES[target + ":parsed"] += 1
    check_parsed(parsed, catalog, document)


def native(document: Any, catalog: Catalog, limit: int = 10_000) -> Callable[[],
                                                                            ParsedSubmission]:
    """The native parser, as the web handler calls it."""
    return lambda: parse_submission(document, catalog, received=RECEIVED,
                                    max_measurements=limit)


def job(document: Any, catalog: Catalog, branch: str | None = None, register: bool = False,
        ) -> Callable[[], ParsedSubmission]:
    """The Job parser, as the web handler calls it."""
    return lambda: parse_job(document, catalog, received=RECEIVED, branch=branch,
                             register=register, max_measurements=10_000)


# --- the targets ------------------------------------------------------------------------

def test_the_valid_documents_parse(catalog: Catalog) -> None:
    outcome("valid-native", native(NATIVE, catalog), catalog, NATIVE)
    outcome("valid-job", job(JOB, catalog, register=True), catalog, JOB)
    assert OUTCOMES["valid-native:parsed"] == OUTCOMES["valid-job:parsed"] == 1


@FUZZ
@given(document=JSON_VALUES)
def test_native_parser_takes_any_json_value(catalog: Catalog, document: Any) -> None:
    outcome("native-any-json", native(document, catalog), catalog, document)


@FUZZ
@given(document=mutated(NATIVE), limit=st.sampled_from([10_000, 3]))
def test_native_parser_takes_any_mutated_submission(catalog: Catalog, document: Any,
                                                    limit: int) -> None:
    outcome("native-mutated", native(document, catalog, limit), catalog, document)


@FUZZ
@given(document=JSON_VALUES, register=st.booleans())
def test_job_parser_takes_any_json_value(catalog: Catalog, document: Any,
                                         register: bool) -> None:
    outcome("job-any-json", job(document, catalog, register=register), catalog, document)


@FUZZ
@given(document=mutated(JOB), branch=st.none() | HOSTILE_TEXT, register=st.booleans())
def test_job_parser_takes_any_mutated_job(catalog: Catalog, document: Any,
                                          branch: str | None, register: bool) -> None:
    outcome("job-mutated", job(document, catalog, branch, register), catalog, document,
            ("branch",))


BODY_APP = Flask(__name__)
BODY_APP.config["MAX_CONTENT_LENGTH"] = 1 << 20


@FUZZ
@given(raw=body_bytes())
def test_the_raw_body_path_takes_any_bytes(catalog: Catalog, raw: bytes) -> None:
    """Bytes → read_json → both parsers, as the handlers chain them."""
    RUNS["raw-bytes"] += 1
    with BODY_APP.test_request_context("/", method="POST", data=raw,
                                       content_type="application/json"):
        try:
            document = read_json()
        except InvalidInput as error:  # MalformedRequest: not JSON, or not one we keep
            OUTCOMES["raw-bytes:refused"] += 1
            check_refusal(error, None)
            return
    OUTCOMES["raw-bytes:parsed"] += 1
    outcome("raw-bytes-native", native(document, catalog), catalog, document)
    outcome("raw-bytes-job", job(document, catalog), catalog, document)


def test_every_target_ran_enough_examples() -> None:
    for target in ("native-any-json", "native-mutated", "job-any-json", "job-mutated",
                   "raw-bytes"):
        assert RUNS[target] >= 1000, (target, RUNS[target])
    assert OUTCOMES["native-mutated:parsed"] > 50  # the mutations leave many documents valid
    assert OUTCOMES["job-mutated:parsed"] > 50
