"""`base:` inheritance of catalog documents (specs and metrics), over plain dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.catalog.model import LEVELS
from harness.errors import Problem


@dataclass(frozen=True)
class RawDoc:
    """A document as read, before validation: where it is, its package, its keys."""

    where: str
    package: str
    body: dict[str, Any]


def merge(lower: Mapping[str, Any], upper: Mapping[str, Any]) -> dict[str, Any]:
    """Later documents override scalars, append lists and merge dicts."""
    result = dict(lower)
    for key, value in upper.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = [*result[key], *(item for item in value if item not in result[key])]
        else:
            result[key] = value
    return result


def _references(raw: RawDoc, problems: list[Problem]) -> list[str] | None:
    """The document's `base:` as a list of references; None (a problem) when malformed."""
    bases = raw.body.get("base", [])
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(bases, list):
        problems.append(Problem(f"{raw.where}.base", "must be a reference or a list of them"))
        return None
    return [str(reference) for reference in bases]


# --- metrics ---------------------------------------------------------------------------


def resolve_metric(
    raw: RawDoc, metrics: Mapping[str, RawDoc], problems: list[Problem],
    seen: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """A metric document merged over the metrics its `base:` names (`OTT1` in the same
    package, or `dm_latency.OTT1`), in order; None when a base is wrong (a problem)."""
    references = _references(raw, problems)
    if references is None:
        return None
    merged: dict[str, Any] = {}
    for reference in references:
        base = metrics.get(reference if "." in reference else f"{raw.package}.{reference}")
        if base is None:
            problems.append(Problem(f"{raw.where}.base", f"{reference!r} names no metric"))
            return None
        if base.where in (*seen, raw.where):
            problems.append(Problem(f"{raw.where}.base", f"{reference!r} inherits from itself"))
            return None
        resolved = resolve_metric(base, metrics, problems, (*seen, raw.where))
        if resolved is None:
            return None
        merged = _merge_metric(merged, resolved)
    return _merge_metric(merged, {key: value for key, value in raw.body.items() if key != "base"})


def _merge_metric(lower: Mapping[str, Any], upper: Mapping[str, Any]) -> dict[str, Any]:
    """`merge`, except that each detection setting is replaced, not extended: a `scan` or
    `min_effect` list is one setting."""
    merged = merge(lower, upper)
    below, above = lower.get("detection"), upper.get("detection")
    if isinstance(below, dict) and isinstance(above, dict):
        merged["detection"] = {**below, **above}
    return merged


# --- specs -----------------------------------------------------------------------------


def index_by_name(
    named: list[RawDoc], partials: Mapping[tuple[str, str], RawDoc]
) -> dict[str, RawDoc]:
    """Qualified spec name → document; a spec's metric may come from its bases."""
    index: dict[str, RawDoc] = {}
    pending = list(named)
    while pending:
        unresolved = []
        for raw in pending:
            metric = _metric_of(raw, partials, index, depth=0)
            if metric is None:
                unresolved.append(raw)
            else:
                qualified = metric if "." in metric else f"{raw.package}.{metric}"
                index[f"{qualified}.{raw.body['name']}"] = raw
        if len(unresolved) == len(pending):
            break
        pending = unresolved
    return index


def _metric_of(
    raw: RawDoc, partials: Mapping[tuple[str, str], RawDoc],
    index: Mapping[str, RawDoc], depth: int,
) -> str | None:
    if "metric" in raw.body:
        return str(raw.body["metric"])
    bases = raw.body.get("base", [])
    for reference in reversed([bases] if isinstance(bases, str) else list(bases)):
        reference = str(reference)
        if reference.startswith("#"):
            base = partials.get((raw.package, reference[1:]))
        else:
            base = index.get(reference) or index.get(f"{raw.package}.{reference}")
        if base is not None and depth < 20:
            found = _metric_of(base, partials, index, depth + 1)
            if found is not None:
                return found
    return None


def resolve_spec(
    raw: RawDoc,
    partials: Mapping[tuple[str, str], RawDoc],
    by_name: Mapping[str, RawDoc],
    problems: list[Problem],
    seen: tuple[str, ...],
) -> dict[str, Any] | None:
    """The document merged over its bases, in order."""
    references = _references(raw, problems)
    if references is None:
        return None
    merged: dict[str, Any] = {}
    for reference in references:
        if reference.startswith("#"):
            base = partials.get((raw.package, reference[1:]))
        else:
            base = by_name.get(reference) or by_name.get(f"{raw.package}.{reference}")
        if base is None:
            problems.append(
                Problem(f"{raw.where}.base", f"{reference!r} names no spec or partial"))
            return None
        if base.where in seen:
            problems.append(Problem(f"{raw.where}.base", f"{reference!r} inherits from itself"))
            return None
        resolved = resolve_spec(base, partials, by_name, problems, (*seen, raw.where))
        if resolved is None:
            return None
        merged = merge(merged, resolved)
    own = {key: value for key, value in raw.body.items() if key not in ("base", "id")}
    own_tags = own.get("tags")
    if isinstance(own_tags, list) and set(own_tags) & set(LEVELS) and "tags" in merged:
        # a spec's own level replaces the one it inherits instead of adding a second
        merged["tags"] = [tag for tag in merged["tags"] if tag not in LEVELS]
    return merge(merged, own)
