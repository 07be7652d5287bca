"""The report's domain on literal data: statuses, worst cell, fractions, margins, changes."""

from __future__ import annotations

from typing import Any

import pytest

from harness.catalog import Catalog, Metric, Requirement, Spec
from harness.report.model import BuildRef, Observation, build_report


def specs(metric: str, minimum: float, design: float, stretch: float, **query: str
          ) -> tuple[Spec, ...]:
    """Lower-is-better specs at three levels, optionally for some dimension values only."""
    where = {key: frozenset([value]) for key, value in query.items()}
    return tuple(Spec(f"{metric}.{level}", metric, level, "<=", threshold, where)
                 for level, threshold in (("minimum", minimum), ("design", design),
                                          ("stretch", stretch)))


CATALOG = Catalog(
    metrics={
        "pkg.A": Metric("pkg.A", "mmag", "lower", dimensions=("dataset", "filter"),
                        requirements=("R-A",), specs=specs("pkg.A", 8, 5, 3)),
        "pkg.B": Metric("pkg.B", "s", "lower", dimensions=("dataset",),
                        requirements=("R-B", "R-shared"), specs=specs("pkg.B", 120, 60, 30)),
        "pkg.C": Metric("pkg.C", "%", "higher", dimensions=("dataset",),
                        requirements=("R-shared",),
                        specs=tuple(Spec(f"pkg.C.{lvl}", "pkg.C", lvl, ">=", t) for lvl, t in
                                    (("minimum", 50), ("design", 80), ("stretch", 95)))),
        "pkg.D": Metric("pkg.D", "s", "lower", requirements=("R-nospec",)),
        "pkg.dev": Metric("pkg.dev", "s", "lower"),
    },
    requirements={
        "R-A": Requirement("R-A", "Repeatability", "DOC-1", "https://doc.example/1"),
        "R-B": Requirement("R-B", "Latency"),
        "R-shared": Requirement("R-shared", "Latency and completeness"),
        "R-nospec": Requirement("R-nospec", "Tracked without a spec"),
        "R-untraced": Requirement("R-untraced", "No metric verifies it yet"),
    },
)


def build(number: int, branch: str = "main") -> BuildRef:
    return BuildRef("jenkins", f"n{number}", branch, f"2026-11-{number:02d}T03:00:00Z")


def obs(metric: str, value: float | None, number: int = 2, **dimensions: str) -> Observation:
    unit = CATALOG.metrics[metric].unit
    return Observation(metric, {"dataset": "hsc", **dimensions}, value, unit, build(number))


def report(current: list[Observation], previous: list[Observation] | None = None) -> Any:
    return build_report(CATALOG, current, title="t", scope={"kind": "build"}, builds=[],
                        previous=previous)


def statuses(result: Any) -> dict[str, str]:
    return {item.requirement.id: item.status for item in result.requirements}


def test_known_verdicts_give_the_expected_statuses_and_fractions() -> None:
    result = report([obs("pkg.A", 2.5, filter="g"), obs("pkg.B", 45.0), obs("pkg.C", 97.0),
                     obs("pkg.D", 3.0)])
    assert statuses(result) == {"R-A": "stretch", "R-B": "design", "R-shared": "design",
                                "R-nospec": "no_spec", "R-untraced": "not_measured"}
    summary = result.to_json()["summary"]
    assert summary["requirements"] == 5
    assert summary["counts"] == {"stretch": 1, "design": 2, "minimum": 0, "failed": 0,
                                 "not_measured": 1, "no_spec": 1}
    assert summary["verified_at_least"] == {
        "stretch": {"count": 1, "fraction": 0.2}, "design": {"count": 3, "fraction": 0.6},
        "minimum": {"count": 3, "fraction": 0.6}}
    assert summary["fractions"]["not_measured"] == 0.2


def test_a_requirement_measured_in_several_filters_takes_the_worst_cell() -> None:
    cells = [obs("pkg.A", 2.9, filter="g"), obs("pkg.A", 6.5, filter="i"),
             obs("pkg.A", 4.0, filter="r"), obs("pkg.A", 7.9, filter="z")]
    item = report(cells).requirements[0]
    assert item.status == "minimum"
    assert item.worst is not None
    assert item.worst.dimensions["filter"] == "z"  # of the two at minimum, the closer to failing
    assert [c.verdict for c in item.cells] == ["stretch", "minimum", "design", "minimum"]
    assert item.to_json()["worst_cell"] == 3


def test_two_metrics_of_one_requirement_combine_by_their_worst() -> None:
    result = report([obs("pkg.B", 25.0), obs("pkg.C", 60.0)])
    assert statuses(result)["R-B"] == "stretch"
    assert statuses(result)["R-shared"] == "minimum"  # pkg.C 60 % meets only its minimum


def test_not_measured_is_not_failed() -> None:
    failing = report([obs("pkg.A", 9.0, filter="r")])
    silent = report([])
    assert statuses(failing)["R-A"] == "failed"
    assert statuses(silent)["R-A"] == "not_measured"
    assert failing.summary.counts["failed"] == 1 and failing.summary.counts["not_measured"] == 4
    assert silent.summary.counts["failed"] == 0 and silent.summary.counts["not_measured"] == 5
    assert statuses(report([obs("pkg.A", None, filter="r")]))["R-A"] == "not_measured"


def test_each_cell_knows_its_headroom_and_the_way_to_the_next_level() -> None:
    design, failed, best = report([obs("pkg.A", 4.0, filter="r"), obs("pkg.A", 10.0, filter="i"),
                                   obs("pkg.A", 2.0, filter="g")]).requirements[0].cells[::-1]
    assert (design.met.level, design.met.distance) == ("design", 1.0)
    assert (design.next.level, design.next.distance) == ("stretch", -1.0)
    assert design.met.fraction == pytest.approx(0.2)
    assert failed.met is None and (failed.next.level, failed.next.distance) == ("minimum", -2.0)
    assert best.next is None and best.met.level == "stretch"
    higher = report([obs("pkg.C", 85.0)]).requirements[2].cells[0]
    assert (higher.met.distance, higher.next.level, higher.next.distance) == (5.0, "stretch", -10.0)


def test_only_the_specs_that_apply_to_a_cell_judge_it() -> None:
    catalog = Catalog(metrics={"pkg.A": Metric(
        "pkg.A", "mmag", "lower", dimensions=("filter",), requirements=("R",),
        specs=specs("pkg.A", 8, 5, 3, filter="r") + specs("pkg.A", 12, 7.5, 4.5, filter="u"))})
    cells = [Observation("pkg.A", {"filter": f}, 7.0, "mmag", build(2)) for f in ("r", "u", "k")]
    item = build_report(catalog, cells, title="t", scope={}, builds=[]).requirements[0]
    assert [c.verdict for c in item.cells] == ["none", "minimum", "design"]  # k, r, u
    assert item.status == "minimum"


def test_the_latest_build_of_a_cell_wins() -> None:
    result = report([obs("pkg.B", 200.0, number=3), obs("pkg.B", 20.0, number=5),
                     obs("pkg.B", 100.0, number=4)])
    cell = result.requirements[1].cells[0]
    assert (cell.value, cell.build.id) == (20.0, "n5")


def test_changes_since_the_previous_report() -> None:
    before = [obs("pkg.A", 4.0, 1, filter="r"), obs("pkg.B", 45.0, 1), obs("pkg.C", 70.0, 1)]
    after = [obs("pkg.A", 9.0, 2, filter="r"), obs("pkg.B", 25.0, 2), obs("pkg.C", 90.0, 2),
             obs("pkg.D", 1.0, 2)]
    result = report(after, before)
    changes = {c.requirement: (c.before, c.after, c.kind) for c in result.changes}
    assert changes == {
        "R-A": ("design", "failed", "newly_failing"),
        "R-B": ("design", "stretch", "better"),
        "R-shared": ("minimum", "design", "newly_passing"),
        "R-nospec": ("not_measured", "no_spec", "measurement"),
    }
    body = result.to_json()["changes"]
    assert body["newly_failing"] == ["R-A"] and body["newly_passing"] == ["R-shared"]
    cell = result.requirements[0].cells[0]
    assert cell.previous is not None
    assert (cell.previous.value, cell.previous.verdict) == (4.0, "design")


def test_without_a_previous_report_nothing_is_compared() -> None:
    result = report([obs("pkg.A", 4.0, filter="r")])
    assert result.to_json()["changes"] == {"previous_builds": None, "newly_failing": [],
                                           "newly_passing": [], "requirements": []}
    assert all(item.previous_status is None for item in result.requirements)


def test_requirements_keep_the_catalog_order_and_name_their_metrics() -> None:
    catalog = Catalog(
        metrics={"pkg.X": Metric("pkg.X", "s", "lower", requirements=("Z-undeclared", "B"))},
        requirements={"B": Requirement("B"), "A": Requirement("A")})
    traced = catalog.traced_requirements()
    assert list(traced) == ["B", "A", "Z-undeclared"]
    assert [m.name for m in traced["Z-undeclared"][1]] == ["pkg.X"]
    assert traced["A"][1] == ()
