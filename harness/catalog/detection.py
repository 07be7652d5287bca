"""A metric's `detection:` settings, from catalog YAML or `--set KEY=VALUE` text.

Each setting becomes the fields of harness.detection.params.DetectionParams it
sets; `min_effect` is a relative shift (`2%` → min_relative 0.02), an absolute one in a
unit (`0.5 s` → min_absolute in the metric's unit), or a list of both."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from harness.catalog.model import DetectionSettings
from harness.errors import CatalogError, Problem

OFF = "off"
# A number and what follows it: `2%`, `0.5 s`, `1e3 ms`, `4`.
QUANTITY = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
# harness.detection.excursions needs a baseline longer than min_level // 2 (8) values: with fewer,
# its level-shift search has nowhere to cut.
SHORTEST_BASELINE = 9
MIN_EFFECT_FORMS = "a relative shift like 2%, an absolute one with its unit like 0.5 s, or both"


class _Invalid(ValueError):
    """A setting's value that is not allowed; the message says what is."""


def parse_detection(raw: Any, unit: str, where: str) -> DetectionSettings:
    """`off` (or YAML false), or a mapping of settings (YAML-typed or text like "4", "2%",
    "0.5 s", "6,12,21") → settings converted for a metric in `unit`; raises CatalogError
    whose problems name `where` and the key."""
    if raw is False or (isinstance(raw, str) and raw.strip().lower() == OFF):
        return DetectionSettings(enabled=False)
    if not isinstance(raw, Mapping):
        raise CatalogError([Problem(where, "must be a mapping of detection settings, or off")])
    problems: list[Problem] = []
    overrides: dict[str, Any] = {}
    for key, value in raw.items():
        parse = _SETTINGS.get(str(key))
        if parse is None:
            problems.append(Problem(f"{where}.{key}",
                                    f"not a detection setting (known: {', '.join(_SETTINGS)})"))
            continue
        try:
            overrides.update(parse(value, unit))
        except _Invalid as error:
            problems.append(Problem(f"{where}.{key}", str(error)))
    problems = problems or _inconsistencies(overrides, where)
    if problems:
        raise CatalogError(problems)
    return DetectionSettings(overrides=overrides)


def _inconsistencies(overrides: Mapping[str, Any], where: str) -> list[Problem]:
    """What the settings break together with the defaults they leave in force, named at
    the setting that was given (persistence ≤ the longest scan window ≤ span)."""
    if not {"persistence", "scan", "span"} & overrides.keys():
        return []
    params = DetectionSettings(overrides=overrides).params()
    longest = max(params.scan)
    problems = []
    if params.persistence > longest:
        problems.append(
            Problem(f"{where}.persistence", f"must be at most the longest scan window ({longest})")
            if "persistence" in overrides else
            Problem(f"{where}.scan", f"needs a window of at least persistence "
                                     f"({params.persistence})"))
    if longest > params.span:
        problems.append(
            Problem(f"{where}.scan", f"each window must be at most span ({params.span})")
            if "scan" in overrides else
            Problem(f"{where}.span", f"must be at least the longest scan window ({longest})"))
    return problems


# --- one parser per setting: value → the DetectionParams fields it sets ----------------


def _positive(name: str) -> Callable[[Any, str], dict[str, Any]]:
    def parse(value: Any, unit: str) -> dict[str, Any]:
        number = _number(value)
        if number is None or number <= 0:
            raise _Invalid("must be a number > 0")
        return {name: number}
    return parse


def _at_least(name: str, minimum: int) -> Callable[[Any, str], dict[str, Any]]:
    def parse(value: Any, unit: str) -> dict[str, Any]:
        return {name: _integer(value, minimum, f"must be an integer >= {minimum}")}
    return parse


def _scan(value: Any, unit: str) -> dict[str, Any]:
    items = _items(value)
    message = "must be a non-empty list of integers >= 1, like [6, 12, 21]"
    if not items:
        raise _Invalid(message)
    return {"scan": tuple(_integer(item, 1, message) for item in items)}


def _min_effect(value: Any, unit: str) -> dict[str, Any]:
    effects: dict[str, float] = {}
    items = _items(value)
    for item in items:
        knob, size = _effect(item, unit)
        if knob in effects:
            kind = "relative" if knob == "min_relative" else "absolute"
            raise _Invalid(f"gives two {kind} shifts; give {MIN_EFFECT_FORMS}")
        effects[knob] = size
    if not effects:
        raise _Invalid(f"must be {MIN_EFFECT_FORMS}")
    return effects


_SETTINGS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "threshold": _positive("threshold"),
    "pr_threshold": _positive("pr_threshold"),
    "min_effect": _min_effect,
    "persistence": _at_least("persistence", 1),
    "window": _at_least("window", SHORTEST_BASELINE),
    "span": _at_least("span", 1),
    "scan": _scan,
    "min_history": _at_least("min_history", SHORTEST_BASELINE),
    "noise_window": _at_least("noise_window", 8),
    "resolve_after": _at_least("resolve_after", 1),
}


def _effect(item: Any, unit: str) -> tuple[str, float]:
    """One `min_effect` item → ("min_relative", fraction) or ("min_absolute", in unit)."""
    match = QUANTITY.match(str(item)) if isinstance(item, int | float | str) else None
    if isinstance(item, bool) or match is None:
        raise _Invalid(f"{item!r} is not {MIN_EFFECT_FORMS}")
    size, given_unit = float(match[1]), match[2]
    if not math.isfinite(size) or size < 0:
        raise _Invalid(f"{item!r}: a shift must be a finite number >= 0")
    if given_unit == "%":
        return "min_relative", size / 100
    if not given_unit and unit:
        raise _Invalid(f"{item!r} needs a unit (like {size:g} {unit}) or % (like {size:g}%)")
    # astropy (the server extra): only for a unit to convert; `harness replay --set` runs in
    # the light client
    from harness.units import UnitProblem, converter

    try:
        convert = converter(given_unit or unit, unit)
    except UnitProblem as error:
        raise _Invalid(str(error)) from None
    return "min_absolute", abs(convert(size) - convert(0.0))  # a difference: no offset


def _items(value: Any) -> list[Any]:
    """A list as given, text split at commas ("6,12,21"), or one value."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    return [value]


def _number(value: Any) -> float | None:
    """A finite number from a YAML number or its text; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any, minimum: int, message: str) -> int:
    """An integer >= minimum from a YAML integer or its text; raises _Invalid(message)."""
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _Invalid(message)
    return value
