"""The points of one series as judging reads them: oldest first, kept as columns (time in ns,
value, verdict, the build's CI and id, the sample count and spread of each value)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]  # one point as named columns
COLUMNS = ("time", "value", "verdict", "ci", "build_id", "samples", "spread")


class Rows(Sequence[Row]):
    """Points of one series, oldest first, kept as columns; rows are made on access."""

    __slots__ = ("build_ids", "cis", "counts", "spreads", "times", "values", "verdicts")

    def __init__(self, times: list[int], values: list[float | None], verdicts: list[Any],
                 cis: list[Any], build_ids: list[Any], counts: list[int] | None = None,
                 spreads: list[float] | None = None) -> None:
        self.times, self.values, self.verdicts = times, values, verdicts
        self.cis, self.build_ids = cis, build_ids
        self.counts = counts if counts is not None else [1] * len(times)
        self.spreads = spreads if spreads is not None else [0.0] * len(times)

    @classmethod
    def of(cls, rows: Sequence[Row]) -> Rows:
        """Columns of rows as InfluxDB returns them."""
        return cls([row["time"] for row in rows], [row.get("value") for row in rows],
                   [row.get("verdict") for row in rows], [row.get("ci") for row in rows],
                   [row.get("build_id") for row in rows],
                   [int(row.get("samples") or 1) for row in rows],
                   [float(row.get("spread") or 0.0) for row in rows])

    def __len__(self) -> int:
        return len(self.times)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return {"time": self.times[index], "value": self.values[index],
                "verdict": self.verdicts[index], "ci": self.cis[index],
                "build_id": self.build_ids[index], "samples": self.counts[index],
                "spread": self.spreads[index]}

    def pick(self, keep: Sequence[int]) -> Rows:
        """The rows at these positions."""
        return Rows([self.times[i] for i in keep], [self.values[i] for i in keep],
                    [self.verdicts[i] for i in keep], [self.cis[i] for i in keep],
                    [self.build_ids[i] for i in keep], [self.counts[i] for i in keep],
                    [self.spreads[i] for i in keep])

    def valued_since(self, cutoff: int | None) -> Rows:
        """The points with a value, at or after a time (all if None)."""
        if cutoff is None and None not in self.values:
            return self
        keep = [i for i, (time, value) in enumerate(zip(self.times, self.values, strict=True))
                if value is not None and (cutoff is None or time >= cutoff)]
        return self if len(keep) == len(self) else self.pick(keep)

    def __add__(self, other: Rows) -> Rows:
        return Rows(self.times + other.times, self.values + other.values,
                    self.verdicts + other.verdicts, self.cis + other.cis,
                    self.build_ids + other.build_ids, self.counts + other.counts,
                    self.spreads + other.spreads)


NO_ROWS = Rows([], [], [], [], [])


@dataclass(frozen=True)
class Around:
    """A series' points around a time: the last ones before it, and every one from it on
    (as far as the cache keeps them: the newest `keep`)."""

    before: Rows
    after: Rows
