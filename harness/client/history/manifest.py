"""The history of a single-file format (`harness backfill --format F`, F an adapter of
harness.client.adapters.FORMATS): which build each saved output file is.

With `--manifest FILE`: CSV with a header row, or JSON lines (objects), one row per output
file, the columns `file` (relative to the manifest's folder), `id` and `time` (ISO 8601)
required, `ci`, `branch`, `commit` and `url` optional. The rows of one build (the same ci
and id) become one submission of all their files; they must agree on time, branch, commit
and url. Without a manifest, each FILE is a build of its own: its id the file's name
without the extension, its time the one the file records — pytest-benchmark's `datetime`
(and commit `commit_info.id`), google-benchmark's `context.date`; a format whose files
record no time (the others) needs a manifest."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.client.adapters import Reader, prefix_of, read_text, submission_body
from harness.client.adapters.jsondoc import load, obj
from harness.client.console import InputError
from harness.client.history.model import History, Imported, Options, build
from harness.times import parse_utc

COLUMNS = ("file", "ci", "id", "branch", "time", "commit", "url")
REQUIRED = ("file", "id", "time")
# where a format's file records the time of its run, and its commit (JSON keys)
RECORDED: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "pytest-benchmark": (("datetime",), ("commit_info", "id")),
    "google-benchmark": (("context", "date"), None),
}
MANIFEST_HINT = "--manifest FILE (CSV: file,ci,id,branch,time,commit)"


@dataclass(frozen=True)
class Row:
    """One row of a manifest: an output file and the build it belongs to."""

    line: int
    file: str  # as the manifest writes it
    ci: str | None
    id: str
    branch: str | None
    time: datetime
    commit: str | None
    url: str | None


def manifest_history(format_name: str, manifest: Path, text: str, options: Options,
                     read: Reader) -> History:
    """One submission per build of the manifest, in the manifest's order."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in manifest_rows(manifest, text):
        groups.setdefault((row.ci or options.ci or format_name, row.id), []).append(row)
    documents = []
    for index, ((ci, build_id), rows) in enumerate(groups.items()):
        first = rows[0]
        for row in rows[1:]:
            for key in ("time", "branch", "commit", "url"):
                if getattr(row, key) != getattr(first, key):
                    raise InputError(f"{manifest}:{row.line}: build {ci}/{build_id}: {key} "
                                     f"{getattr(row, key)!r} differs from line {first.line}'s "
                                     f"{getattr(first, key)!r}")
        benchmarks = []
        for row in rows:
            path = manifest.parent / row.file
            benchmarks += read(path, read_text(path))
        body = submission_body(benchmarks, options.prefix or prefix_of(format_name),
                               ", ".join(row.file for row in rows))
        body = {"build": build(ci, build_id, first.branch or options.branch, first.time,
                               first.commit, first.url), **body}
        documents.append(Imported(str(manifest), index, first.line, body))
    return History(tuple(documents))


def manifest_rows(manifest: Path, text: str) -> list[Row]:
    """The rows of a CSV or JSON-lines manifest; a bad one is named by its line."""
    if text.lstrip().startswith("{"):
        items = []
        for line, content in enumerate(text.splitlines(), start=1):
            if content.strip():
                where = f"{manifest}:{line}"
                items.append((line, obj(where, load(where, content, constants=False), "",
                                        "a row's columns")))
    else:
        reader = csv.DictReader(io.StringIO(text))
        unknown = [name for name in reader.fieldnames or () if name not in COLUMNS]
        if unknown:
            raise InputError(f"{manifest}:1: unknown column {unknown[0]!r} (the columns: "
                             f"{', '.join(COLUMNS)})")
        items = [(reader.line_num, dict(row)) for row in reader]
    if not items:
        raise InputError(f"{manifest}: no rows (the columns: {', '.join(COLUMNS)})")
    return [_row(manifest, line, item) for line, item in items]


def _row(manifest: Path, line: int, item: dict[str, Any]) -> Row:
    """A manifest row's columns (at `manifest:line`) checked and read."""
    where = f"{manifest}:{line}"
    for key, value in item.items():
        if key is None:  # csv: a row with more values than the header has columns
            raise InputError(f"{where}: more values than the header has columns")
        if key not in COLUMNS:
            raise InputError(f"{where}: unknown column {key!r} (the columns: "
                             f"{', '.join(COLUMNS)})")
        if value is not None and not isinstance(value, str):
            raise InputError(f"{where}: {key}: expected a string, found {value!r}")
    values = {key: (item.get(key) or "").strip() or None for key in COLUMNS}
    for key in REQUIRED:
        if values[key] is None:
            raise InputError(f"{where}: {key}: required (the columns: {', '.join(COLUMNS)})")
    return Row(line, str(values["file"]), values["ci"], str(values["id"]), values["branch"],
               _time(str(values["time"]), f"{where}: time"), values["commit"], values["url"])


def named_history(format_name: str, paths: Sequence[Path], options: Options,
                  read: Reader) -> History:
    """One submission per file: its name the build id, its recorded time the build's."""
    recorded = RECORDED.get(format_name)
    if recorded is None:
        raise InputError(f"{format_name} files record no time of their run: give the build "
                         f"of each file in {MANIFEST_HINT}")
    named: dict[str, Path] = {}
    documents = []
    for path in paths:
        text = read_text(path)
        build_id = path.stem
        if named.setdefault(build_id, path) != path:
            raise InputError(f"{path}: {named[build_id]} is the build {build_id!r} too; give "
                             f"each file's build in {MANIFEST_HINT}")
        data = load(path, text)
        time_keys, commit_keys = recorded
        found = _at(data, time_keys)
        if not isinstance(found, str):
            raise InputError(f"{path}: {'.'.join(time_keys)}: required without --manifest "
                             f"(the time of the build), found {found!r}")
        commit = _at(data, commit_keys) if commit_keys else None
        body = submission_body(read(path, text), options.prefix or prefix_of(format_name),
                               path.name)
        body = {"build": build(options.ci or format_name, build_id, options.branch,
                               _time(found, f"{path}: {'.'.join(time_keys)}"),
                               commit if isinstance(commit, str) else None), **body}
        documents.append(Imported(str(path), 0, None, body))
    return History(tuple(documents))


def _at(data: Any, keys: Sequence[str]) -> Any:
    """The value at a path of keys into nested objects; None where one is missing."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _time(text: str, where: str) -> datetime:
    """An ISO 8601 time of the manifest or a file; InputError naming `where`."""
    try:
        return parse_utc(text)
    except ValueError:
        raise InputError(f"{where}: expected an ISO 8601 time (2026-11-20T03:12:00Z), found "
                         f"{text!r}") from None
