"""JSON as the harness reads it, at the web's edge and in the CI client: a key given twice
in one object is an error (the parser would otherwise keep the last one silently)."""

from __future__ import annotations

import json
from typing import Any


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict; ValueError naming a key given twice."""
    found = dict(pairs)
    if len(found) != len(pairs):
        keys = [key for key, _ in pairs]
        raise ValueError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes, *, constants: bool = True) -> Any:
    """Parse JSON with unique keys; with `constants=False`, NaN and Infinity are errors too
    (else they reach the field checks, which name the field). ValueError if not valid."""
    if constants:
        return json.loads(text, object_pairs_hook=unique_keys)
    return json.loads(text, object_pairs_hook=unique_keys, parse_constant=_no_constant)
