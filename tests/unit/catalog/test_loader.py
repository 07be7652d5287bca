"""Loading small catalog folders written to tmp_path (harness.catalog.loader): what a valid
folder becomes, and problems that name file and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.catalog import Catalog, load_catalog
from harness.errors import CatalogError

SETTINGS = """
default_branch: develop
dimensions:
  filter: {aliases: [band]}
  dataset: {}
requirements:
  R-1: {title: Latency, document: DOC-1}
"""


def folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def load(root: Path, files: dict[str, str]) -> Catalog:
    return load_catalog(folder(root, {"_catalog.yaml": SETTINGS, **files}))


def problems(root: Path, files: dict[str, str], settings: str = SETTINGS) -> dict[str, str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(folder(root, {"_catalog.yaml": settings, **files}))
    return {problem.path: problem.message for problem in caught.value.problems}


def test_a_small_catalog_loads_with_its_settings(tmp_path: Path) -> None:
    catalog = load(tmp_path, {"ap.yaml": """
        latency:
          unit: s
          better: lower
          dimensions: [dataset]
          requirements: [R-1]
          cadence: 36h
          tags: [timing]
    """})
    metric = catalog.metrics["ap.latency"]
    assert (metric.unit, metric.better, metric.dimensions, metric.cadence_s) == (
        "s", "lower", ("dataset",), 129_600.0)
    assert metric.package == "ap" and metric.source == "catalog"
    assert catalog.default_branch == "develop"
    assert catalog.dimensions["filter"].aliases == ("band",)
    assert catalog.requirements["R-1"].document == "DOC-1"


def test_without_settings_the_defaults_hold(tmp_path: Path) -> None:
    catalog = load_catalog(folder(tmp_path, {"ap.yaml": "latency: {unit: s, better: lower}"}))
    assert (catalog.default_branch, dict(catalog.dimensions)) == ("main", {})


def test_a_spec_threshold_is_converted_to_the_metric_unit_and_sets_the_direction(
        tmp_path: Path) -> None:
    catalog = load(tmp_path, {
        "ap.yaml": "latency: {unit: s, dimensions: [filter]}",
        "specs/ap/latency.yaml": """
            name: design
            metric: latency
            threshold: {value: 2, unit: min, operator: "<="}
            tags: [design]
            metadata_query: {band: [g, r]}
        """})
    metric = catalog.metrics["ap.latency"]
    [spec] = metric.specs
    assert (spec.name, spec.level, spec.threshold) == ("ap.latency.design", "design", 120.0)
    assert spec.query == {"filter": frozenset({"g", "r"})}
    assert metric.better == "lower"


def test_files_starting_with_an_underscore_are_not_packages(tmp_path: Path) -> None:
    catalog = load(tmp_path, {"ap.yaml": "latency: {unit: s, better: lower}",
                              "_notes.yaml": "this: is not a package"})
    assert list(catalog.metrics) == ["ap.latency"]


def test_a_qualified_metric_key_must_belong_to_its_file(tmp_path: Path) -> None:
    found = problems(tmp_path, {"ap.yaml": "other.latency: {unit: s, better: lower}"})
    assert found == {"ap.yaml.other.latency": "not a metric name of package ap"}


def test_a_metric_defined_twice_in_one_file_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"ap.yaml": """
        latency: {unit: s, better: lower}
        ap.latency: {unit: s, better: lower}
    """})
    assert found == {"ap.yaml.ap.latency": "also defined in ap.yaml.latency"}


def test_a_bad_cadence_and_an_unknown_key_are_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"ap.yaml": """
        latency: {unit: s, better: lower, cadence: weekly}
        size: {unit: s, better: lower, colour: red}
    """})
    assert "is not a duration like 36h" in found["ap.yaml.latency.cadence"]
    assert "ap.yaml.size.colour" in found


def test_optional_dimensions_are_some_of_the_metrics_own(tmp_path: Path) -> None:
    catalog = load(tmp_path, {"ap.yaml": """
        latency: {unit: s, better: lower, dimensions: [dataset, filter],
                  optional_dimensions: [filter]}
        size: {unit: s, better: lower, dimensions: [dataset, filter]}
    """})
    latency, size = catalog.metrics["ap.latency"], catalog.metrics["ap.size"]
    assert latency.optional_dimensions == ("filter",)
    assert latency.required_dimensions == ("dataset",)
    assert size.required_dimensions == ("dataset", "filter")
    assert latency.to_json()["optional_dimensions"] == ["filter"]


def test_an_optional_dimension_the_metric_does_not_declare_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"ap.yaml": """
        latency: {unit: s, better: lower, dimensions: [dataset], optional_dimensions: [filter]}
        size: {unit: s, better: lower, optional_dimensions: filter}
    """})
    assert found["ap.yaml.latency.optional_dimensions[0]"] == (
        "'filter' is not one of the metric's dimensions")
    assert "ap.yaml.size.optional_dimensions" in found  # a list, not a string


def test_the_projects_metrics_require_their_dimensions() -> None:
    # every CI job and the demo post each metric with all it declares (ingest refuses less)
    metrics = load_catalog(Path(__file__).parents[3] / "metrics").metrics
    assert metrics["validate_drp.PA1"].required_dimensions == ("dataset", "filter")
    assert metrics["pipe_tasks.runtime"].required_dimensions == ("dataset",)
    assert not any(metric.optional_dimensions for metric in metrics.values())


def test_a_metric_file_must_be_one_mapping(tmp_path: Path) -> None:
    found = problems(tmp_path, {"ap.yaml": "- a\n- b\n"})
    assert found == {"ap.yaml": "must be one mapping of metric name to definition"}


def test_spec_documents_need_a_name_or_an_id_and_ids_are_unique(tmp_path: Path) -> None:
    found = problems(tmp_path, {
        "ap.yaml": "latency: {unit: s, better: lower}",
        "specs/ap/a.yaml": """
            ---
            id: base
            ---
            id: base
            ---
            metric: latency
            ---
            - not a mapping
        """})
    assert found["specs/ap/a.yaml[1].id"] == "also used by specs/ap/a.yaml[0]"
    assert found["specs/ap/a.yaml[2]"] == "needs `name` (a spec) or `id` (a partial)"
    assert found["specs/ap/a.yaml[3]"] == "a spec document must be a mapping"


def test_a_metadata_query_on_an_undeclared_dimension_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {
        "ap.yaml": "latency: {unit: s}",
        "specs/ap/l.yaml": """
            name: design
            metric: latency
            threshold: {value: 2, operator: "<="}
            tags: [design]
            metadata_query: {colour: red}
        """})
    assert "specs/ap/l.yaml[0].metadata_query.colour" in found


def test_an_empty_folder_and_a_missing_one(tmp_path: Path) -> None:
    assert problems(tmp_path, {}) == {str(tmp_path): "holds no metric files (<package>.yaml)"}
    with pytest.raises(CatalogError, match="is not a directory"):
        load_catalog(tmp_path / "nowhere")
