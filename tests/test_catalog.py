"""The catalog: YAML layout, spec inheritance, band-dependent specs, errors naming file/key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.errors import CatalogError
from harness.verify import verdict

SETTINGS = """
dimensions:
  filter: {aliases: [filter_name]}
  dataset: {aliases: [ci_dataset]}
requirements:
  LPM-17-PA1: {title: Photometric repeatability, document: LPM-17}
"""
PACKAGE = """
PA1:
  description: Photometric repeatability.
  unit: mmag
  dimensions: [dataset, filter]
  requirements: [LPM-17-PA1]
"""
SPECS = """
---
id: base
metric: PA1
threshold: {unit: mmag, operator: "<="}
tags: [photometry]
---
id: uzy
metadata_query: {filter_name: [u, z, y]}
---
name: design
base: "#base"
threshold: {value: 5.0}
tags: [design]
---
name: design_uzy
base: ["#base", "#uzy"]
threshold: {value: 7.5}
tags: [design]
---
name: minimum
base: PA1.design
threshold: {value: 0.008, unit: mag}
tags: [minimum]
"""


def write_catalog(root: Path, settings: str = SETTINGS, package: str = PACKAGE,
                  specs: str = SPECS) -> Path:
    """A catalog folder with one package and its specs."""
    (root / "specs" / "validate_drp").mkdir(parents=True)
    (root / "_catalog.yaml").write_text(textwrap.dedent(settings))
    (root / "validate_drp.yaml").write_text(textwrap.dedent(package))
    (root / "specs" / "validate_drp" / "PA1.yaml").write_text(textwrap.dedent(specs))
    return root


def problems_of(root: Path) -> dict[str, str]:
    """The catalog's problems, path → message."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    return {problem.path: problem.message for problem in caught.value.problems}


def test_inheritance_merges_bases_in_order(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path))
    specs = {spec.name: spec for spec in catalog.metrics["validate_drp.PA1"].specs}

    assert set(specs) == {"validate_drp.PA1.design", "validate_drp.PA1.design_uzy",
                          "validate_drp.PA1.minimum"}
    uzy = specs["validate_drp.PA1.design_uzy"]
    assert (uzy.operator, uzy.threshold, uzy.level) == ("<=", 7.5, "design")
    assert uzy.query == {"filter": frozenset({"u", "z", "y"})}
    assert uzy.tags == ("photometry", "design")
    minimum = specs["validate_drp.PA1.minimum"]  # inherits from a named spec, overrides unit
    assert minimum.threshold == pytest.approx(8.0)
    assert minimum.tags == ("photometry", "minimum")  # its own level replaces the base's


def test_list_appends_and_dicts_merge(tmp_path: Path) -> None:
    specs = SPECS + textwrap.dedent("""
        ---
        name: stretch_z
        base: PA1.design_uzy
        metadata_query: {dataset: hsc}
        threshold: {value: 3.0}
        tags: [stretch]
    """)
    catalog = load_catalog(write_catalog(tmp_path, specs=specs))
    stretch = next(s for s in catalog.metrics["validate_drp.PA1"].specs if s.level == "stretch")
    assert stretch.query == {"filter": frozenset({"u", "z", "y"}), "dataset": frozenset({"hsc"})}


def test_band_dependent_specs_and_most_specific_wins(tmp_path: Path) -> None:
    specs = load_catalog(write_catalog(tmp_path)).metrics["validate_drp.PA1"].specs
    assert verdict(6.0, specs, {"filter": "r"})[0] == "minimum"
    assert verdict(6.0, specs, {"filter": "z"})[0] == "design"
    assert verdict(9.0, specs, {"filter": "z"}) == ("fail", next(
        s for s in specs if s.name.endswith(".minimum")))
    assert verdict(None, specs, {"filter": "z"}) == ("none", None)


def test_verdict_levels_of_the_shipped_catalog() -> None:
    catalog = load_catalog(Path(__file__).resolve().parent.parent / "metrics")
    pa1 = catalog.metrics["validate_drp.PA1"].specs
    assert [verdict(v, pa1, {"filter": "g"})[0] for v in (2.9, 4.0, 6.0, 9.0)] == [
        "stretch", "design", "minimum", "fail"]
    assert [verdict(v, pa1, {"filter": "u"})[0] for v in (4.4, 7.0, 11.0, 13.0)] == [
        "stretch", "design", "minimum", "fail"]
    te2 = catalog.metrics["validate_drp.TE2"].specs
    assert verdict(8e-8, te2, {})[0] == "design"
    assert verdict(30.0, catalog.metrics["dm_latency.OTT1"].specs, {})[0] == "stretch"
    assert catalog.metrics["pipe_tasks.runtime"].specs == ()
    assert catalog.metrics["validate_drp.AM1"].requirements == ("LPM-17-AM1",)


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    package = PACKAGE + "  requirments: [typo]\n"
    assert problems_of(write_catalog(tmp_path, package=package)) == {
        "validate_drp.yaml.PA1.requirments": "Extra inputs are not permitted"}


def test_bad_threshold_names_document_and_key(tmp_path: Path) -> None:
    specs = SPECS.replace("threshold: {value: 5.0}", "threshold: {value: five}")
    problems = problems_of(write_catalog(tmp_path, specs=specs))
    assert list(problems) == ["specs/validate_drp/PA1.yaml[2].threshold.value"]


def test_threshold_unit_must_convert(tmp_path: Path) -> None:
    specs = SPECS.replace("threshold: {value: 0.008, unit: mag}", "threshold: {value: 1, unit: s}")
    problems = problems_of(write_catalog(tmp_path, specs=specs))
    assert problems == {"specs/validate_drp/PA1.yaml[4].threshold.unit":
                        "s does not convert to mmag"}


def test_dangling_base_and_undeclared_dimension(tmp_path: Path) -> None:
    specs = SPECS.replace('base: "#base"', 'base: "#nope"').replace("filter_name:", "colour:")
    problems = problems_of(write_catalog(tmp_path, specs=specs))
    assert problems["specs/validate_drp/PA1.yaml[2].base"] == "'#nope' names no spec or partial"
    assert "specs/validate_drp/PA1.yaml[3].metadata_query.colour" in problems


def test_a_spec_needs_exactly_one_level(tmp_path: Path) -> None:
    specs = SPECS.replace("tags: [design]", "tags: [design, stretch]", 1)
    problems = problems_of(write_catalog(tmp_path, specs=specs))
    assert problems == {"specs/validate_drp/PA1.yaml[2].tags":
                        "must hold exactly one of minimum, design, stretch"}


def test_undeclared_metric_dimension_and_requirement(tmp_path: Path) -> None:
    package = PACKAGE.replace("[dataset, filter]", "[dataset, colour]").replace(
        "[LPM-17-PA1]", "[LPM-17-XX]")
    problems = problems_of(write_catalog(tmp_path, package=package))
    assert set(problems) == {"validate_drp.yaml.PA1.dimensions[1]",
                             "validate_drp.yaml.PA1.requirements[0]"}


def test_metric_without_specs_needs_a_direction(tmp_path: Path) -> None:
    problems = problems_of(write_catalog(tmp_path, specs=""))
    assert problems == {"validate_drp.yaml.PA1.better":
                        "required (lower or higher) without specs"}


def test_unknown_unit_and_bad_yaml(tmp_path: Path) -> None:
    package = PACKAGE.replace("unit: mmag", "unit: furlongs")
    problems = problems_of(write_catalog(tmp_path, package=package))
    assert "validate_drp.yaml.PA1.unit" in problems
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    assert "broken.yaml" in problems_of(tmp_path)


def test_catalog_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check", str(write_catalog(tmp_path / "good"))]) == 0
    assert "1 metrics, 3 specs" in capsys.readouterr().out

    bad = write_catalog(tmp_path / "bad", specs=SPECS.replace("value: 5.0", "value: x"))
    assert main(["catalog", "check", str(bad)]) == 1
    assert "PA1.yaml[2].threshold.value" in capsys.readouterr().err


def test_shipped_catalog_passes_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check"]) == 0
    assert "OK" in capsys.readouterr().out
