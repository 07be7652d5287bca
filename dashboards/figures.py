"""Pure figure builders: plain data in, Bokeh models out (no Flask, no store).

Columns are dicts of equal-length sequences; times are milliseconds since the epoch (what
a Bokeh datetime axis takes); `link` columns hold the URL a click on the glyph opens."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from bokeh.core.properties import field
from bokeh.layouts import column
from bokeh.models import (
    BoxAnnotation,
    CDSView,
    ColumnDataSource,
    CustomJS,
    DateRangeSlider,
    GlyphRenderer,
    HoverTool,
    HStrip,
    Label,
    LabelSet,
    LayoutDOM,
    Legend,
    LegendItem,
    Line,
    RangeSlider,
    Scatter,
    Span,
    TapTool,
)
from bokeh.plotting import figure
from bokeh.transform import factor_cmap

from dashboards.downsample import min_max_indices

Columns = Mapping[str, Sequence[Any]]
VERDICTS = ("stretch", "design", "minimum", "fail", "none")
VERDICT_COLORS = {"stretch": "#1b7837", "design": "#5aae61", "minimum": "#e08214",
                  "fail": "#d73027", "none": "#8c8c8c"}
ALERT_COLORS = {"regression": "#b2182b", "improvement": "#2166ac", "spec": "#d6604d",
                "missing": "#762a83", "changepoint": "#542788"}
TOOLS = "pan,xwheel_zoom,box_zoom,reset,save"
ALERT_TOOLTIPS = [("alert", "@kind"), ("time", "@time{%F %H:%M}"), ("why", "@reason")]


@dataclass(frozen=True)
class SpecLine:
    """One threshold to draw: `level` (stretch / design / minimum) `operator` `threshold`."""

    level: str
    operator: str
    threshold: float

    @property
    def lower_is_better(self) -> bool:
        """Whether the spec asks for values below its threshold."""
        return self.operator in ("<", "<=")

    @property
    def text(self) -> str:
        """`design ≤ 5` as a label."""
        symbol = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}.get(self.operator, self.operator)
        return f"{self.level} {symbol} {self.threshold:g}"


@dataclass(frozen=True)
class Marker:
    """An alert to mark on a history: where, what kind, and the page explaining it."""

    time: float  # ms since the epoch
    value: float | None
    kind: str
    reason: str
    link: str


def spec_bands(specs: Sequence[SpecLine]) -> list[tuple[float, float, str]]:
    """The value ranges of each verdict as (low, high, verdict), from the best level
    outwards; infinite ends stay infinite (the plot clips them)."""
    ordered = sorted((s for s in specs if s.level in VERDICTS and math.isfinite(s.threshold)),
                     key=lambda s: VERDICTS.index(s.level))
    if not ordered:
        return []
    lower = ordered[0].lower_is_better
    bands = []
    edge = -math.inf if lower else math.inf
    for spec in ordered:
        low, high = (edge, spec.threshold) if lower else (spec.threshold, edge)
        bands.append((low, high, spec.level))
        edge = spec.threshold
    bands.append((edge, math.inf, "fail") if lower else (-math.inf, edge, "fail"))
    return [(low, high, level) for low, high, level in bands if low < high]


def draw_specs(plot: Any, specs: Sequence[SpecLine]) -> None:
    """Shade each verdict's band faintly and draw each threshold as a labelled line."""
    for low, high, level in spec_bands(specs):
        plot.add_layout(BoxAnnotation(
            bottom=low if math.isfinite(low) else None, top=high if math.isfinite(high) else None,
            fill_color=VERDICT_COLORS[level], fill_alpha=0.07, line_alpha=0, level="underlay",
            name=f"band-{level}"))
    for spec in specs:
        plot.add_layout(Span(location=spec.threshold, dimension="width", line_dash="dashed",
                             line_color=VERDICT_COLORS.get(spec.level, "#444"), line_width=1.5,
                             name=f"spec-{spec.level}"))
        plot.add_layout(Label(x=4, y=spec.threshold, x_units="screen", text=spec.text,
                              text_font_size="11px", text_color=VERDICT_COLORS.get(spec.level),
                              y_offset=2, name=f"label-{spec.level}"))


def draw_spec_glyph(plot: Any, specs: Sequence[SpecLine], values: np.ndarray
                    ) -> GlyphRenderer | None:
    """What draw_specs draws, as one glyph (`specs`) and one label set on the same rows:
    a row per verdict band, shaded, and a row per threshold, a strip of no height whose
    edge is the dashed line. A fifth of the Bokeh models, hence of the time to build and
    serialise them. Infinite band ends stop a thousand times beyond every threshold and
    value, so the caller keeps this glyph out of the y auto-range."""
    lines = [spec for spec in specs if math.isfinite(spec.threshold)]
    if not lines:
        return None
    finite = values[np.isfinite(values)]
    extremes = [abs(spec.threshold) for spec in lines]
    if len(finite):
        extremes += [abs(float(finite.min())), abs(float(finite.max()))]
    reach = 1e3 * max(1.0, *extremes)
    rows = [(max(low, -reach), min(high, reach), level, 0.07, 0.0, "")
            for low, high, level in spec_bands(lines)]
    rows += [(spec.threshold, spec.threshold, spec.level, 0.0, 1.0, spec.text) for spec in lines]
    names = ("y0", "y1", "level", "fill_alpha", "line_alpha", "text")
    data: dict[str, list[Any]] = {name: [row[position] for row in rows]
                                  for position, name in enumerate(names)}
    data["color"] = [VERDICT_COLORS.get(level, "#444") for level in data["level"]]
    source = ColumnDataSource(data)
    renderer = plot.add_glyph(source, HStrip(
        y0="y0", y1="y1", fill_color="color", fill_alpha="fill_alpha", line_color="color",
        line_alpha="line_alpha", line_dash="dashed", line_width=1.5), name="specs")
    plot.add_layout(LabelSet(x=4, y="y1", x_units="screen", text="text", source=source,
                             text_font_size="11px", text_color="color", y_offset=2,
                             name="spec-labels"))
    return renderer


def history_figure(
    points: Columns,
    specs: Sequence[SpecLine] = (),
    *,
    unit: str = "",
    title: str = "",
    alerts: Sequence[Marker] = (),
    change_points: Sequence[float] = (),
    overlay: Columns | None = None,
    axis: Literal["time", "build"] = "time",
    buckets: int = 400,
    total: int | None = None,
) -> LayoutDOM:
    """A metric's history: verdict-coloured points over spec bands, alerts and change points
    marked, PR builds overlaid, a range selector below. `points` is sorted by time and has
    the columns time, value, verdict, ci, build_id, commit, pr, change, score; past
    2 × buckets points it is min/max-downsampled here, and `total` says how many points the
    caller's rows stand for when it downsampled them already. Either way the title says so."""
    count = len(points["time"])
    kept = min_max_indices(points["time"], _floats(points["value"]), buckets)
    shown: dict[str, Any] = {key: _column(values, kept) for key, values in points.items()}
    shown["x"] = kept.astype(float) if axis == "build" else shown["time"]
    if axis == "time":
        del shown["time"]  # the x column is the time
    represented = max(total or 0, count)
    if len(kept) < represented:
        title = (f"{title} — {represented:,} builds shown as {len(kept):,} points: the lowest "
                 "and highest of each bucket (choose since/until to see every build)")
    plot = figure(title=title, height=420, sizing_mode="stretch_width", tools=TOOLS,
                  x_axis_type="datetime" if axis == "time" else "linear",
                  toolbar_location="above", name="history")
    plot.xaxis.axis_label = "build time (UTC)" if axis == "time" else "build (oldest → newest)"
    plot.yaxis.axis_label = unit or "value"
    drawn_specs = draw_spec_glyph(plot, specs, _floats(shown["value"]))
    # glyphs added bare (BokehJS derives their dimmed and muted looks), the line and the
    # points sharing one source and one view of it: fewer models to build and serialise
    source, view = ColumnDataSource(shown, name="history-points"), CDSView()
    plot.add_glyph(source, Line(x="x", y="value", line_color="#9e9e9e", line_width=1),
                   view=view)
    colors = factor_cmap("verdict", [VERDICT_COLORS[v] for v in VERDICTS], VERDICTS)
    renderer = plot.add_glyph(source, Scatter(x="x", y="value", size=7, fill_color=colors,
                                              line_color=colors), view=view, name="points")
    plot.add_layout(Legend(items=[LegendItem(label=field("verdict"), renderers=[renderer])],
                           location="top_left", click_policy="hide"))
    clickable = [renderer]
    if overlay is not None and len(overlay["time"]):
        clickable.append(_overlay(plot, overlay, points, axis))
    for moment in change_points:
        plot.add_layout(Span(location=_x_of(moment, points, axis), dimension="height",
                             line_color=ALERT_COLORS["changepoint"], line_dash="dotdash",
                             line_width=2, name="change-point"))
    time_field = "@x" if axis == "time" else "@time"
    plot.add_tools(HoverTool(renderers=list(clickable), tooltips=_tooltips(unit, time_field),
                             formatters={time_field: "datetime"}))
    if alerts:
        marked = _alerts(plot, alerts, points, axis)
        clickable.append(marked)
        plot.add_tools(HoverTool(renderers=[marked], tooltips=ALERT_TOOLTIPS,
                                 formatters={"@time": "datetime"}))
    plot.add_tools(TapTool(renderers=clickable, callback=CustomJS(code=OPEN_JS)))
    plot.y_range.renderers = [r for r in plot.renderers if r is not drawn_specs]
    return column(plot, range_selector(plot, source, axis), sizing_mode="stretch_width")


# A click opens the alert (alerts carry their link) or the build of the point clicked.
OPEN_JS = """
const source = cb_data.source, i = source.selected.indices[0];
if (i === undefined) return;
const d = source.data;
window.location.assign(d.link ? d.link[i] : "/dash/builds/" +
    encodeURIComponent(d.ci[i]) + "/" + encodeURIComponent(d.build_id[i]));
"""


def _tooltips(unit: str, time_field: str) -> list[tuple[str, str]]:
    return [("build", "@ci / @build_id"), ("time", time_field + "{%F %H:%M}"),
            ("commit", "@commit"), ("PR", "@pr"), ("value", f"@value{{0.[0000]}} {unit}"),
            ("samples", "@samples"), ("verdict", "@verdict"),
            ("vs baseline", "@change{+0.[000]} (z = @score{+0.0})")]


def range_selector(plot: Any, source: ColumnDataSource, axis: str = "time") -> Any:
    """A range slider over the whole series that drives the plot's x range (and follows
    it when the plot is zoomed or panned)."""
    xs = source.data["x"]
    low, high = (float(np.nanmin(xs)), float(np.nanmax(xs))) if len(xs) else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    options = {"start": low, "end": high, "value": (low, high), "name": "range-selector",
               "sizing_mode": "stretch_width", "title": "range shown"}
    slider = (DateRangeSlider(format="%F", **options) if axis == "time"
              else RangeSlider(step=1, **options))
    slider.js_on_change("value", CustomJS(args={"r": plot.x_range}, code=RANGE_TO_PLOT_JS))
    return slider


RANGE_TO_PLOT_JS = "r.start = cb_obj.value[0]; r.end = cb_obj.value[1];"


def _overlay(plot: Any, overlay: Columns, base: Columns, axis: str) -> Any:
    shown = {key: list(values) for key, values in overlay.items()}
    shown["x"] = [_x_of(t, base, axis) for t in overlay["time"]]
    return plot.scatter("x", "value", source=ColumnDataSource(shown), marker="diamond",
                        size=12, fill_color="#fdb863", line_color="#40004b",
                        legend_label="PR builds", name="pr-points")


def _alerts(plot: Any, alerts: Sequence[Marker], base: Columns, axis: str) -> Any:
    data: dict[str, list[Any]] = {
        "x": [_x_of(a.time, base, axis) for a in alerts], "time": [a.time for a in alerts],
        "value": [a.value if a.value is not None else math.nan for a in alerts],
        "kind": [a.kind for a in alerts], "reason": [a.reason for a in alerts],
        "link": [a.link for a in alerts],
        "color": [ALERT_COLORS.get(a.kind, "#000") for a in alerts],
    }
    return plot.scatter("x", "value", source=ColumnDataSource(data), marker="inverted_triangle",
                        size=16, fill_color="color", line_color="#000", fill_alpha=0.85,
                        legend_label="alerts", name="alerts")


def _x_of(moment: float, base: Columns, axis: str) -> float:
    """Where a time falls on the x axis: itself, or its fractional build index."""
    if axis == "time" or not len(base["time"]):
        return float(moment)
    return float(np.interp(moment, np.asarray(base["time"], dtype=float),
                           np.arange(len(base["time"]), dtype=float)))


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def _column(values: Sequence[Any], indices: np.ndarray) -> Any:
    """The kept entries of a column: numbers as a float array (compact on the wire, None as
    NaN), anything else as a list."""
    picked = [values[i] for i in indices]
    if all(v is None or isinstance(v, int | float) for v in picked):
        return _floats(picked)
    return picked


def alert_figure(points: Columns, specs: Sequence[SpecLine], alert: Marker, *, unit: str = "",
                 baseline: float | None = None, threshold: float | None = None,
                 started: float | None = None, title: str = "") -> LayoutDOM:
    """The history around an alert: its point marked, the baseline it was judged against,
    the threshold it crossed, and the stretch since the excursion began shaded."""
    layout = history_figure(points, specs, unit=unit, title=title, alerts=[alert])
    plot = layout.children[0]
    if baseline is not None:
        plot.add_layout(Span(location=baseline, dimension="width", line_color="#2166ac",
                             line_width=2, name="baseline"))
        plot.add_layout(Label(x=4, y=baseline, x_units="screen", y_offset=-16,
                              text=f"baseline {baseline:.4g}", text_color="#2166ac",
                              text_font_size="11px"))
    if threshold is not None:
        plot.add_layout(Span(location=threshold, dimension="width", line_color="#b2182b",
                             line_width=2, line_dash="dotted", name="threshold"))
    plot.add_layout(BoxAnnotation(left=started if started is not None else alert.time - 4e7,
                                  right=alert.time + 4e7, fill_color="#fddbc7",
                                  fill_alpha=0.5, level="underlay", name="excursion"))
    return layout
