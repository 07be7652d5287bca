"""What a history import makes: native submissions, each with the place it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.client.adapters import number
from harness.client.console import InputError
from harness.times import iso_z

DEFAULT_BRANCH = "main"  # the catalog's default branch, unless --branch says another


@dataclass(frozen=True)
class Options:
    """How the builds and metrics of a history are named (`harness backfill` options)."""

    prefix: str | None = None  # --metric-prefix; None: the format's default
    branch: str = DEFAULT_BRANCH
    ci: str | None = None  # --ci; None: the format's default
    manifest: Path | None = None  # single-file formats: which build each file is


@dataclass(frozen=True)
class Imported:
    """One native submission of a history, and where in the input it comes from."""

    source: str  # a file, or a place in one (`data.js:entries["Benchmark"]`)
    index: int  # position within the source
    line: int | None  # a manifest's line
    body: dict[str, Any]


@dataclass(frozen=True)
class History:
    """The submissions of a history, and what was left out of it (for the terminal)."""

    documents: tuple[Imported, ...]
    notes: tuple[str, ...] = ()


def build(ci: str, build_id: str, branch: str, time: datetime, commit: str | None = None,
          url: str | None = None) -> dict[str, str]:
    """A native `build`: the same arguments always give the same object (the time in UTC,
    to the microsecond), so a re-run makes byte-identical documents."""
    found = {"ci": ci, "id": build_id, "branch": branch, "time": iso_z(time)}
    if commit:
        found["commit"] = commit
    if url and url.startswith(("http://", "https://")):
        found["url"] = url
    return found


def from_epoch_ms(value: Any, where: str) -> datetime:
    """A JavaScript time stamp (milliseconds since 1970, UTC) as a time."""
    milliseconds = number(value, where)
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise InputError(f"{where}: {value!r} is not a time (milliseconds since "
                         "1970)") from None

