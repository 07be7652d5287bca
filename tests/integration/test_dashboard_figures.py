"""The pure figure builders: plain data in, Bokeh models out, no server."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bokeh.core.validation import check_integrity
from bokeh.document import Document
from bokeh.embed import json_item
from bokeh.models import (
    ColumnDataSource,
    GlyphRenderer,
    Plot,
    Span,
    TapTool,
)

from dashboards.downsample import min_max_indices
from dashboards.drilldown import REGISTRY, BlobView, applicable, choose
from dashboards.figures import Marker, SpecLine, alert_figure, history_figure, spec_bands
from dashboards.summary import (
    Cell,
    RequirementBar,
    requirements_figure,
    sparkline,
    verdict_matrix,
)
from harness.detection.verdicts import margin_to

DAY_MS = 86_400_000
SPECS = [SpecLine("minimum", "<=", 20.0), SpecLine("design", "<=", 10.0),
         SpecLine("stretch", "<=", 5.0)]


def points(count: int, start: float = 1.7e12) -> dict[str, list]:
    rng = np.random.default_rng(1)
    values = (8 + rng.normal(0, 0.5, count)).tolist()
    return {
        "time": [start + i * DAY_MS for i in range(count)], "value": values,
        "verdict": ["design"] * count, "ci": ["jenkins"] * count,
        "build_id": [f"b{i}" for i in range(count)], "commit": ["abc"] * count,
        "pr": [""] * count, "change": [None] * count, "score": [0.5] * count,
    }


def models(layout, kind):
    return list(layout.select({"type": kind}))


def named(layout, name):
    return list(layout.select({"name": name}))


def test_spec_bands_cover_the_line_from_best_to_failing_for_lower_is_better():
    bands = spec_bands(SPECS)
    assert bands == [(-math.inf, 5.0, "stretch"), (5.0, 10.0, "design"),
                     (10.0, 20.0, "minimum"), (20.0, math.inf, "fail")]


def test_spec_bands_for_higher_is_better_run_downwards():
    bands = spec_bands([SpecLine("design", ">=", 90.0), SpecLine("minimum", ">=", 80.0)])
    assert bands == [(90.0, math.inf, "design"), (80.0, 90.0, "minimum"),
                     (-math.inf, 80.0, "fail")]


def test_history_draws_every_spec_as_a_line_and_a_band():
    layout = history_figure(points(50), SPECS, unit="mmag", title="PA1")
    drawn = named(layout, "specs")[0]  # one glyph: a row per band and per threshold
    rows = [dict(zip(drawn.data_source.data, row, strict=True))
            for row in zip(*drawn.data_source.data.values(), strict=True)]
    lines = {row["level"]: row["y0"] for row in rows if row["line_alpha"]}
    assert lines == {"minimum": 20.0, "design": 10.0, "stretch": 5.0}
    assert all(row["y0"] == row["y1"] for row in rows if row["line_alpha"])
    bands = [(row["level"], row["y0"], row["y1"]) for row in rows if row["fill_alpha"]]
    assert [band[0] for band in bands] == ["stretch", "design", "minimum", "fail"]
    assert [band[1:] for band in bands][1:3] == [(5.0, 10.0), (10.0, 20.0)]
    assert bands[0][1] < -1e4 and bands[-1][2] > 1e4  # infinite ends: far past every point
    labels = named(layout, "spec-labels")[0]
    assert labels.source is drawn.data_source
    assert {row["text"] for row in rows if row["line_alpha"]} == {
        "minimum ≤ 20", "design ≤ 10", "stretch ≤ 5"}
    # the value range follows the points, not the bands' far ends
    assert drawn not in named(layout, "history")[0].y_range.renderers


def test_history_points_open_their_build_and_a_range_slider_drives_the_plot():
    layout = history_figure(points(50), SPECS)
    plot = named(layout, "history")[0]
    renderer = named(layout, "points")[0]
    taps = [tool for tool in plot.tools if isinstance(tool, TapTool)]
    assert len(taps) == 1 and renderer in taps[0].renderers
    assert "/dash/builds/" in taps[0].callback.code
    assert renderer.data_source.data["build_id"][3] == "b3"
    slider = named(layout, "range-selector")[0]
    assert slider.value == (1.7e12, 1.7e12 + 49 * DAY_MS)
    assert slider.js_property_callbacks["change:value"][0].args["r"] is plot.x_range


def test_short_history_is_not_downsampled_and_says_nothing_about_it():
    layout = history_figure(points(300), title="AM1", buckets=600)
    plot = named(layout, "history")[0]
    assert len(named(layout, "points")[0].data_source.data["value"]) == 300
    assert plot.title.text == "AM1"


def test_long_history_is_downsampled_and_the_title_says_so():
    series = points(10_000)
    series["value"][4321] = 99.0  # a spike must survive
    layout = history_figure(series, buckets=500)
    shown = named(layout, "points")[0].data_source.data
    assert len(shown["value"]) <= 2 * 500 + 2
    assert 99.0 in list(shown["value"])
    assert "10,000 builds shown as" in named(layout, "history")[0].title.text


def test_rows_downsampled_by_the_store_are_counted_in_the_title():
    layout = history_figure(points(800), total=10_000, buckets=400)
    assert len(named(layout, "points")[0].data_source.data["value"]) == 800
    assert "10,000 builds shown as 800 points" in named(layout, "history")[0].title.text


def test_downsampling_keeps_ends_extremes_and_flagged_points():
    rng = np.random.default_rng(3)
    x = np.arange(5000.0)
    y = rng.normal(size=5000)
    y[1234], y[4000] = 50.0, -50.0
    kept = min_max_indices(x, y, 100, keep=[2500])
    assert len(kept) <= 2 * 100 + 3
    assert {0, 4999, 1234, 4000, 2500} <= set(kept.tolist())
    assert np.all(np.diff(kept) > 0)
    for bucket in range(100):  # the extremes of each bucket are kept
        inside = np.flatnonzero((x >= bucket * 49.99) & (x < (bucket + 1) * 49.99))
        if len(inside):
            assert inside[np.argmax(y[inside])] in kept or bucket == 99


def test_downsampling_never_picks_a_missing_value_over_a_real_one():
    y = np.array([1.0, np.nan, 3.0, np.nan] * 500)
    kept = min_max_indices(np.arange(2000.0), y, 10)
    assert not np.isnan(y[kept[1:-1]]).any()


def test_overlay_and_alerts_are_clickable_and_change_points_are_lines():
    overlay = points(3, start=1.7e12 + 0.5 * DAY_MS)
    alert = Marker(1.7e12 + 10 * DAY_MS, 12.0, "regression", "AM1 rose", "/dash/alerts/x")
    layout = history_figure(points(20), SPECS, overlay=overlay, alerts=[alert],
                            change_points=[1.7e12 + 5 * DAY_MS])
    tap = models(layout, TapTool)[0]
    assert {r.name for r in tap.renderers} == {"points", "pr-points", "alerts"}
    assert named(layout, "alerts")[0].data_source.data["link"] == ["/dash/alerts/x"]
    assert [s.location for s in named(layout, "change-point")] == [1.7e12 + 5 * DAY_MS]


def test_build_axis_places_overlay_between_builds():
    overlay = points(1, start=1.7e12 + 2.5 * DAY_MS)
    layout = history_figure(points(10), overlay=overlay, axis="build")
    assert named(layout, "points")[0].data_source.data["x"].tolist() == list(range(10))
    assert named(layout, "pr-points")[0].data_source.data["x"] == [2.5]


def test_alert_figure_marks_baseline_threshold_and_excursion():
    alert = Marker(1.7e12 + 10 * DAY_MS, 12.0, "regression", "rose", "/dash/alerts/x")
    layout = alert_figure(points(20), SPECS, alert, baseline=8.0, threshold=9.5,
                          started=1.7e12 + 8 * DAY_MS)
    assert named(layout, "baseline")[0].location == 8.0
    assert named(layout, "threshold")[0].location == 9.5
    assert named(layout, "excursion")[0].left == 1.7e12 + 8 * DAY_MS


def test_figures_serialise():
    layout = history_figure(points(100), SPECS)
    assert json_item(layout)["doc"]["roots"]


def test_figures_pass_bokeh_integrity_checks():
    # the pages serialise without Bokeh's validation (dashboards/page.py): it happens here
    overlay = points(3, start=1.7e12 + 0.5 * DAY_MS)
    alert = Marker(1.7e12 + 10 * DAY_MS, 12.0, "regression", "AM1 rose", "/dash/alerts/x")
    layouts = [
        history_figure(points(100), SPECS, overlay=overlay, alerts=[alert],
                       change_points=[1.7e12 + 5 * DAY_MS]),
        history_figure(points(2_000), total=10_000, buckets=400),
        alert_figure(points(20), SPECS, alert, baseline=8.0, threshold=9.5,
                     started=1.7e12 + 8 * DAY_MS),
    ]
    for layout in layouts:
        document = Document()
        document.add_root(layout)
        issues = check_integrity(list(document.models))
        assert (issues.error, issues.warning) == ([], []), layout


def test_verdict_matrix_has_a_cell_per_series_linking_to_it():
    cells = [Cell("validate_drp.PA1", "hsc_rc2 · r", "design", 4.9, "mmag", "/dash/m?r"),
             Cell("validate_drp.PA1", "hsc_rc2 · g", "stretch", 3.0, "mmag", "/dash/m?g")]
    plot = verdict_matrix(cells)
    assert isinstance(plot, Plot)
    data = named(plot, "cells")[0].data_source.data
    assert data["link"] == ["/dash/m?r", "/dash/m?g"]
    assert list(plot.x_range.factors) == ["hsc_rc2 · g", "hsc_rc2 · r"]


def test_requirement_bars_stack_cells_by_verdict_and_open_their_section():
    bars = [RequirementBar("LPM-17-PA1", "conditional (minimum)",
                           {"stretch": 1, "design": 9, "minimum": 2}, "#req-LPM-17-PA1"),
            RequirementBar("DMS-REQ-0131", "failed", {"fail": 1}, "#req-DMS-REQ-0131")]
    plot = requirements_figure(bars)
    assert isinstance(plot, Plot)
    design = named(plot, "bars-design")[0]
    data = design.data_source.data
    assert data["design"] == [9, 0] and data["fail"] == [0, 1]
    assert data["link"] == ["#req-LPM-17-PA1", "#req-DMS-REQ-0131"]
    assert list(plot.y_range.factors)[-1] == "LPM-17-PA1 · conditional (minimum)"  # on top
    taps = [tool for tool in plot.tools if isinstance(tool, TapTool)]
    assert taps and taps[0].callback.url == "@link"
    assert json_item(plot)["doc"]["roots"]


def test_margin_is_positive_inside_the_spec():
    assert margin_to(4.0, "<=", 5.0) == pytest.approx(0.2)
    assert margin_to(6.0, "<=", 5.0) == pytest.approx(-0.2)
    assert margin_to(95.0, ">=", 90.0) == pytest.approx(5 / 90)


def test_sparkline_is_svg_with_the_last_verdict_colour():
    svg = sparkline([1.0, None, 3.0, 2.0], ["design", "none", "design", "fail"])
    assert svg.startswith("<svg") and svg.count(",") == 3  # three finite points
    assert 'fill="#d73027"' in svg
    assert sparkline([None], ["none"]) == ""


def blob(**arrays) -> dict:
    return {"name": "extras", "data": {key: {"value": list(values), "unit": unit}
                                       for key, (values, unit) in arrays.items()}}


def test_snr_blob_of_an_astrometry_metric_gets_the_scatter_with_a_slider():
    rng = np.random.default_rng(2)
    snr = rng.uniform(5, 500, 200)
    view = BlobView.of(blob(snr=(snr, ""), residual=(10 / np.sqrt(snr), "marcsec"),
                            mag=(rng.uniform(17, 24, 200), "mag")),
                       metric="validate_drp.AM1", metric_unit="marcsec",
                       metric_tags=("astrometry", "kpm"), specs=tuple(SPECS))
    template = choose(view)
    assert template.name == "snr-scatter"
    layout = template.draw(view)
    scatters = list(layout.select({"name": "stars", "type": GlyphRenderer}))
    assert len(scatters) == 2  # against SNR and against magnitude
    assert scatters[0].data_source is scatters[1].data_source  # linked selection
    slider = named(layout, "snr-slider")[0]
    assert slider.value == 50 and slider.js_property_callbacks["change:value"]
    kept = view.arrays["residual"][snr >= 50]
    assert f"{np.median(kept):.3f}" in named(layout, "summary")[0].text


def test_single_array_gets_a_histogram_with_the_metric_thresholds():
    view = BlobView.of(blob(rms=(np.linspace(3, 9, 100), "mmag")), metric_unit="mmag",
                       metric_tags=("photometry",), specs=tuple(SPECS))
    assert choose(view).name == "histogram"
    layout = choose(view).draw(view)
    assert {s.name for s in models(layout, Span)} == {"spec-minimum", "spec-design",
                                                      "spec-stretch", "median"}
    assert sum(named(layout, "bars")[0].data_source.data["top"]) == 100


def test_table_draws_anything_and_can_be_asked_for():
    view = BlobView.of({"name": "notes", "data": {"comment": {"value": "flat field v2"}}})
    assert [t.name for t in applicable(view)] == ["table"]
    layout = choose(view).draw(view)
    assert "flat field v2" in named(layout, "scalars")[0].text
    arrays = BlobView.of(blob(x=([1, 2, 3], "s")))
    assert choose(arrays, "table").name == "table"
    assert choose(arrays, "no-such-template").name == "histogram"


def test_every_template_is_registered_once():
    names = [template.name for template in REGISTRY]
    assert len(names) == len(set(names)) and {"snr-scatter", "histogram", "table"} <= set(names)


def test_source_columns_are_arrays_of_equal_length():
    layout = history_figure(points(40))
    source = named(layout, "history-points")[0]
    assert isinstance(source, ColumnDataSource)
    assert len({len(values) for values in source.data.values()}) == 1
    assert isinstance(source.data["value"], np.ndarray)  # numbers travel as binary arrays
    assert np.isnan(source.data["change"]).all()
