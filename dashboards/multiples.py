"""Small multiples: one small history per series an alert summary touches, a window of
builds around the onset of the cause, the onset marked and the time axes linked. Pure: plain
data in, a Bokeh layout out (no Flask, no store)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bokeh.layouts import gridplot
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    DataRange1d,
    HoverTool,
    LayoutDOM,
    Span,
    TapTool,
)
from bokeh.plotting import figure
from bokeh.transform import factor_cmap

from dashboards.figures import (
    ALERT_COLORS,
    OPEN_JS,
    VERDICT_COLORS,
    VERDICTS,
    Columns,
    SpecLine,
    draw_specs,
)

ONSET_COLOR = "#b2182b"


@dataclass(frozen=True)
class Panel:
    """One series: its points around the onset (History.columns) and how to judge them."""

    title: str
    points: Columns
    specs: Sequence[SpecLine] = ()
    unit: str = ""
    noticed: float | None = None  # when its alert was noticed (ms), marked if in the window
    noticed_value: float | None = None


def small_multiples(panels: Sequence[Panel], onset: float, columns: int = 3) -> LayoutDOM:
    """A grid of small histories (each a figure named `series-plot`), the onset a dashed
    vertical line in each, one shared time range; a click on a point opens its build."""
    plots = []
    window = DataRange1d(name="window")  # one time axis: panning one pans them all
    for panel in panels:
        values = DataRange1d(range_padding=0.25)  # the points', not the spec lines'
        plot = figure(title=panel.title, height=210, sizing_mode="stretch_width",
                      x_axis_type="datetime", x_range=window, y_range=values,
                      tools="xpan,xwheel_zoom,reset", name="series-plot")
        plot.title.text_font_size = "11px"
        plot.yaxis.axis_label = panel.unit or None
        plot.xaxis.major_label_orientation = 0.5
        draw_specs(plot, panel.specs)
        data = {key: list(values) for key, values in panel.points.items()}
        source = ColumnDataSource(data)
        plot.line("time", "value", source=source, line_color="#9e9e9e", line_width=1)
        points = plot.scatter(
            "time", "value", source=source, size=6, name="points",
            color=factor_cmap("verdict", [VERDICT_COLORS[v] for v in VERDICTS], VERDICTS))
        values.renderers = [points]
        plot.add_layout(Span(location=onset, dimension="height", line_color=ONSET_COLOR,
                             line_dash="dashed", line_width=2, name="onset"))
        if _in_window(panel):
            plot.scatter([panel.noticed], [panel.noticed_value], marker="inverted_triangle",
                         size=12, fill_color=ALERT_COLORS["regression"], line_color="#000",
                         name="noticed")
        plot.add_tools(
            HoverTool(renderers=[points], formatters={"@time": "datetime"},
                      tooltips=[("build", "@ci / @build_id"), ("time", "@time{%F}"),
                                ("value", f"@value{{0.[0000]}} {panel.unit}"),
                                ("verdict", "@verdict")]),
            TapTool(renderers=[points], callback=CustomJS(code=OPEN_JS)))
        plots.append(plot)
    return gridplot(plots, ncols=columns, sizing_mode="stretch_width", toolbar_location=None)


def _in_window(panel: Panel) -> bool:
    """Whether the panel's alert was noticed at a time its points span (else the marker
    would stretch the time axis)."""
    times = panel.points.get("time", ())
    return (panel.noticed is not None and panel.noticed_value is not None
            and math.isfinite(panel.noticed_value) and len(times) > 0
            and times[0] <= panel.noticed <= times[-1])
