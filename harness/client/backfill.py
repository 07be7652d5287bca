"""`harness backfill`: bulk import of historical submissions or lsst.verify jobs.

Documents are posted one at a time in build-time order, so each build is judged against the
history before it. A re-run skips every document the harness already holds (found by the
digest of its JSON), so an interrupted import is resumed by running it again. With
--format, the FILEs are a benchmark tool's history (harness.client.history).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import requests
from tqdm import tqdm

from harness import jsonread
from harness.client import history
from harness.client.console import InputError, say
from harness.client.http import (
    DeliveryError,
    deliver_document,
    json_object,
    states_by_digest,
    wait_until_processed,
)
from harness.links import JOBS, SUBMISSIONS
from harness.model import document_digest
from harness.times import parse_utc

DEFAULT_URL = "http://127.0.0.1:5000"
ENDPOINTS = {"submission": SUBMISSIONS, "job": JOBS}
SKIP_STATES = frozenset({"done", "queued"})  # a failed submission is posted again
MAX_LISTED = 50  # rejections and failures listed in the summary; the rest are counted
EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 4
_EARLIEST = datetime.min.replace(tzinfo=UTC)

Kind = Literal["submission", "job"]


@dataclass(frozen=True)
class Document:
    """One document of an input file, and where it came from."""

    source: str
    index: int  # position among the file's documents
    line: int | None  # line number, for JSON lines
    body: dict[str, Any]

    @property
    def kind(self) -> Kind:
        """`job` for lsst.verify Job JSON (meta, identified measurements), else `submission`."""
        measurements = self.body.get("measurements")
        if "meta" in self.body and isinstance(measurements, list) and all(
            isinstance(item, dict) and "identifier" in item for item in measurements
        ):
            return "job"
        return "submission"

    @property
    def time(self) -> datetime | None:
        """The build time (native `build.time`, job `meta.env.date`), None if none is readable."""
        if self.kind == "job":
            value = _field(self.body, "meta", "env", "date")
        else:
            value = _field(self.body, "build", "time")
        if not isinstance(value, str):
            return None
        try:
            return parse_utc(value)
        except ValueError:
            return None

    @property
    def build(self) -> str:
        """The build's identity for messages: `ci/id`."""
        if self.kind == "job":
            ci, build_id = _field(self.body, "meta", "env", "ci_name"), _field(
                self.body, "meta", "env", "ci_id")
        else:
            ci, build_id = _field(self.body, "build", "ci"), _field(self.body, "build", "id")
        return f"{ci}/{build_id}"

    @property
    def where(self) -> str:
        """File and index (and line, for JSON lines) of the document."""
        line = f" (line {self.line})" if self.line is not None else ""
        return f"{self.source}[{self.index}]{line}"


@dataclass(frozen=True)
class Rejection:
    """A document the harness refused, with its answer: error and the paths at fault."""

    document: Document
    status: int
    error: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class Stop:
    """Why an import ended before the last document, and the exit code that says so."""

    code: int
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: posted (document, submission id), skipped, rejected, any early stop."""

    posted: tuple[tuple[Document, str | None], ...]
    skipped: int
    rejected: tuple[Rejection, ...]
    stop: Stop | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments and set `run`."""
    parser.description = __doc__
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="a JSON document, a JSON array of documents, or JSON lines; each "
                             "a native submission or an lsst.verify Job JSON; with --format, "
                             "a benchmark tool's history")
    parser.add_argument("--format", choices=history.HISTORY_FORMATS, metavar="FORMAT",
                        help="read the FILEs as a benchmark tool's history, one submission "
                             f"per build: {', '.join(history.HISTORY_FORMATS)} "
                             "(docs/adapters.md, \"Importing history\")")
    parser.add_argument("--manifest", type=Path, metavar="FILE",
                        help="with --format: CSV or JSON lines with file,ci,id,branch,time,"
                             "commit: the build of each output file")
    parser.add_argument("--metric-prefix", metavar="PREFIX",
                        help="with --format: each benchmark becomes PREFIX.<its name> "
                             "(default: per format)")
    parser.add_argument("--branch", default=history.DEFAULT_BRANCH,
                        help="with --format: the builds' branch (default: %(default)s)")
    parser.add_argument("--ci", metavar="NAME",
                        help="with --format: the builds' CI name (default: per format)")
    parser.add_argument("--url", help="the harness (default: $HARNESS_URL, else "
                                      f"$HARNESS_PUBLIC_URL, else {DEFAULT_URL})")
    parser.add_argument("--token", help="an ingest token secret (default: $HARNESS_TOKEN)")
    parser.add_argument("--no-wait", action="store_true",
                        help="do not wait until the worker has judged what was posted")
    parser.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS",
                        help="how long to wait for the judging (default: %(default)g)")
    parser.add_argument("--retries", type=int, default=6,
                        help="retries per request while the harness is unreachable or "
                             "answers 429/5xx (default: %(default)d)")
    parser.epilog = ("exit codes: 0 all stored or skipped, 1 some rejected, 2 usage or input "
                     "error, 4 harness unreachable (or judging not done within --timeout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import the files; returns the exit code."""
    url = (args.url or os.environ.get("HARNESS_URL") or os.environ.get("HARNESS_PUBLIC_URL")
           or DEFAULT_URL)
    token = args.token or os.environ.get("HARNESS_TOKEN")
    if not token:
        _say("an ingest token is needed (--token or HARNESS_TOKEN)")
        return EXIT_USAGE
    try:
        documents = in_build_order(_read_all(args))
    except InputError as error:
        _say(str(error))
        return EXIT_USAGE
    _say(f"{len(documents)} documents from {len(args.files) or 1} file(s) to {url}")
    summary = import_documents(documents, url, token, retries=args.retries)
    report(summary, len(documents))
    if summary.stop is not None:
        _say(summary.stop.reason)
        return summary.stop.code
    code = EXIT_REJECTED if summary.rejected else EXIT_OK
    ids = {submission_id: document for document, submission_id in summary.posted
           if submission_id is not None}
    if args.no_wait or not ids:
        return code
    return _wait(url, token, ids, args.timeout) or code


def _read_all(args: argparse.Namespace) -> list[Document]:
    """The documents of the FILEs: as they are, or with --format a tool's history."""
    if args.format is None:
        given = [option for option, value in (("--manifest", args.manifest), (
            "--metric-prefix", args.metric_prefix), ("--ci", args.ci)) if value is not None]
        if given or args.branch != history.DEFAULT_BRANCH:
            raise InputError(f"{(given or ['--branch'])[0]} goes with --format")
        if not args.files:
            raise InputError("give the FILEs to import")
        return [doc for path in args.files for doc in read_documents(path)]
    found = history.read_history(args.format, args.files, history.Options(
        args.metric_prefix, args.branch, args.ci, args.manifest))
    for note in found.notes:
        _say(note)
    return [Document(item.source, item.index, item.line, item.body) for item in found.documents]


def read_documents(path: Path) -> list[Document]:
    """The documents of a file: one JSON document, a JSON array of documents, or JSON lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    try:
        whole = _loads(text)
    except ValueError as error:
        return _json_lines(path, text, error)
    items = whole if isinstance(whole, list) else [whole]
    return [_document(path, index, None, item) for index, item in enumerate(items)]


def in_build_order(documents: Iterable[Document]) -> list[Document]:
    """Timed documents by build time, then untimed ones; ties keep their input order."""
    return sorted(documents, key=lambda doc: (doc.time is None, doc.time or _EARLIEST))


def import_documents(
    documents: Sequence[Document], url: str, token: str, *, retries: int = 6,
    progress: bool = True,
) -> ImportSummary:
    """Post each document not yet stored, in the given order, with a progress bar."""

    base = url.rstrip("/")
    posted: list[tuple[Document, str | None]] = []
    rejected: list[Rejection] = []
    skipped = 0
    ask = True  # False once the harness turns out not to answer digest queries
    bar = tqdm(documents, desc="backfill", unit="doc", file=sys.stderr, disable=not progress)

    def summary(stop: Stop | None = None) -> ImportSummary:
        return ImportSummary(tuple(posted), skipped, tuple(rejected), stop)

    with requests.Session() as session, bar:
        for document in bar:
            try:
                states = (states_by_digest(base, document_digest(document.body), token,
                                           session=session, retries=retries) if ask else None)
                if ask and states is None:
                    ask = False
                    bar.write("harness backfill: this harness cannot look documents up by "
                              "digest; posting all of them (a re-post replaces, never "
                              "duplicates)", file=sys.stderr)
                if states is not None and SKIP_STATES.intersection(states):
                    skipped += 1
                else:
                    response = deliver_document(base + ENDPOINTS[document.kind], document.body,
                                                token, session=session, retries=retries)
                    if response.status_code in (401, 403):
                        return summary(Stop(EXIT_USAGE, "the harness refused the token: "
                                                        + _rejection(document, response).error))
                    if response.ok:
                        submission_id = json_object(response).get("submission")
                        posted.append((document, submission_id
                                       if isinstance(submission_id, str) else None))
                    else:
                        rejected.append(_rejection(document, response))
            except DeliveryError as error:
                return summary(Stop(EXIT_UNREACHABLE, f"harness unreachable: {error}"))
            bar.set_postfix_str(f"posted={len(posted)} skipped={skipped} "
                                f"rejected={len(rejected)}", refresh=False)
    return summary()


def report(summary: ImportSummary, total: int) -> None:
    """Print what an import did to stderr: counts, then each rejection with its reasons."""
    _say(f"posted {len(summary.posted)}, skipped {summary.skipped} (already stored), "
         f"rejected {len(summary.rejected)} of {total} documents")
    for rejection in summary.rejected[:MAX_LISTED]:
        document = rejection.document
        _say(f"rejected {document.where}, build {document.build}: HTTP {rejection.status} "
             f"{rejection.error}")
        for detail in rejection.details:
            print(f"    {detail}", file=sys.stderr)
    if len(summary.rejected) > MAX_LISTED:
        _say(f"... and {len(summary.rejected) - MAX_LISTED} more rejected")


def _wait(url: str, token: str, ids: dict[str, Document], timeout: float) -> int:
    """Wait until the worker has judged every posted submission; report; 4 on timeout."""
    _say(f"waiting until the harness has judged {len(ids)} submissions")
    try:
        states = wait_until_processed(url, ids, timeout=timeout, token=token)
    except TimeoutError as error:
        _say(f"not judged in time: {error}")
        return EXIT_UNREACHABLE
    failed = [submission_id for submission_id, state in states.items() if state == "failed"]
    _say(f"judged: {len(states) - len(failed)} done, {len(failed)} failed")
    for submission_id in failed[:MAX_LISTED]:
        document = ids[submission_id]
        _say(f"failed {document.where}, build {document.build}: "
             f"{url.rstrip('/')}/api/v1/submissions/{submission_id} (a re-run posts it again)")
    return EXIT_OK


def _json_lines(path: Path, text: str, whole_error: ValueError) -> list[Document]:
    """The documents of a JSON-lines file; a file that is not one names the first error."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise InputError(f"{path}: no JSON documents (empty file)")
    documents = []
    for index, (number, line) in enumerate(lines):
        try:
            item = _loads(line)
        except ValueError as error:
            if index == 0:  # not JSON lines at all: the error of the whole file says more
                raise InputError(f"{path}: not JSON: {whole_error}") from None
            raise InputError(f"{path}:{number}: not JSON: {error}") from None
        documents.append(_document(path, index, number, item))
    return documents


def _document(path: Path, index: int, line: int | None, item: Any) -> Document:
    if not isinstance(item, dict):
        place = f"{path}:{line}" if line is not None else f"{path}[{index}]"
        raise InputError(f"{place}: a document must be a JSON object, not "
                         f"{type(item).__name__}")
    return Document(str(path), index, line, item)


def _loads(text: str) -> Any:
    """JSON as the harness reads it: duplicate keys and NaN/Infinity are errors."""
    return jsonread.loads(text, constants=False)


def _field(body: dict[str, Any], *keys: str) -> Any:
    value: Any = body
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _rejection(document: Document, response: requests.Response) -> Rejection:
    """Why the harness rejected a document, from its error body."""
    body = json_object(response)
    error = str(body.get("error") or response.text[:200] or response.reason)
    details = body.get("details")
    lines = tuple(f"{item.get('path') or '(document)'}: {item.get('message')}"
                  for item in (details if isinstance(details, list) else ())
                  if isinstance(item, dict))
    return Rejection(document, response.status_code, error, lines)


def _say(message: str) -> None:
    say("backfill", message)
