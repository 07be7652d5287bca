"""`harness post`: the CI client. Posts a build's measurements (native or lsst.verify JSON)
with the build identity of the CI's environment, optionally waits for the verdicts, prints
them as Markdown and gates on them. Usage and exit codes: docs/ci.md.

Imported whenever the `harness` parser is built, so only the standard library is imported
at the top; requests comes in when something is posted (no flask, celery, numpy, astropy)."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from harness.client import adapters, ci_env, comments, pr_feedback
from harness.client.console import InputError, say
from harness.client.gate import GATES, gate_failures, gate_line, summary_markdown
from harness.client.http import (
    DeliveryError,
    deliver_document,
    fetch_status,
    wait_until_processed,
)
from harness.links import JOBS, SUBMISSIONS

OK, GATE_FAILED, USAGE, REJECTED, UNREACHABLE, NOT_PROCESSED = range(6)
DEFAULT_URL = "http://127.0.0.1:5000"
POLL_INTERVAL_S = 0.25
JOB_IDENTITY = {"ci_id": "id", "ci_name": "ci", "ci_url": "url"}  # meta.env key → build key
NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
METRIC_ARGUMENT = re.compile(
    rf"(?P<name>[^=\s]+)=(?P<values>{NUMBER}(?:\s*,\s*{NUMBER})*)\s*(?P<unit>\S*)")
DESCRIPTION = """\
Post a build's measurements from CI, with the build and PR that the CI's environment
describes; optionally wait for the verdicts, print them as Markdown and gate on them."""

EPILOG = """\
exit codes:
  0  posted (with --wait: processed, and the --fail-on gate passed)
  1  the --fail-on gate failed
  2  usage or input error: bad file, bad --metric, no token, no build identity
  3  rejected by the harness (HTTP 4xx); its problems are printed with their paths
  4  harness unreachable, or 429/5xx after every retry
  5  processing failed, or still not done after --timeout
--check/--comment: GitHub and GitLab API errors are warnings; they never change the code.

The build comes from GitHub Actions, GitLab CI, Jenkins or Buildkite variables; HARNESS_BUILD_CI,
_ID, _URL, _BRANCH, _COMMIT, _TIME, _PR_NUMBER, _PR_URL and _PR_BASE override them (docs/ci.md).
"""


@dataclass(frozen=True)
class Document:
    """One JSON document to post: where it came from, the endpoint path, the body."""

    source: str
    path: str
    body: dict[str, Any]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments and set `run`."""
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="native submission or lsst.verify Job JSON; with --format, the "
                             "output files of a benchmark tool")
    parser.add_argument("--format", choices=sorted(adapters.FORMATS), metavar="FORMAT",
                        help="read the FILEs as a benchmark tool wrote them, all into one "
                             f"submission: {', '.join(sorted(adapters.FORMATS))} "
                             "(docs/adapters.md)")
    parser.add_argument("--metric-prefix", metavar="PREFIX",
                        help="with --format: each benchmark becomes the metric "
                             "PREFIX.<its name> (default: the format's name, - as _)")
    parser.add_argument("--metric", action="append", default=[], type=metric_argument,
                        metavar="NAME=VALUE[UNIT]",
                        help="a measurement, e.g. pipe_tasks.runtime=812s, or repeated runs "
                             "of it, e.g. pipe_tasks.runtime=812,809,815s (repeatable)")
    parser.add_argument("--higher-is-better", action="append", default=[], metavar="NAME",
                        help="a --metric not in the catalog is registered on first use, "
                             "lower is better unless named here (repeatable)")
    parser.add_argument("--dimension", action="append", default=[], type=dimension_argument,
                        metavar="KEY=VALUE", help="a dimension of the --metric measurements")
    parser.add_argument("--wait", action="store_true",
                        help="wait for the verdicts and print them as Markdown")
    parser.add_argument("--fail-on", action="append", default=[], type=gates_argument,
                        metavar="GATE[,GATE]",
                        help="exit 1 when a verdict is below a spec (design, minimum) or on "
                             "a regression (against the past, or for a PR against its base); "
                             "repeatable, gates combine: any one failing fails (implies "
                             "--wait)")
    parser.add_argument("--check", action="store_true",
                        help="GitHub Actions: a check run `metric harness` on the commit, "
                             "in progress while posting, then completed with the gate's "
                             "verdict (needs $GITHUB_TOKEN; implies --wait)")
    parser.add_argument("--comment", action="store_true",
                        help="one comment on the pull request (GitLab: merge request note) "
                             "with the verdicts, updated in place by later runs (implies "
                             "--wait)")
    parser.add_argument("--comment-on", choices=comments.COMMENT_ON, default="change",
                        help="when to post the comment: on something to say (a failed gate, "
                             "a regression or improvement, a requirement's status changed; "
                             "default), on a failed gate, or always; an earlier comment is "
                             "always updated")
    parser.add_argument("--url", help="the harness (default: $HARNESS_URL, "
                                      f"$HARNESS_PUBLIC_URL, {DEFAULT_URL})")
    parser.add_argument("--token", help="an ingest token secret (default: $HARNESS_TOKEN)")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="how long --wait waits (default: 600)")
    parser.add_argument("--retries", type=int, default=6,
                        help="retries of a post on connection errors, 429 and 5xx (default: 6)")
    parser.add_argument("--backoff", type=float, default=0.5, metavar="SECONDS",
                        help="first retry delay, doubled each time (default: 0.5)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Post and optionally wait and gate; returns the exit code."""
    env = os.environ
    url = args.url or env.get("HARNESS_URL") or env.get("HARNESS_PUBLIC_URL") or DEFAULT_URL
    token = args.token or env.get("HARNESS_TOKEN")
    try:
        if not token:
            raise InputError("an ingest token is needed: --token or $HARNESS_TOKEN")
        documents = prepare(args.files, higher_is_better(args.metric, args.higher_is_better),
                            dict(args.dimension), env,
                            format_name=args.format, prefix=args.metric_prefix)
    except InputError as error:
        _say(str(error))
        return USAGE
    feedback = pr_feedback.Feedback.from_env(
        env, check=args.check, comment=args.comment, comment_on=args.comment_on,
        harness_url=url, harness_token=token) if args.check or args.comment else None
    with requests.Session() as session:
        if feedback is not None:
            feedback.start()
        code, ids = _post_all(documents, url, token, args, session)
        if code == OK and (args.wait or args.fail_on or feedback is not None):
            code = _wait_and_gate(ids, url, token, args, session, feedback)
        if feedback is not None:
            feedback.finish(code)
        return code


def prepare(files: Sequence[Path], metrics: Sequence[dict[str, Any]],
            dimensions: Mapping[str, str], env: Mapping[str, str], *,
            format_name: str | None = None, prefix: str | None = None) -> list[Document]:
    """The documents to post: each file (with a format: one submission of all of them),
    then one submission of the --metric measurements."""
    try:
        build = ci_env.build_from_env(env)
    except ci_env.BuildEnvError as error:
        raise InputError(str(error)) from None
    if format_name is not None:
        if not files:
            raise InputError(f"--format {format_name}: give the FILEs the tool wrote")
        benchmarks = adapters.read_files(format_name, files)
        source = ", ".join(map(str, files))
        documents = [_native(source, adapters.submission_body(
            benchmarks, prefix or adapters.prefix_of(format_name), source, dimensions),
            build, env)]
    else:
        documents = [_from_file(path, build, env) for path in files]
    if metrics:
        body: dict[str, Any] = {"measurements": list(metrics)}
        if dimensions:
            body["dimensions"] = dict(dimensions)
        documents.append(_native("--metric", body, build, env))
    if not documents:
        raise InputError("nothing to post: give FILEs or --metric NAME=VALUE[UNIT]")
    return documents


def metric_argument(text: str) -> dict[str, Any]:
    """`validate_drp.PA1=4.7mmag` → a native measurement (the unit is optional)."""
    match = METRIC_ARGUMENT.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NAME=VALUE[UNIT] or NAME=V1,V2,…[UNIT], e.g. "
            "pipe_tasks.runtime=812s")
    values = [float(value) for value in match["values"].split(",")]
    measurement: dict[str, Any] = {"metric": match["name"]}
    if len(values) == 1:
        measurement["value"] = values[0]
    else:
        measurement["samples"] = values
    if match["unit"]:
        measurement["unit"] = match["unit"]
    return measurement


def higher_is_better(metrics: Sequence[dict[str, Any]], names: Sequence[str]
                     ) -> list[dict[str, Any]]:
    """The --metric measurements, those named by --higher-is-better marked so (used only
    when the measurement registers its metric)."""
    unknown = sorted(set(names) - {measurement["metric"] for measurement in metrics})
    if unknown:
        raise InputError(f"--higher-is-better {unknown[0]}: no --metric {unknown[0]}=VALUE")
    return [{**measurement, "better": "higher"} if measurement["metric"] in names
            else measurement for measurement in metrics]


def gates_argument(text: str) -> list[str]:
    """`design,regression` → ["design", "regression"]."""
    gates = [gate.strip() for gate in text.split(",") if gate.strip()]
    unknown = [gate for gate in gates if gate not in GATES]
    if unknown or not gates:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a gate is one of {', '.join(GATES)} (several: design,regression)")
    return gates


def dimension_argument(text: str) -> tuple[str, str]:
    """`filter=r` → ("filter", "r")."""
    key, equals, value = text.partition("=")
    if not (key.strip() and equals and value.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE, e.g. filter=r")
    return key.strip(), value.strip()


def _from_file(path: Path, build: Mapping[str, Any], env: Mapping[str, str]) -> Document:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from None
    except (ValueError, RecursionError) as error:
        raise InputError(f"{path}: not JSON: {error}") from None
    measurements = body.get("measurements") if isinstance(body, dict) else None
    items = measurements if isinstance(measurements, list) else []
    is_dicts = isinstance(measurements, list) and all(isinstance(item, dict) for item in items)
    if isinstance(body, dict) and "meta" in body and is_dicts and items and all(
            "identifier" in item for item in items):
        return _job(str(path), body, build, env)
    if isinstance(body, dict) and ("build" in body or (
            is_dicts and items and all("value" in item for item in items))):
        return _native(str(path), body, build, env)
    raise InputError(f"{path}: neither a native submission (`build`, `measurements` with "
                     "`value`s) nor an lsst.verify Job (`meta`, `measurements` with "
                     "`identifier`s)")


def _native(source: str, body: dict[str, Any], build: Mapping[str, Any],
            env: Mapping[str, str]) -> Document:
    """A native submission whose build the CI's fills where the file says nothing."""
    own = body.get("build", {})
    if not isinstance(own, dict):
        raise InputError(f"{source}: `build` must be an object")
    merged = {**build, **own}
    _require(source, merged, env, ci_env.IDENTITY)
    return Document(source, SUBMISSIONS, {**body, "build": merged})


def _job(source: str, body: dict[str, Any], build: Mapping[str, Any],
         env: Mapping[str, str]) -> Document:
    """A Job as it is, but for identity keys of meta.env that it lacks and the CI knows."""
    meta = body["meta"]
    job_env = meta.get("env", {}) if isinstance(meta, dict) else None
    if not isinstance(job_env, dict):
        raise InputError(f"{source}: `meta` and `meta.env` must be objects")
    filled = dict(job_env)
    for key, build_key in JOB_IDENTITY.items():
        if filled.get(key) in (None, "") and build.get(build_key):
            filled[key] = build[build_key]
    _require(source, {"ci": filled.get("ci_name"), "id": filled.get("ci_id")}, env, ("ci", "id"))
    path = JOBS  # a Job has no branch of its own; the harness takes it as a query
    if build.get("branch"):
        path += "?" + urlencode({"branch": build["branch"]})
    return Document(source, path, {**body, "meta": {**meta, "env": filled}})


def _require(source: str, build: Mapping[str, Any], env: Mapping[str, str],
             keys: Sequence[str]) -> None:
    try:
        ci_env.require_identity(build, env, keys)
    except ci_env.BuildEnvError as error:
        raise InputError(f"{source}: {error}") from None


def _post_all(documents: Sequence[Document], url: str, token: str, args: argparse.Namespace,
              session: requests.Session) -> tuple[int, list[str]]:
    """Post every document; (exit code so far, the submission ids the harness took)."""
    code = OK
    ids: list[str] = []
    for document in documents:
        try:
            response = deliver_document(url.rstrip("/") + document.path, document.body, token,
                                        session=session, retries=args.retries,
                                        backoff=args.backoff)
        except DeliveryError as error:
            _say(f"{document.source}: not delivered: {error}")
            return UNREACHABLE, ids
        with response:
            status, text = response.status_code, response.text
        body = _object(text)
        if not 200 <= status < 300:
            _say(f"{document.source}: rejected by the harness (HTTP {status}): "
                 f"{body.get('error') or text[:500]}")
            for detail in body.get("details") or ():
                if isinstance(detail, dict):
                    _say(f"  {detail.get('path') or '(body)'}: {detail.get('message')}")
            code = REJECTED
            continue
        submission = body.get("submission")
        _say(f"{document.source}: accepted as submission {submission}")
        for notice in body.get("ignored") or ():
            if isinstance(notice, dict):
                _say(f"  ignored {notice.get('path') or '(body)'}: {notice.get('message')}")
        if isinstance(submission, str):
            ids.append(submission)
        elif args.wait or args.fail_on:
            _say(f"{document.source}: the harness named no submission to wait for")
            code = NOT_PROCESSED
    return code, ids


def _wait_and_gate(ids: Sequence[str], url: str, token: str, args: argparse.Namespace,
                   session: requests.Session, feedback: pr_feedback.Feedback | None = None) -> int:
    """Wait until every submission is processed, print the summary, apply the gate."""
    try:
        wait_until_processed(url, ids, timeout=args.timeout, token=token, session=session,
                             interval=POLL_INTERVAL_S)
        statuses = [fetch_status(url, submission, token=token, session=session)
                    for submission in ids]
    except TimeoutError as error:
        _say(f"not processed in time: {error}")
        return NOT_PROCESSED
    except requests.RequestException as error:
        _say(f"the status could not be read: {error}")
        return UNREACHABLE
    markdown = summary_markdown(statuses, url)
    print(markdown, end="")
    if step_summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(step_summary, "a", encoding="utf-8") as summary_file:
            summary_file.write(markdown)
    failed = [status for status in statuses if status.get("state") != "done"]
    for status in failed:
        _say(f"processing failed: {status.get('error') or status.get('state')}")
    if failed:
        return NOT_PROCESSED
    gates = sorted({gate for group in args.fail_on for gate in group}, key=GATES.index)
    failures = [(gate, failure) for gate in gates
                for failure in gate_failures(statuses, gate)]
    for gate, failure in failures:
        _say(f"--fail-on {gate}: {failure}")
    if gates:
        line = gate_line(gates, failures)
        print(f"\n{line}")
        if step_summary:
            with open(step_summary, "a", encoding="utf-8") as summary_file:
                summary_file.write(f"\n{line}\n")
    if feedback is not None:
        feedback.judged(statuses, gates, failures)
    return GATE_FAILED if failures else OK


def _object(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _say(message: str) -> None:
    say("post", message)
