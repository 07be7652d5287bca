"""Stable, shareable dashboard URLs: every selection is a query argument, in a fixed order."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode


def metric_url(metric: str, dimensions: Mapping[str, str], branch: str,
               **extra: str | None) -> str:
    """The history view of one series."""
    args = {**dict(sorted(dimensions.items())), "branch": branch}
    args.update({key: value for key, value in sorted(extra.items()) if value})
    return f"/dash/metrics/{quote(metric, safe='')}?{urlencode(args)}"


def build_url(ci: str, build_id: str) -> str:
    """The view of one build."""
    return f"/dash/builds/{quote(ci, safe='')}/{quote(build_id, safe='')}"


def alert_url(alert_id: str) -> str:
    """The view of one alert."""
    return f"/dash/alerts/{quote(alert_id, safe='')}"


def blob_url(blob_id: str, metric: str, dimensions: Mapping[str, str],
             build: tuple[str, str] | None = None, template: str | None = None) -> str:
    """The drill-down of one blob, knowing the metric and build it belongs to."""
    args: dict[str, str] = {"metric": metric, **dict(sorted(dimensions.items()))}
    if build is not None:
        args["ci"], args["build"] = build
    if template:
        args["template"] = template
    return f"/dash/blobs/{quote(blob_id, safe='')}?{urlencode(args)}"
