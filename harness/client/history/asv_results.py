"""asv's history: the results folder (`results/<machine>/<commit>-<env>.json`, with
`benchmarks.json` for the units), or some of its files.

Each results file is one native submission: build id `<machine>/<commit hash>`, commit the
hash, time the file's `date` (asv's time of the commit); its figures are those of
`harness post --format asv` (harness.client.adapters.asv), so metrics are `asv.<benchmark>`
(PREFIX: --metric-prefix) and live posts continue the imported series. The files must be
of one machine and one environment: the series of two would mix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.client.adapters import asv, submission_body
from harness.client.console import InputError
from harness.client.history.model import History, Imported, Options, build, from_epoch_ms

DEFAULT_PREFIX = "asv"
DEFAULT_CI = "asv"
NOT_RESULTS = frozenset({"machine.json", "benchmarks.json"})


def results_files(paths: Sequence[Path]) -> list[Path]:
    """The results files of folders (a results folder, or one machine's) and files."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        files = sorted(file for pattern in ("*.json", "*/*.json") for file in path.glob(pattern)
                       if file.name not in NOT_RESULTS)
        if not files:
            raise InputError(f"{path}: no asv results files (<machine>/<commit>-<env>.json) "
                             "in it")
        found += files
    return found


def asv_history(files: Sequence[tuple[Path, str]], options: Options) -> History:
    """The submissions of asv results files (path, text), in the given order."""
    infos: dict[Path, dict[str, Any]] = {}
    runs = []
    for path, text in files:
        folder = path.parent.parent
        if folder not in infos:
            infos[folder] = asv.benchmark_info(path)
        runs.append((path, asv.parse(path, text, infos[folder])))
    pairs = sorted({(run.machine, run.env) for _, run in runs})
    if len(pairs) > 1:
        listed = ", ".join(f"{machine} ({env or 'no env_name'})" for machine, env in pairs)
        raise InputError(f"the asv results are of {len(pairs)} machines or environments: "
                         f"{listed}; their series would mix: import one at a time (its "
                         "files, e.g. results/MACHINE/*-ENV.json), each with its own "
                         "--metric-prefix")
    documents = []
    empty = failed = skipped = 0
    for path, run in runs:
        failed += len(run.failed)
        skipped += len(run.skipped)
        if run.date is None:
            raise InputError(f"{path}: date: required, the commit's time (asv's JavaScript "
                             "time stamp)")
        if not run.benchmarks:
            empty += 1
            continue
        time = from_epoch_ms(run.date, f"{path}: date")
        body = submission_body(run.benchmarks, options.prefix or DEFAULT_PREFIX, str(path))
        body = {"build": build(options.ci or DEFAULT_CI, f"{run.machine}/{run.commit}",
                               options.branch, time, run.commit), **body}
        documents.append(Imported(str(path), 0, None, body))
    notes = []
    if failed or skipped:
        notes.append(f"not imported: {failed} asv results that failed (null), {skipped} the "
                     "suite skipped (NaN)")
    if empty:
        notes.append(f"{empty} results files have no result at all: not imported")
    return History(tuple(documents), tuple(notes))
