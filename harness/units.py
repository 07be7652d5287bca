"""Unit parsing and conversion with astropy.units, cached per unit pair."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import astropy.units as u

Converter = Callable[[float], float]


class UnitProblem(ValueError):
    """A unit that does not parse, or does not convert to the one wanted."""


@lru_cache(maxsize=512)
def parse_unit(text: str) -> u.UnitBase:
    """The astropy unit for a unit string; "" is dimensionless."""
    try:
        return u.Unit(text)
    except ValueError:
        raise UnitProblem(f"{text!r} is not a unit astropy knows") from None


@lru_cache(maxsize=1024)
def converter(source: str, target: str) -> Converter:
    """A function taking values in `source` to `target`; raises UnitProblem if impossible."""
    if source == target:
        return _identity
    from_unit, to_unit = parse_unit(source), parse_unit(target)
    try:
        at_zero = float(u.Quantity(0.0, from_unit).to_value(to_unit))
        at_one = float(u.Quantity(1.0, from_unit).to_value(to_unit))
    except u.UnitsError:
        raise UnitProblem(
            f"{source or 'dimensionless'!s} does not convert to {target or 'dimensionless'}"
        ) from None
    scale, offset = at_one - at_zero, at_zero
    at_ten = float(u.Quantity(10.0, from_unit).to_value(to_unit))
    if abs(scale * 10.0 + offset - at_ten) <= 1e-9 * max(1.0, abs(at_ten)):
        return lambda value: value * scale + offset
    return lambda value: float(u.Quantity(value, from_unit).to_value(to_unit))


def _identity(value: float) -> float:
    return value
