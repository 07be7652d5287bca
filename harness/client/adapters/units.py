"""The unit strings benchmark tools write (`ns/iter`, `ops/sec`, `B/op`, `seconds`, …) as
units the harness knows (astropy's: `ns`, `1 / s`, `byte`, …), with what kind of figure
each is. Client code: the standard library only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from harness.client.adapters import Better

Kind = Literal["time", "rate", "size", "count", "percent", "other"]

_TIMES = {
    "ns": "ns", "nsec": "ns", "nanosecond": "ns", "nanoseconds": "ns",
    "us": "us", "usec": "us", "microsecond": "us", "microseconds": "us",
    "ms": "ms", "msec": "ms", "millisecond": "ms", "milliseconds": "ms",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "min": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hour": "h", "hours": "h", "day": "d", "days": "d",
}
_SIZES = {
    "b": "byte", "byte": "byte", "bytes": "byte",
    "kb": "kbyte", "kilobyte": "kbyte", "kilobytes": "kbyte", "kib": "Kibyte",
    "mb": "Mbyte", "megabyte": "Mbyte", "megabytes": "Mbyte", "mib": "Mibyte",
    "gb": "Gbyte", "gigabyte": "Gbyte", "gigabytes": "Gbyte", "gib": "Gibyte",
}
# what a time is per, or a rate counts: `ns/iter`, `ops/sec`
_EVENTS = frozenset({"iter", "iters", "iteration", "iterations", "op", "ops", "operation",
                     "operations", "call", "calls", "run", "runs", "sample", "samples"})
_COUNTS = frozenset({"", "unit", "count", "counts", "#", "#/op", "allocs", "allocs/op",
                     "allocations", "allocations/op"})
_PERCENT = frozenset({"%", "percent", "pct"})
_PER = re.compile(r"^(?P<top>[^/]+?)\s*/\s*(?P<bottom>[^/]+)$")


@dataclass(frozen=True)
class ToolUnit:
    """A tool's unit string read: the harness's unit for it and the kind of figure."""

    text: str  # as the tool wrote it
    unit: str  # a unit the harness knows; "" for counts and for a text it cannot read
    kind: Kind  # "other": a text the harness cannot read (posted as a plain number)

    @property
    def better(self) -> Better | None:
        """The direction the kind implies: times and sizes lower, rates higher; else None."""
        if self.kind == "rate":
            return "higher"
        if self.kind in ("time", "size"):
            return "lower"
        return None

    @property
    def same_kind_key(self) -> str:
        """Figures with equal keys convert into each other (a plain number: the same text)."""
        return f"other:{self.text}" if self.kind == "other" else self.kind


def tool_unit(text: str) -> ToolUnit:
    """A tool's unit string as a harness unit: `ns/iter` → ns, `ops/sec` → 1 / s,
    `B/op` → byte, `MB/s` → Mbyte / s, `allocs/op` → a count, `Percent` → %; a string it
    does not know → "" (a plain number) of kind "other"."""
    key = text.strip().lower().replace("µ", "u").replace("μ", "u")
    if key in _COUNTS:
        return ToolUnit(text, "", "count")
    if key in _PERCENT:
        return ToolUnit(text, "%", "percent")
    if key in _TIMES:
        return ToolUnit(text, _TIMES[key], "time")
    if key in _SIZES:
        return ToolUnit(text, _SIZES[key], "size")
    match = _PER.match(key)
    if match is not None:
        top, bottom = match["top"], match["bottom"]
        if bottom in _EVENTS and top in _TIMES:
            return ToolUnit(text, _TIMES[top], "time")
        if bottom in _EVENTS and top in _SIZES:
            return ToolUnit(text, _SIZES[top], "size")
        if bottom in _TIMES and top in _EVENTS:
            return ToolUnit(text, f"1 / {_TIMES[bottom]}", "rate")
        if bottom in _TIMES and top in _SIZES:
            return ToolUnit(text, f"{_SIZES[top]} / {_TIMES[bottom]}", "rate")
    return ToolUnit(text, "", "other")
