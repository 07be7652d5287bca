"""`harness backfill --format F`: a benchmark tool's saved history as native submissions.

- `github-action-benchmark`: its data.js (harness.client.history.data_js);
- `asv`: a results folder or results files (harness.client.history.asv_results);
- the other adapter formats: saved output files, with a manifest saying which build each
  file is, or builds named by the files (harness.client.history.manifest).

Every submission is a pure function of the input files and the options (no clock, no
absolute path, no file time in it): a re-run makes byte-identical documents, which the
harness finds by their digest and `harness backfill` skips. Client code: the standard
library only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.client.adapters import FORMATS, read_text, reader
from harness.client.console import InputError
from harness.client.history import asv_results, data_js, manifest
from harness.client.history.model import DEFAULT_BRANCH, History, Imported, Options

__all__ = ["DEFAULT_BRANCH", "HISTORY_FORMATS", "History", "Imported", "Options",
           "read_history"]

HISTORY_FORMATS = tuple(sorted({data_js.FORMAT, *FORMATS}))


def read_history(format_name: str, paths: Sequence[Path], options: Options) -> History:
    """The submissions of a tool's history in these files (or the manifest's)."""
    if format_name not in HISTORY_FORMATS:
        raise InputError(f"--format {format_name}: not one of {', '.join(HISTORY_FORMATS)}")
    if options.manifest is not None:
        if format_name in (data_js.FORMAT, "asv"):
            raise InputError(f"--manifest: {format_name} files name their own builds "
                             "(commit and time): give the files alone")
        if paths:
            raise InputError("--manifest names the files to import: give no FILE with it")
        return manifest.manifest_history(format_name, options.manifest,
                                         read_text(options.manifest), options,
                                         reader(format_name))
    if not paths:
        raise InputError(f"--format {format_name}: give the FILEs to import")
    if format_name == data_js.FORMAT:
        return data_js.data_js_history(_texts(paths), options)
    if format_name == "asv":
        return asv_results.asv_history(_texts(asv_results.results_files(paths)), options)
    return manifest.named_history(format_name, paths, options, reader(format_name))


def _texts(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """Each file with its text."""
    return [(path, read_text(path)) for path in paths]
