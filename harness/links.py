"""Stable, shareable dashboard URLs (relative to the public URL of the harness): every
selection is a query argument, in a fixed order. Dashboards, Slack and reports share them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def alerts_url(state: str | None = None) -> str:
    """The list of alerts (in one state)."""
    return "/dash/alerts" + (f"?{urlencode({'state': state})}" if state else "")


def summary_url(summary_id: str) -> str:
    """The view of one alert summary (the alerts of one cause)."""
    return f"/dash/summaries/{quote(summary_id, safe='')}"


def blob_url(blob_id: str, metric: str, dimensions: Mapping[str, str],
             build: tuple[str, str] | None = None, template: str | None = None) -> str:
    """The drill-down of one blob, knowing the metric and build it belongs to."""
    args: dict[str, str] = {"metric": metric, **dict(sorted(dimensions.items()))}
    if build is not None:
        args["ci"], args["build"] = build
    if template:
        args["template"] = template
    return f"/dash/blobs/{quote(blob_id, safe='')}?{urlencode(args)}"


def report_url(ci: str, build_id: str) -> str:
    """The verification report of one build."""
    return f"/dash/report/{quote(ci, safe='')}/{quote(build_id, safe='')}"


def release_report_url(branch: str | None = None, builds: Sequence[tuple[str, str]] = (),
                       name: str | None = None, until: str | None = None,
                       since: str | None = None) -> str:
    """The verification report of a release: the latest build of each dataset on a branch,
    or a named set of builds."""
    args = [("build", f"{ci}/{build_id}") for ci, build_id in builds]
    args += [(key, value) for key, value in (("branch", branch), ("until", until),
                                             ("since", since), ("name", name)) if value]
    return f"/dash/report?{urlencode(args)}"


def api_build_url(ci: str, build_id: str) -> str:
    """The API URL of one build, each part percent-encoded."""
    return f"/api/v1/builds/{quote(ci, safe='')}/{quote(build_id, safe='')}"


API = "/api/v1"
SUBMISSIONS = f"{API}/submissions"
JOBS = f"{API}/jobs"
ALERTS = f"{API}/alerts"
ALERT_SUMMARIES = f"{API}/alert-summaries"
METRICS = f"{API}/metrics"
REPORT = f"{API}/report"


def api_submission_url(submission_id: str) -> str:
    """The API URL of one submission's status."""
    return f"{SUBMISSIONS}/{quote(submission_id, safe='')}"


def api_alert_url(alert_id: str) -> str:
    """The API URL of one alert."""
    return f"{ALERTS}/{quote(alert_id, safe='')}"


def api_report_url(ci: str, build_id: str) -> str:
    """The API URL of one build's verification report."""
    return f"{REPORT}/{quote(ci, safe='')}/{quote(build_id, safe='')}"


def api_summary_url(summary_id: str) -> str:
    """The API URL of one alert summary."""
    return f"{ALERT_SUMMARIES}/{quote(summary_id, safe='')}"
