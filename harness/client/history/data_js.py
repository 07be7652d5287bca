"""github-action-benchmark's history: the `data.js` it keeps on gh-pages
(`window.BENCHMARK_DATA = {"lastUpdate", "repoUrl", "entries": {SUITE: [ENTRY, …]}}`,
or the same object as plain JSON: its `external-data-json-path` file).

Each ENTRY (`{"commit": {"id", "timestamp", "url", …}, "date", "tool", "benches": [{"name",
"value", "unit", "range", "extra"}]}`) is one native submission: build id and commit the
commit's id, time the commit's timestamp (else `date`, when the action ran), url the
commit's. A suite that ran a commit again keeps only its last entry for that commit. Each
bench is the metric `PREFIX.<suite>.<bench name>` (PREFIX: --metric-prefix, by default
`github_action_benchmark`); its unit is the bench's `unit` read by
harness.client.adapters.units, better-direction the tool's (`customBiggerIsBetter`, `pytest`,
`benchmarkjs`: higher), except that a time is always lower and a rate higher. `range` and
`extra` are not imported."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.client.adapters import Benchmark, Better, metric_name, number, submission_body
from harness.client.adapters.jsondoc import array, field, load_from, obj
from harness.client.adapters.units import ToolUnit, tool_unit
from harness.client.console import InputError
from harness.client.history.model import History, Imported, Options, build, from_epoch_ms
from harness.times import parse_utc

FORMAT = "github-action-benchmark"
DEFAULT_PREFIX = "github_action_benchmark"
# github-action-benchmark's own direction per tool (its `biggerIsBetter`)
HIGHER_TOOLS = frozenset({"customBiggerIsBetter", "pytest", "benchmarkjs"})
DECLARED: dict[str, Better] = {"customBiggerIsBetter": "higher",
                               "customSmallerIsBetter": "lower"}
_ASSIGNMENT = re.compile(r"\s*window\.BENCHMARK_DATA\s*=\s*")


@dataclass(frozen=True)
class Bench:
    """One bench of an entry."""

    name: str
    value: float
    unit: ToolUnit
    at: str  # its place in the file, for messages


@dataclass(frozen=True)
class Entry:
    """One run of a suite on a commit."""

    suite: str
    index: int
    commit: str
    time: datetime
    url: str | None
    tool: str
    benches: tuple[Bench, ...]


@dataclass(frozen=True)
class Definition:
    """A metric as its first bench defines it; every later bench must agree."""

    unit: ToolUnit
    better: Better
    description: str
    at: str


def data_js_history(files: Sequence[tuple[Path, str]], options: Options) -> History:
    """The submissions of data.js files (path, text), in file order."""
    latest: dict[tuple[str, str], tuple[Path, Entry]] = {}
    superseded = 0
    for path, text in files:
        for entry in entries(path, text):
            superseded += (entry.suite, entry.commit) in latest
            latest.pop((entry.suite, entry.commit), None)  # the last run goes last
            latest[entry.suite, entry.commit] = (path, entry)
    base = options.prefix or DEFAULT_PREFIX
    prefixes: dict[str, str] = {}
    definitions: dict[str, Definition] = {}
    documents = []
    empty = 0
    for path, entry in latest.values():
        if not entry.benches:
            empty += 1
            continue
        prefix = metric_name(base, entry.suite)
        if prefixes.setdefault(prefix, entry.suite) != entry.suite:
            raise InputError(f"{path}: the suites {prefixes[prefix]!r} and {entry.suite!r} "
                             f"both become the metric prefix {prefix}; rename one")
        source = f"{path}:entries[{json.dumps(entry.suite)}]"
        benchmarks = [_benchmark(path, entry, bench, metric_name(prefix, bench.name),
                                 definitions) for bench in entry.benches]
        body = submission_body(benchmarks, prefix, f"{source}[{entry.index}]")
        for measurement, bench in zip(body["measurements"], entry.benches, strict=True):
            measurement["unit"] = bench.unit.unit  # its own unit: the harness converts it
        body = {"build": build(options.ci or FORMAT, entry.commit, options.branch,
                               entry.time, entry.commit, entry.url), **body}
        documents.append(Imported(source, entry.index, None, body))
    notes = [f"{superseded} entries ran a commit again that their suite already had: only "
             "the last run of each commit is imported"] if superseded else []
    if empty:
        notes.append(f"{empty} entries have no benches: not imported")
    return History(tuple(documents), tuple(notes))


def entries(path: Path, text: str) -> list[Entry]:
    """Every entry of a data.js (or data.json) file, in the file's order."""
    data = obj(path, _json(path, text), "", "window.BENCHMARK_DATA")
    suites = field(path, data, "", "entries", "github-action-benchmark's data.js")
    found = []
    for suite, runs in obj(path, suites, "entries", "the runs of each suite").items():
        at = f"entries[{json.dumps(suite)}]"
        for index, item in enumerate(array(path, runs, at)):
            found.append(_entry(path, suite, index, item, f"{at}[{index}]"))
    return found


def _json(path: Path, text: str) -> Any:
    """The JSON after `window.BENCHMARK_DATA =` (or the whole text); errors name the line
    and column in the file."""
    match = _ASSIGNMENT.match(text)
    data, end = load_from(path, text, match.end() if match else len(text) - len(text.lstrip()))
    rest = text[end:].strip()
    if rest not in ("", ";"):
        line = text.count("\n", 0, end) + 1
        raise InputError(f"{path}:{line}: unexpected text after the data: {rest[:30]!r}")
    return data


def _entry(path: Path, suite: str, index: int, item: Any, at: str) -> Entry:
    """One run of a suite (at its JSON path `at`): commit, time, tool and benches."""
    item = obj(path, item, at, "a run of the suite")
    commit = obj(path, item.get("commit"), f"{at}.commit", "the commit the suite ran")
    commit_id = commit.get("id")
    if not isinstance(commit_id, str) or not commit_id.strip():
        raise InputError(f"{path}: {at}.commit.id: required, the commit's id (found "
                         f"{commit_id!r})")
    tool = item.get("tool")
    if not isinstance(tool, str):
        raise InputError(f"{path}: {at}.tool: required, the tool's name (found {tool!r})")
    url = commit.get("url")
    benches = tuple(_bench(path, bench, f"{at}.benches[{position}]") for position, bench
                    in enumerate(array(path, item.get("benches"), f"{at}.benches")))
    return Entry(suite, index, commit_id, _time(path, commit, item.get("date"), at),
                 url if isinstance(url, str) else None, tool, benches)


def _bench(path: Path, item: Any, at: str) -> Bench:
    """One bench of an entry: its name, value and unit."""
    item = obj(path, item, at, "a bench")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{path}: {at}.name: required, the bench's name (found {name!r})")
    unit = item.get("unit", "")
    if not isinstance(unit, str):
        raise InputError(f"{path}: {at}.unit: expected a string, found {unit!r}")
    return Bench(name, number(item.get("value"), f"{path}: {at}.value"), tool_unit(unit), at)


def _time(path: Path, commit: dict[str, Any], date: Any, at: str) -> datetime:
    """The commit's timestamp, else the entry's date (when the action ran)."""
    timestamp = commit.get("timestamp")
    if timestamp is not None:
        try:
            if isinstance(timestamp, str):
                return parse_utc(timestamp)
        except ValueError:
            pass
        raise InputError(f"{path}: {at}.commit.timestamp: expected an ISO 8601 time, found "
                         f"{timestamp!r}")
    if date is None:
        raise InputError(f"{path}: {at}: the build needs a time: neither commit.timestamp "
                         "nor date is there")
    return from_epoch_ms(date, f"{path}: {at}.date")


def _benchmark(path: Path, entry: Entry, bench: Bench, name: str,
               definitions: dict[str, Definition]) -> Benchmark:
    """The bench as a Benchmark of its metric's definition (the first bench's unit and
    direction); a bench that does not agree with it is refused, naming both."""
    better: Better = DECLARED.get(entry.tool) or bench.unit.better or (
        "higher" if entry.tool in HIGHER_TOOLS else "lower")
    note = f", unit {bench.unit.text!r}" if bench.unit.kind == "other" else ""
    description = (f"{bench.name} (github-action-benchmark suite {entry.suite!r}, "
                   f"{entry.tool}{note})")
    first = definitions.setdefault(name, Definition(bench.unit, better, description,
                                                    f"{path}: {bench.at}"))
    if first.unit.same_kind_key != bench.unit.same_kind_key:
        raise InputError(f"{path}: {bench.at}.unit: {bench.unit.text!r} does not convert to "
                         f"{first.unit.text!r}, the unit of {name} at {first.at}")
    if first.better != better:
        raise InputError(f"{path}: {bench.at}: the tool {entry.tool!r} makes {name} "
                         f"{better} is better, but it was {first.better} at {first.at}")
    return Benchmark(bench.name, first.unit.unit, first.better, value=bench.value,
                     description=first.description)

