"""The triage pages against the real app, worker and InfluxDB (no browser): the alerts page
lists causes, a summary page draws its series around the onset, and the overview and the
build page show standing regressions, not only the latest verdict. And the pure pieces
they are built of: small multiples, standing regressions, the triage a state allows."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bokeh.models import GridPlot, Span

from dashboards.figures import SpecLine
from dashboards.multiples import Panel, small_multiples
from dashboards.triage import allowed_actions, standing_regressions
from harness.storage.influx import InfluxStore
from tests.conftest import TRIAGE_SECRET, bearer, post_all
from tests.integration.test_summaries import FIRST, FIRST_STEP, SECOND, history
from tests.unit.test_summaries import excursion


def rows_of(html: str, marker: str) -> list[str]:
    """The values of an HTML attribute across a page, in order."""
    return re.findall(rf'{marker}="([^"]+)"', html)


def test_pages_show_causes_and_standing_regressions(client: Any, system: InfluxStore) -> None:
    post_all(client, history("p"))
    later, first = client.get("/api/v1/alert-summaries").json["summaries"]
    onset = f"p{FIRST_STEP:03d}"
    assert first["build"]["id"] == onset and len(first["alerts"]) == 8

    # the alerts page: one row per cause, and how many a person must read
    page = client.get("/dash/alerts").text
    assert rows_of(page, 'tbody class="summary" data-summary') == [later["id"], first["id"]]
    assert "2 open causes to read (10 open alerts)" in page
    assert sorted(rows_of(page, 'class="pick-alert" value')) == sorted(
        a["id"] for a in first["alerts"] + later["alerts"])
    per_alert = client.get("/dash/alerts?view=alerts").text
    assert per_alert.count('<a href="/dash/alerts/') == 10
    assert client.get("/dash/alerts?state=shut").status_code == 422

    # a summary's page: one small figure per series, the change of its onset build
    response = client.get(f"/dash/alert-summaries/{first['id']}")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/dash/summaries/{first['id']}"
    page = client.get(f"/dash/summaries/{first['id']}").text
    assert page.count('"name":"series-plot"') == 8 == len(FIRST) * 2
    assert re.search(r"jointcal</a>|jointcal</td>", page)
    assert "<code>c1</code>" in page and "<code>c2</code>" in page

    # the overview marks every regressed series, whatever its latest verdict
    page = client.get("/dash/").text
    assert sorted(rows_of(page, "data-regression")) == ["open"] * 10
    client.post(f"/api/v1/alert-summaries/{first['id']}/acknowledge",
                headers=bearer(TRIAGE_SECRET))
    page = client.get("/dash/").text
    assert sorted(rows_of(page, "data-regression")) == ["acknowledged"] * 8 + ["open"] * 2
    assert f'href="/dash/summaries/{later["id"]}"' in page

    # the build where the step began lists its cause and the 8 alerts that began there,
    # though later builds noticed them
    page = client.get(f"/dash/builds/jenkins/{onset}").text
    assert rows_of(page, 'tbody class="summary" data-summary') == [first["id"]]
    assert all(f'/dash/alerts/{alert["id"]}"' in page for alert in first["alerts"])
    assert not any(f'/dash/alerts/{alert["id"]}"' in page for alert in later["alerts"])
    assert SECOND not in page.split("<h2>Results</h2>")[0]


def test_small_multiples_are_one_figure_per_series_sharing_time_and_marking_the_onset() -> None:
    points: dict[str, list[Any]] = {"time": [1_000, 2_000, 3_000], "value": [10.0, 10.5, 14.0],
                                    "verdict": ["design", "design", "fail"],
                                    "ci": ["j"] * 3, "build_id": ["n1", "n2", "n3"]}
    panels = [Panel(f"series {index}", points, [SpecLine("design", "<=", 100.0)], unit="s",
                    noticed=3_000, noticed_value=14.0) for index in range(4)]

    layout = small_multiples(panels, onset=2_500, columns=3)

    assert isinstance(layout, GridPlot)
    plots = [child[0] for child in layout.children]
    assert [plot.name for plot in plots] == ["series-plot"] * 4
    assert len({id(plot.x_range) for plot in plots}) == 1  # one time axis for all
    onsets = [a for plot in plots for a in plot.center if isinstance(a, Span)
              and a.name == "onset"]
    assert [span.location for span in onsets] == [2_500] * 4
    # the value range follows the points, not the far spec line at 100
    assert all(plot.y_range.renderers == [plot.select_one({"name": "points"})]
               for plot in plots)


def test_a_series_shows_its_open_regression_first_and_no_resolved_one() -> None:
    older = replace(excursion("pipe_tasks.runtime", "hsc_rc2", onset=10, noticed=12),
                    state="acknowledged")
    newer = excursion("pipe_tasks.runtime", "hsc_rc2", onset=25, noticed=28)
    resolved = replace(excursion("pipe_tasks.wall_time", "hsc_rc2"), state="resolved")

    marks = standing_regressions([older, newer, resolved])

    assert list(marks) == [newer.series]
    assert marks[newer.series].alert == newer
    assert marks[newer.series].link.startswith("/dash/summaries/")
    assert list(standing_regressions([older])) == [older.series]


def test_triage_buttons_follow_the_states_of_the_alerts() -> None:
    assert allowed_actions(["open"]) == {"acknowledge": True, "resolve": True,
                                         "invalidate": True}
    assert allowed_actions(["acknowledged", "resolved"]) == {
        "acknowledge": False, "resolve": True, "invalidate": True}
    assert not any(allowed_actions(["resolved", "invalid"]).values())
