"""Drill-down templates over a measurement's detail blob, declared in one registry: a new
verification use-case is one decorated function from a BlobView to a Bokeh layout."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (
    BoxSelectTool,
    ColumnDataSource,
    CustomJS,
    DataTable,
    Div,
    HoverTool,
    LassoSelectTool,
    LayoutDOM,
    Slider,
    Span,
    TableColumn,
)
from bokeh.plotting import figure

from dashboards.figures import SpecLine, draw_specs


@dataclass(frozen=True)
class BlobView:
    """What a template sees: the blob's arrays and scalars, and the metric it details."""

    name: str
    arrays: Mapping[str, np.ndarray]
    scalars: Mapping[str, Any]
    units: Mapping[str, str]
    labels: Mapping[str, str]
    metric: str = ""
    metric_unit: str = ""
    metric_tags: tuple[str, ...] = ()
    specs: tuple[SpecLine, ...] = ()
    value: float | None = None  # the measurement the blob details

    @classmethod
    def of(cls, document: Mapping[str, Any], **metric: Any) -> BlobView:
        """Split a blob document's entries into numeric arrays and everything else."""
        arrays, scalars, units, labels = {}, {}, {}, {}
        for key, entry in document.get("data", {}).items():
            entry = entry if isinstance(entry, Mapping) else {"value": entry}
            values = entry.get("value")
            units[key] = str(entry.get("unit") or "")
            labels[key] = str(entry.get("label") or key)
            if isinstance(values, list) and values and all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                arrays[key] = np.asarray(values, dtype=float)
            else:
                scalars[key] = values
        return cls(str(document.get("name", "")), arrays, scalars, units, labels, **metric)

    def axis(self, key: str) -> str:
        """An axis title: label and unit."""
        unit = self.units.get(key, "")
        return f"{self.labels.get(key, key)} ({unit})" if unit else self.labels.get(key, key)


@dataclass(frozen=True)
class Drilldown:
    """A template: when it applies and how it draws."""

    name: str
    title: str
    draw: Callable[[BlobView], LayoutDOM]
    accepts: Callable[[BlobView], bool]
    blob_names: tuple[str, ...] = ()
    metric_tags: tuple[str, ...] = ()


REGISTRY: list[Drilldown] = []


def drilldown(name: str, title: str, *, accepts: Callable[[BlobView], bool],
              blob_names: Sequence[str] = (), metric_tags: Sequence[str] = (),
              ) -> Callable[[Callable[[BlobView], LayoutDOM]], Callable[[BlobView], LayoutDOM]]:
    """Register a template; registration order is the order of preference among equals."""
    def register(draw: Callable[[BlobView], LayoutDOM]) -> Callable[[BlobView], LayoutDOM]:
        REGISTRY.append(Drilldown(name, title, draw, accepts, tuple(blob_names),
                                  tuple(metric_tags)))
        return draw
    return register


def applicable(view: BlobView) -> list[Drilldown]:
    """The templates that can draw this blob, best first: named for the blob, then for the
    metric's tags, then any that accepts it."""
    fits = [template for template in REGISTRY if template.accepts(view)]

    def rank(template: Drilldown) -> int:
        if view.name in template.blob_names:
            return 0
        return 1 if set(template.metric_tags) & set(view.metric_tags) else 2
    return sorted(fits, key=rank)


def choose(view: BlobView, requested: str | None = None) -> Drilldown:
    """The requested template when it applies, else the best one (the table always does)."""
    fits = applicable(view)
    return next((t for t in fits if t.name == requested), fits[0])


# --- the templates ------------------------------------------------------------------------

def _has_snr(view: BlobView) -> bool:
    return "snr" in view.arrays and any(
        len(values) == len(view.arrays["snr"]) for key, values in view.arrays.items()
        if key != "snr")


def _measured(view: BlobView) -> str:
    """The array the metric summarises: the one in the metric's unit, else the first."""
    keys = [key for key in view.arrays if key != "snr"]
    return next((key for key in keys if view.units.get(key) == view.metric_unit), keys[0])


@drilldown("snr-scatter", "Residual against signal-to-noise, with an SNR cut",
           accepts=_has_snr, metric_tags=("astrometry",))
def snr_scatter(view: BlobView) -> LayoutDOM:
    """Each star's value against its SNR (and magnitude when known), selections linked
    across plots, a slider for the SNR cut that recomputes the median the metric reports."""
    measured = _measured(view)
    snr = view.arrays["snr"]
    data = {"snr": snr, "y": view.arrays[measured], "alpha": np.full(len(snr), 0.8)}
    others = [key for key in view.arrays if key not in ("snr", measured)
              and len(view.arrays[key]) == len(snr)]
    for key in others:
        data[key] = view.arrays[key]
    source = ColumnDataSource(data, name="stars")
    cut = float(min(max(50.0, snr.min()), snr.max()))
    plots = []
    x_keys = ["snr", *others[:1]]
    for x_key in x_keys:
        plot = figure(height=380, sizing_mode="stretch_width", name=f"scatter-{x_key}",
                      x_axis_type="log" if x_key == "snr" else "linear",
                      tools="pan,wheel_zoom,reset,save", title=f"{view.labels[measured]} "
                      f"against {view.labels.get(x_key, x_key)}")
        plot.add_tools(BoxSelectTool(), LassoSelectTool())
        stars = plot.scatter(x_key, "y", source=source, size=5, fill_alpha="alpha",
                             line_alpha=0, nonselection_fill_alpha=0.1, name="stars")
        plot.add_tools(HoverTool(renderers=[stars], tooltips=[
            ("SNR", "@snr{0.0}"), (view.labels[measured], "@y{0.00}"),
            *[(view.labels[key], f"@{{{key}}}{{0.00}}") for key in others]]))
        plot.xaxis.axis_label = view.axis(x_key)
        plot.yaxis.axis_label = view.axis(measured)
        draw_specs(plot, view.specs)
        plots.append(plot)
    cut_line = Span(location=cut, dimension="height", line_color="#333", line_dash="dashed",
                    name="snr-cut")
    plots[0].add_layout(cut_line)
    slider = Slider(start=float(math.floor(snr.min())), end=float(math.ceil(snr.max())),
                    value=cut, step=1, title="SNR cut (stars at or above count)",
                    name="snr-slider", sizing_mode="stretch_width")
    summary = Div(text=_median_text(view, snr, view.arrays[measured], cut), name="summary")
    selection = Div(text="Select stars (box or lasso) to see their statistics.",
                    name="selection")
    slider.js_on_change("value", CustomJS(
        args={"source": source, "line": cut_line, "summary": summary, "unit": view.units[
            measured], "label": view.labels[measured]},
        code=SNR_CUT_JS))
    source.selected.js_on_change("indices", CustomJS(
        args={"source": source, "out": selection, "unit": view.units[measured]},
        code=SELECTION_JS))
    return column(slider, summary, row(*plots, sizing_mode="stretch_width"), selection,
                  sizing_mode="stretch_width")


def _median_text(view: BlobView, snr: np.ndarray, values: np.ndarray, cut: float) -> str:
    kept = values[snr >= cut]
    median = float(np.median(kept)) if len(kept) else math.nan
    return (f"<b>median {view.labels.get(_measured(view), '')} of {len(kept)} stars with "
            f"SNR ≥ {cut:g}: {median:.3f} {view.metric_unit}</b>")


SNR_CUT_JS = """
const snr = source.data.snr, y = source.data.y, cut = cb_obj.value;
const kept = [], alpha = [];
for (let i = 0; i < snr.length; i++) {
  alpha.push(snr[i] >= cut ? 0.8 : 0.12);
  if (snr[i] >= cut) kept.push(y[i]);
}
kept.sort((a, b) => a - b);
const n = kept.length;
const median = n ? (n % 2 ? kept[(n - 1) / 2] : (kept[n / 2 - 1] + kept[n / 2]) / 2) : NaN;
source.data = {...source.data, alpha: alpha};
line.location = cut;
summary.text = `<b>median ${label} of ${n} stars with SNR ≥ ${cut}: ` +
  `${median.toFixed(3)} ${unit}</b>`;
"""

SELECTION_JS = """
const picked = source.selected.indices.map(i => source.data.y[i]).sort((a, b) => a - b);
const n = picked.length;
out.text = n ? `${n} stars selected: median ${picked[Math.floor(n / 2)].toFixed(3)} ${unit}`
             : "Select stars (box or lasso) to see their statistics.";
"""


@drilldown("histogram", "Distribution against the metric's thresholds",
           accepts=lambda view: bool(view.arrays), metric_tags=("photometry", "developer"))
def histogram(view: BlobView) -> LayoutDOM:
    """The distribution of the array the metric summarises, its median, and the specs."""
    key = _measured(view) if [k for k in view.arrays if k != "snr"] else next(iter(view.arrays))
    values = view.arrays[key][np.isfinite(view.arrays[key])]
    counts, edges = np.histogram(values, bins=min(60, max(10, len(values) // 8)))
    plot = figure(height=400, sizing_mode="stretch_width", name="histogram",
                  tools="pan,wheel_zoom,reset,save",
                  title=f"{view.labels[key]}: {len(values)} values")
    bars = plot.quad(left=edges[:-1], right=edges[1:], bottom=0, top=counts, name="bars",
                     fill_color="#4393c3", line_color="white")
    plot.add_tools(HoverTool(renderers=[bars], tooltips=[("range", "@left{0.000} – @right{0.000}"),
                                                         ("count", "@top")]))
    if view.units.get(key) == view.metric_unit:
        for spec in view.specs:
            plot.add_layout(Span(location=spec.threshold, dimension="height",
                                 line_dash="dashed", line_width=2, name=f"spec-{spec.level}",
                                 line_color={"stretch": "#1b7837", "design": "#5aae61",
                                             "minimum": "#e08214"}.get(spec.level, "#444")))
    median = float(np.median(values)) if len(values) else math.nan
    plot.add_layout(Span(location=median, dimension="height", line_color="#000",
                         line_width=2, name="median"))
    plot.xaxis.axis_label = view.axis(key)
    plot.yaxis.axis_label = "count"
    specs = ", ".join(spec.text for spec in view.specs) or "none"
    note = Div(text=f"Median {median:.4g} {view.units.get(key, '')} (solid line); "
                    f"specs of the metric (dashed): {specs}.", name="summary")
    return column(note, plot, sizing_mode="stretch_width")


@drilldown("table", "Every value of the blob", accepts=lambda view: True)
def table(view: BlobView) -> LayoutDOM:
    """Arrays as columns of a sortable table, scalars above it."""
    scalars = "".join(f"<tr><th>{_html(view.labels.get(k, k))}</th><td>{_html(v)} "
                      f"{_html(view.units.get(k, ''))}</td></tr>" for k, v in view.scalars.items())
    parts: list[LayoutDOM] = [Div(text=f"<table class='scalars'>{scalars}</table>",
                                  name="scalars")] if scalars else []
    if view.arrays:
        length = max(len(values) for values in view.arrays.values())
        data = {key: np.pad(values, (0, length - len(values)), constant_values=np.nan)
                for key, values in view.arrays.items()}
        parts.append(DataTable(
            source=ColumnDataSource(data), name="table", sizing_mode="stretch_width",
            height=min(600, 28 * length + 40), index_header="#",
            columns=[TableColumn(field=key, title=view.axis(key)) for key in data]))
    return column(*parts or [Div(text="This blob holds no values.")],
                  sizing_mode="stretch_width")


def _html(value: Any) -> str:
    return escape(str(value))
