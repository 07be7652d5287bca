"""The dashboard pages: each handler reads plain data, calls a pure figure builder and
renders the shared layout with its breadcrumbs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from dashboards import queries
from dashboards.drilldown import BlobView, applicable, choose
from dashboards.figures import alert_figure, history_figure
from dashboards.page import embed, page
from dashboards.shaping import marker, metric_or_404, ms, series_label, specs_for
from dashboards.summary import Cell, Margin, margins_figure, sparkline, verdict_matrix
from dashboards.triage import allowed_actions, of_build, row_of, standing_regressions
from harness.alerting.alerts import series_key
from harness.alerting.summaries import summarize, summary_id_of
from harness.catalog import Metric
from harness.detection.verdicts import margin_to
from harness.errors import InvalidInput, NotFound, Problem
from harness.links import (
    api_alert_url,
    blob_url,
    build_url,
    metric_url,
    release_report_url,
    report_url,
    summary_url,
)
from harness.model import BuildRecord, StoredResult
from harness.storage.retention import Retention
from harness.times import parse_utc, point_time
from harness.web.context import WebContext, context

bp = Blueprint("dash_pages", __name__)
DAY_MS = 86_400_000
BUCKETS = 400  # time buckets of a long history: at most 800 points drawn
PAGE = 200  # series rows of one overview page
OVERVIEW_DAYS = 14  # the overview's window: the days before the branch's newest build
ALERT_MARKERS = 200  # a series' newest alerts drawn (and listed) besides its live ones


@bp.get("/")
def overview() -> ResponseReturnValue:
    """The latest verdict of each series measured on a branch in the `days` before its
    newest build, narrowed by dataset, filter, metric (a prefix) or KPMs, PAGE rows a page
    (the counts are of every series that matches; decision: /tmp/decisions/overview_report.md)."""
    ctx = context()
    catalog = ctx.full_catalog()
    branch = request.args.get("branch") or catalog.default_branch
    chosen = {key: request.args[key] for key in ("dataset", "filter") if request.args.get(key)}
    prefix = request.args.get("metric", "").strip()
    kpm_only = request.args.get("kpm") == "1"
    days, number = _count_arg("days", OVERVIEW_DAYS, 36_500), _count_arg("page", 1, 10_000)
    newest = queries.newest_build(ctx.store, branch)
    since = newest.time - days * DAY_MS * 1_000_000 if newest else None
    found = queries.latest_verdicts(ctx.store, branch, since, chosen)
    matching = sorted((s for s in found if (metric := catalog.get(s.metric)) is not None
                       and s.metric.startswith(prefix) and (not kpm_only or "kpm" in metric.tags)),
                      key=lambda s: s.sort_key)
    alerts = ctx.alert_log().live()  # open or acknowledged: what the overview counts and marks
    open_alerts = Counter(a.series for a in alerts if a.state == "open")
    regressions = standing_regressions(alerts)
    keys = [series_key(s.metric, s.dimensions, branch) for s in matching]
    shown = matching[(number - 1) * PAGE:number * PAGE]
    recent = {(item.metric, tuple(sorted(item.dimensions.items()))): item for item in
              queries.recent(ctx.store, branch, [s.metric for s in shown], since, chosen)}
    rows: list[dict[str, Any]] = []
    for listed in shown:
        item = recent.get((listed.metric, tuple(sorted(listed.dimensions.items()))))
        metric = catalog.get(listed.metric)
        if item is None or metric is None:
            continue
        latest = item.latest
        series = series_key(metric.name, item.dimensions, branch)
        rows.append({
            "metric": metric, "dimensions": item.dimensions, "latest": latest,
            "link": metric_url(metric.name, item.dimensions, branch),
            "build_link": build_url(latest.ci, latest.build_id),
            "sparkline": sparkline(item.points.values,
                                   [verdict or "none" for verdict in item.points.verdicts]),
            "open_alerts": open_alerts[series], "regression": regressions.get(series),
            "column": " · ".join(v for _, v in sorted(item.dimensions.items())) or "–",
        })
    paging = _paging(len(matching), number)
    matrix = verdict_matrix(
        [Cell(r["metric"].name, r["column"], r["latest"].verdict, r["latest"].value,
              r["metric"].unit, r["link"], regressed=r["regression"] is not None)
         for r in rows],
        title=f"Latest verdict of each series on {branch}" + (
            f" (rows {paging['first']:,}–{paging['last']:,} of {len(matching):,})"
            if paging["pages"] > 1 else "")) if rows else None
    return page("overview.html", [("Overview", None)], plot=embed(matrix), rows=rows,
                counts=Counter(s.verdict for s in matching), total=len(matching),
                regressed=sum(1 for key in keys if key in regressions), branch=branch,
                branches=queries.branches(ctx.store) or [branch],
                options=queries.tag_values(ctx.store, branch, ("dataset", "filter")),
                metrics=sorted({s.metric for s in found}), prefix=prefix, days=days,
                chosen=chosen, kpm_only=kpm_only, paging=paging,
                newest=newest and {"ci": newest.build.ci, "build_id": newest.build.id},
                release_report=release_report_url(branch) if newest else None,
                newest_report=report_url(newest.build.ci, newest.build.id) if newest else None)


def _paging(total: int, number: int) -> dict[str, Any]:
    """Which rows of `total` page `number` shows, and the links to its neighbours."""
    pages = max(1, -(-total // PAGE))
    args = {key: value for key, value in request.args.items() if key != "page" and value}

    def link(to: int) -> str | None:
        if not 1 <= to <= pages or to == number:
            return None
        query = urlencode({**args, **({"page": to} if to > 1 else {})})
        return "/dash/" + (f"?{query}" if query else "")

    return {"pages": pages, "number": number, "first": (number - 1) * PAGE + 1,
            "last": min(total, number * PAGE), "more": max(0, total - number * PAGE),
            "next": link(number + 1), "previous": link(number - 1), "size": PAGE}


@bp.get("/metrics/<metric_name>")
def metric_history(metric_name: str) -> ResponseReturnValue:
    """One series of a metric over time, with its specs, alerts and change points."""
    ctx = context()
    catalog = ctx.full_catalog()
    metric = metric_or_404(catalog, metric_name)
    branch = request.args.get("branch") or catalog.default_branch
    available = queries.series_of(ctx.store, metric.name, branch)
    chosen = {key: request.args[key] for key in metric.dimensions if request.args.get(key)}
    matches = [d for d in available if all(d.get(k) == v for k, v in chosen.items())]
    crumbs = [("Overview", "/dash/"), (metric.name, None)]
    if not matches:
        return page("metric.html", crumbs, metric=metric, branch=branch, plot=None,
                    available=available, chosen=chosen, options=_options(available, metric),
                    series_links=[], args=request.args, alerts=[]), 404
    dimensions = matches[0]
    if chosen != dimensions:  # a shareable URL names the whole series
        return redirect(metric_url(metric.name, dimensions, branch, **_view_args()))
    since, until = _time_arg("since"), _time_arg("until")
    found = queries.history(ctx.store, metric.name, dimensions, metric.dimensions, branch,
                            since=since, until=until, buckets=BUCKETS)
    series = series_key(metric.name, dimensions, branch)
    alerts = ctx.alert_log().of_series_newest(series, ALERT_MARKERS)
    overlay = None
    if request.args.get("prs") == "1":
        overlay = queries.history(
            ctx.store, metric.name, dimensions, metric.dimensions, None, since=since,
            until=until, pr_base=branch).columns()
    plot = history_figure(
        found.columns(), specs_for(metric, dimensions), unit=metric.unit,
        title=f"{metric.name} · {series_label(dimensions)} · {branch}",
        alerts=[marker(a) for a in alerts if a.kind != "changepoint"],
        change_points=[ms(a.started_time or a.time) for a in alerts if a.kind == "changepoint"],
        overlay=overlay, axis="build" if request.args.get("x") == "build" else "time",
        buckets=BUCKETS, total=found.total,
    ) if found.rows else None
    crumbs[-1] = (metric.name, metric_url(metric.name, {}, branch))
    crumbs.append((series_label(dimensions) or "series", None))
    return page("metric.html", crumbs, metric=metric, branch=branch, plot=embed(plot),
                dimensions=dimensions, options=_options(available, metric), chosen=dimensions,
                points=found.total, alerts=alerts, args=request.args,
                series_links=[(d, metric_url(metric.name, d, branch)) for d in available])


@bp.get("/builds/<ci>/<path:build_id>")
def build(ci: str, build_id: str) -> ResponseReturnValue:
    """A build: its links, every result with verdict and excursion, code changes, alerts."""
    ctx = context()
    catalog = ctx.full_catalog()
    record = ctx.store.build_record(ci, build_id)
    if record is None:
        raise NotFound(f"no build {ci}/{build_id}")
    previous, changes = queries.changes_of(ctx.store, record)
    branch = record.judged_on  # PR results sit over their base
    prs = "1" if record.build.pull_request is not None and record.build.pull_request.base else None
    results: list[dict[str, Any]] = []
    margins: list[Margin] = []
    for stored in ctx.store.build_results(record):
        metric = catalog.get(stored.metric)
        link = metric_url(stored.metric, stored.dimensions, branch, prs=prs)
        blobs = [blob_url(b, stored.metric, stored.dimensions, (ci, build_id))
                 for b in stored.blobs]
        results.append({"result": stored, "link": link, "blobs": blobs,
                        "deviation": _deviation(stored)})
        margin = _margin(metric, stored, link) if metric else None
        if margin is not None:
            margins.append(margin)
    margins.sort(key=lambda m: m.label)
    logged = ctx.alert_log().find()
    causes = [row_of(summary) for summary in summarize(logged)
              if (summary.cause.ci, summary.cause.build_id) == (ci, build_id)]
    plot = margins_figure(margins, "Margin of each result to its design spec") if margins else None
    return page("build.html", [("Overview", "/dash/"), (f"{ci} / {build_id}", None)],
                build=record.build, time=point_time(record.time), results=results,
                expired=_expired_notice(ctx.retention(), record, bool(results)),
                changes=changes, alerts=of_build(logged, ci, build_id), causes=causes,
                plot=embed(plot),
                previous=previous and previous.build,
                previous_link=build_url(previous.build.ci, previous.build.id) if previous else None,
                report_link=report_url(ci, build_id))


@bp.get("/alerts/<alert_id>")
def alert(alert_id: str) -> ResponseReturnValue:
    """An alert with the plot that explains it, its history, and triage for token holders."""
    ctx = context()
    found = ctx.alert_log().get(alert_id)
    metric = metric_or_404(ctx.full_catalog(), found.metric)
    moment = ms(found.time)
    window = (datetime.fromtimestamp((moment - 45 * DAY_MS) / 1000, UTC),
              datetime.fromtimestamp((moment + 20 * DAY_MS) / 1000, UTC))
    history = queries.history(ctx.store, metric.name, found.dimensions, metric.dimensions,
                              found.branch, since=window[0], until=window[1])
    plot = alert_figure(
        history.columns(), specs_for(metric, found.dimensions), marker(found),
        unit=metric.unit, baseline=found.baseline, threshold=found.threshold,
        started=ms(found.started_time) if found.started_time else None,
        title=f"{found.kind}: {metric.name} · {series_label(found.dimensions)} · {found.branch}",
    ) if history.rows else None
    series_link = metric_url(metric.name, found.dimensions, found.branch)
    expired = _build_expired(ctx, found.build_ci, found.build_id)
    return page("alert.html", [("Overview", "/dash/"), ("Alerts", "/dash/alerts"),
                               (found.kind + " " + found.id[:8], None)],
                alert=found, plot=embed(plot), series_link=series_link, expired=expired,
                triage_endpoint=api_alert_url(found.id),
                actions=allowed_actions([found.state]),
                summary_link=summary_url(summary_id_of(found)),
                build_link=build_url(found.build_ci, found.build_id))


@bp.get("/blobs/<blob_id>")
def blob(blob_id: str) -> ResponseReturnValue:
    """A detail blob drawn by the template its name or its metric's tags choose."""
    ctx = context()
    document = ctx.blobs.get(blob_id)
    if document is None:
        raise NotFound(f"no blob {blob_id!r}")
    catalog = ctx.full_catalog()
    metric = catalog.get(request.args.get("metric", ""))
    dimensions = {k: request.args[k] for k in (metric.dimensions if metric else ())
                  if request.args.get(k)}
    view = BlobView.of(document, **({
        "metric": metric.name, "metric_unit": metric.unit, "metric_tags": metric.tags,
        "specs": tuple(specs_for(metric, dimensions))} if metric else {}))
    template = choose(view, request.args.get("template"))
    ci, build_id = request.args.get("ci"), request.args.get("build")
    owner = (ci, build_id) if ci and build_id else None
    crumbs: list[tuple[str, str | None]] = [("Overview", "/dash/")]
    if metric:
        crumbs.append((metric.name, metric_url(metric.name, dimensions,
                                               catalog.default_branch)))
    if owner:
        crumbs.append((f"{ci} / {build_id}", build_url(*owner)))
    crumbs.append((f"{document.get('name', 'blob')} · {template.title}", None))
    others = [(t, blob_url(blob_id, metric.name if metric else "", dimensions, owner, t.name))
              for t in applicable(view)]
    return page("blob.html", crumbs, document=document, drilldown=template, others=others,
                plot=embed(template.draw(view)), metric=metric, dimensions=dimensions)


# --- shaping the data for the figures -------------------------------------------------------


def _margin(metric: Metric, result: StoredResult, link: str) -> Margin | None:
    specs = {s.level: s for s in metric.specs if s.applies_to(result.dimensions)}
    spec = specs.get("design") or specs.get("minimum") or specs.get("stretch")
    if spec is None or result.value is None:
        return None
    label = " · ".join([metric.name.rsplit(".", 1)[-1], *result.dimensions.values()])
    return Margin(label, margin_to(result.value, spec.operator, spec.threshold),
                  result.verdict, spec.name, link)


def _deviation(result: StoredResult) -> str:
    if result.baseline is None or result.value is None:
        return ""
    text = f"{result.value - result.baseline:+.4g} (baseline {result.baseline:.4g})"
    if result.score is not None:
        text += f", z = {result.score:+.1f}"
    return text + (f", {result.decision}" if result.decision else "")


def _build_expired(ctx: WebContext, ci: str, build_id: str) -> str | None:
    """The notice of a build (an alert's) whose points the branch retention deleted."""
    retention = ctx.retention()
    record = ctx.store.build_record(ci, build_id)
    if record is None or not retention.has_expired(record):
        return None
    return _expired_notice(retention, record, bool(ctx.store.build_results(record)))


def _expired_notice(retention: Retention, record: BuildRecord, has_results: bool
                    ) -> str | None:
    """What a page says of a build whose points the branch retention deleted, else None."""
    expired = retention.expired_json(record, has_results)
    return str(expired["message"]) if expired else None




def _options(available: Sequence[Mapping[str, str]], metric: Metric) -> dict[str, list[str]]:
    return {key: sorted({d[key] for d in available if key in d}) for key in metric.dimensions}




def _view_args() -> dict[str, str]:
    return {key: request.args[key] for key in ("since", "until", "x", "prs")
            if request.args.get(key)}


def _time_arg(name: str) -> datetime | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        return parse_utc(text)
    except ValueError:
        raise InvalidInput([Problem(name, "must be an ISO 8601 date or time")],
                           "bad query") from None


def _count_arg(name: str, default: int, most: int) -> int:
    """A whole-number query argument from 1 to `most` (default if absent)."""
    text = request.args.get(name)
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise InvalidInput([Problem(name, f"must be a whole number from 1 to {most}")],
                           "bad query")
    return int(text)
