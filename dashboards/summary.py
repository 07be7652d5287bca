"""Pure builders of the small pictures: the overview's verdict matrix, a build's margins
to its specs, and inline SVG sparklines (hundreds per page cost nothing)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from bokeh.models import ColumnDataSource, HoverTool, OpenURL, TapTool
from bokeh.plotting import figure
from bokeh.transform import factor_cmap

from dashboards.figures import VERDICT_COLORS, VERDICTS


@dataclass(frozen=True)
class Cell:
    """One series' latest verdict: the row (metric), the column (its dimensions)."""

    metric: str
    column: str
    verdict: str
    value: float | None
    unit: str
    link: str
    regressed: bool = False  # an open or acknowledged regression alert stands on it


REGRESSED_OUTLINE = "#b2182b"


def verdict_matrix(cells: Sequence[Cell], title: str = "") -> object:
    """Metrics down, dimension combinations across, each cell coloured by its verdict and
    opening the metric's history when clicked; a cell whose series has a standing
    regression is outlined and marked ▲, whatever its latest verdict."""
    rows = sorted({cell.metric for cell in cells}, reverse=True)
    columns = sorted({cell.column for cell in cells})
    data = {
        "metric": [c.metric for c in cells], "column": [c.column for c in cells],
        "verdict": [c.verdict for c in cells], "link": [c.link for c in cells],
        "text": [("▲ " if c.regressed else "") + _short(c.value) for c in cells],
        "value": [f"{_short(c.value)} {c.unit}".strip() for c in cells],
        "regression": ["standing" if c.regressed else "none" for c in cells],
        "outline": [REGRESSED_OUTLINE if c.regressed else "white" for c in cells],
        "outline_width": [3 if c.regressed else 1 for c in cells],
    }
    source = ColumnDataSource(data, name="matrix-cells")
    plot = figure(title=title, x_range=columns, y_range=rows, name="verdict-matrix",
                  height=max(240, 26 * len(rows) + 110), sizing_mode="stretch_width",
                  tools="", toolbar_location=None, x_axis_location="above")
    cells_renderer = plot.rect(
        "column", "metric", 0.96, 0.9, source=source, name="cells", line_color="outline",
        line_width="outline_width",
        fill_color=factor_cmap("verdict", [VERDICT_COLORS[v] for v in VERDICTS], VERDICTS))
    plot.text("column", "metric", text="text", source=source, text_align="center",
              text_baseline="middle", text_font_size="10px", text_color="white")
    plot.add_tools(
        HoverTool(renderers=[cells_renderer],
                  tooltips=[("metric", "@metric"), ("series", "@column"),
                            ("latest", "@value"), ("verdict", "@verdict"),
                            ("regression", "@regression")]),
        TapTool(renderers=[cells_renderer], callback=OpenURL(url="@link", same_tab=True)))
    plot.xaxis.major_label_orientation = 0.9
    plot.grid.grid_line_color = None
    plot.axis.axis_line_color = None
    plot.axis.major_tick_line_color = None
    return plot


@dataclass(frozen=True)
class Margin:
    """How far one result of a build is from the spec it is judged at (+ is inside)."""

    label: str
    margin: float  # fraction of the threshold; positive meets the spec
    verdict: str
    spec: str
    link: str


def margins_figure(margins: Sequence[Margin], title: str = "") -> object:
    """A bar per result: its margin to the design spec in percent, coloured by verdict."""
    labels = [m.label for m in margins][::-1]
    data = {
        "label": [m.label for m in margins],
        "percent": [max(-100.0, min(100.0, 100 * m.margin)) for m in margins],
        "exact": [f"{100 * m.margin:+.1f} %" for m in margins],
        "verdict": [m.verdict for m in margins], "spec": [m.spec for m in margins],
        "link": [m.link for m in margins],
    }
    plot = figure(title=title, y_range=labels, x_range=(-100, 100), name="margins",
                  height=max(200, 18 * len(margins) + 80), sizing_mode="stretch_width",
                  tools="", toolbar_location=None)
    bars = plot.hbar(
        y="label", right="percent", height=0.8, source=ColumnDataSource(data), name="bars",
        fill_color=factor_cmap("verdict", [VERDICT_COLORS[v] for v in VERDICTS], VERDICTS),
        line_color=None)
    plot.add_tools(
        HoverTool(renderers=[bars], tooltips=[("result", "@label"), ("margin", "@exact"),
                                              ("judged at", "@spec"), ("verdict", "@verdict")]),
        TapTool(renderers=[bars], callback=OpenURL(url="@link", same_tab=True)))
    plot.xaxis.axis_label = "margin to the spec (% of its threshold; right of 0 meets it)"
    plot.ygrid.grid_line_color = None
    return plot


def sparkline(values: Sequence[float | None], verdicts: Sequence[str], width: int = 120,
              height: int = 26) -> str:
    """An inline SVG of recent values, the last point coloured by its verdict."""
    finite = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    low = min(v for _, v in finite)
    high = max(v for _, v in finite)
    span = (high - low) or 1.0
    step = (width - 6) / max(1, len(values) - 1)

    def at(i: int, v: float) -> tuple[float, float]:
        return 3 + i * step, height - 3 - (v - low) / span * (height - 6)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(i, v) for i, v in finite))
    last_i, last_v = finite[-1]
    x, y = at(last_i, last_v)
    color = VERDICT_COLORS.get(verdicts[last_i] if last_i < len(verdicts) else "none", "#444")
    return (f'<svg class="spark" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(f"recent values from {low:.4g} to {high:.4g}")}">'
            f'<polyline fill="none" stroke="#78909c" stroke-width="1.2" points="{path}"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/></svg>')


def _short(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


@dataclass(frozen=True)
class RequirementBar:
    """One requirement of a report: how many of its cells meet each level, and where its
    section of the page is."""

    requirement: str
    status: str
    counts: Mapping[str, int]  # verdict → cells
    link: str


def requirements_figure(bars: Sequence[RequirementBar], title: str = "") -> object:
    """A stacked bar per requirement: its cells by verdict; a click opens its section."""
    labels = [f"{bar.requirement} · {bar.status}" for bar in bars]
    data: dict[str, list[Any]] = {"label": labels, "link": [bar.link for bar in bars],
                                  "requirement": [bar.requirement for bar in bars],
                                  "status": [bar.status for bar in bars]}
    for verdict in VERDICTS:
        data[verdict] = [bar.counts.get(verdict, 0) for bar in bars]
    source = ColumnDataSource(data, name="requirement-bars")
    plot = figure(title=title, y_range=labels[::-1], name="requirements",
                  height=max(220, 22 * len(bars) + 90), sizing_mode="stretch_width",
                  tools="", toolbar_location=None, x_axis_label="cells")
    stacks = plot.hbar_stack(list(VERDICTS), y="label", height=0.75, source=source,
                             color=[VERDICT_COLORS[v] for v in VERDICTS], line_color="white",
                             legend_label=list(VERDICTS))
    for verdict, renderer in zip(VERDICTS, stacks, strict=True):
        renderer.name = f"bars-{verdict}"
    plot.add_tools(
        HoverTool(renderers=list(stacks), tooltips=[
            ("requirement", "@requirement"), ("status", "@status"),
            *((f"{v} cells", f"@{v}") for v in VERDICTS)]),
        TapTool(renderers=list(stacks), callback=OpenURL(url="@link", same_tab=True)))
    plot.legend.orientation = "horizontal"
    plot.add_layout(plot.legend[0], "above")
    plot.ygrid.grid_line_color = None
    plot.x_range.start = 0
    return plot
