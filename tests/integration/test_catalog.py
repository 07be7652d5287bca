"""The catalog: YAML layout, spec and metric inheritance, band-dependent specs, detection
settings, errors naming file/key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.catalog import DetectionSettings, load_catalog, parse_detection
from harness.client.cli import main
from harness.detection.params import DEFAULT_PARAMS
from harness.detection.verdicts import verdict
from harness.errors import CatalogError, Problem
from tests.conftest import CHECKOUT

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
    catalog = load_catalog(CHECKOUT / "metrics")
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


# --- detection settings ----------------------------------------------------------------

def detection_of(root: Path, metric: str = "validate_drp.PA1") -> DetectionSettings:
    """The detection settings the catalog at root gives a metric."""
    return load_catalog(root).metrics[metric].detection


def with_detection(settings: str) -> str:
    """PACKAGE with these lines (YAML, two-space indented) under PA1's `detection:`."""
    return PACKAGE + "  detection:\n" + textwrap.indent(textwrap.dedent(settings), "    ")


@pytest.mark.parametrize(("min_effect", "expected"), [
    ("2%", {"min_relative": 0.02}),
    ("0.001 mag", {"min_absolute": 1.0}),  # converted to the metric's unit, mmag
    ("[2%, 500 umag]", {"min_relative": 0.02, "min_absolute": 0.5}),
])
def test_min_effect_is_relative_absolute_or_both(
    tmp_path: Path, min_effect: str, expected: dict[str, float]
) -> None:
    detection = detection_of(write_catalog(tmp_path, package=with_detection(
        f"min_effect: {min_effect}")))
    assert detection.enabled
    assert detection.overrides == pytest.approx(expected)


def test_every_setting_is_converted_and_gives_the_parameters_in_force(tmp_path: Path) -> None:
    detection = detection_of(write_catalog(tmp_path, package=with_detection("""
        threshold: 4
        pr_threshold: "3.5"
        min_effect: 2%
        persistence: 2
        window: 64
        span: 12
        scan: [4, 8, 12]
        min_history: 10
        noise_window: 128
    """)))
    assert detection.overrides == {
        "threshold": 4.0, "pr_threshold": 3.5, "min_relative": 0.02, "persistence": 2,
        "window": 64, "span": 12, "scan": (4, 8, 12), "min_history": 10, "noise_window": 128}
    params = DEFAULT_PARAMS.with_overrides(detection.overrides)
    assert detection.params() == params
    assert (params.threshold, params.scan, params.window) == (4.0, (4, 8, 12), 64)
    assert (params.min_absolute, params.clip) == (DEFAULT_PARAMS.min_absolute,
                                                  DEFAULT_PARAMS.clip)  # not set: defaults


def test_detection_is_inherited_through_base_setting_by_setting(tmp_path: Path) -> None:
    package = with_detection("""
        threshold: 4
        min_effect: [2%, 0.5 mmag]
        scan: [6, 12]
    """) + textwrap.dedent("""
        PA1_tight:
          base: PA1
          better: lower
          detection: {threshold: 5, min_effect: 1%}
        PA1_quiet:
          base: PA1_tight
          detection: off
    """)
    catalog = load_catalog(write_catalog(tmp_path, package=package))
    tight = catalog.metrics["validate_drp.PA1_tight"]
    assert tight.detection.overrides == {  # min_effect is one setting: the child's replaces it
        "threshold": 5.0, "min_relative": 0.01, "scan": (6, 12)}
    assert (tight.unit, tight.requirements) == ("mmag", ("LPM-17-PA1",))  # the rest inherited
    assert catalog.metrics["validate_drp.PA1_quiet"].detection == DetectionSettings(enabled=False)
    assert catalog.metrics["validate_drp.PA1"].detection.overrides["threshold"] == 4.0


@pytest.mark.parametrize("off", ["off", '"off"', "false"])
def test_detection_off(tmp_path: Path, off: str) -> None:
    detection = detection_of(write_catalog(tmp_path, package=PACKAGE + f"  detection: {off}\n"))
    assert detection == DetectionSettings(enabled=False)
    assert detection.to_json()["enabled"] is False


def test_a_metric_without_detection_has_the_defaults(tmp_path: Path) -> None:
    detection = detection_of(write_catalog(tmp_path))
    assert detection == DetectionSettings()
    assert detection.params() == DEFAULT_PARAMS


@pytest.mark.parametrize(("setting", "key", "message"), [
    ("threshold: 0", "threshold", "must be a number > 0"),
    ("threshold: four", "threshold", "must be a number > 0"),
    ("pr_threshold: -1", "pr_threshold", "must be a number > 0"),
    ("min_effect: 0.5", "min_effect", "0.5 needs a unit (like 0.5 mmag) or % (like 0.5%)"),
    ("min_effect: 2 s", "min_effect", "s does not convert to mmag"),
    ("min_effect: [2%, 3%]", "min_effect", "gives two relative shifts; give a relative shift "
                                           "like 2%, an absolute one with its unit like 0.5 s, "
                                           "or both"),
    ("min_effect: -2%", "min_effect", "'-2%': a shift must be a finite number >= 0"),
    ("persistence: 0", "persistence", "must be an integer >= 1"),
    ("window: 8", "window", "must be an integer >= 9"),
    ("span: 2.5", "span", "must be an integer >= 1"),
    ("scan: []", "scan", "must be a non-empty list of integers >= 1, like [6, 12, 21]"),
    ("min_history: 2", "min_history", "must be an integer >= 9"),
    ("noise_window: 4", "noise_window", "must be an integer >= 8"),
    # together with the defaults in force (span 24, scan 6, 12, 21, persistence 3)
    ("scan: [6, 30]", "scan", "each window must be at most span (24)"),
    ("span: 12", "span", "must be at least the longest scan window (21)"),
    ("persistence: 30", "persistence", "must be at most the longest scan window (21)"),
    ("scan: [2]", "scan", "needs a window of at least persistence (3)"),
])
def test_bad_detection_setting_names_file_and_key(
    tmp_path: Path, setting: str, key: str, message: str
) -> None:
    problems = problems_of(write_catalog(tmp_path, package=with_detection(setting)))
    assert problems == {f"validate_drp.yaml.PA1.detection.{key}": message}


def test_unknown_detection_setting_and_bad_detection_value(tmp_path: Path) -> None:
    problems = problems_of(write_catalog(tmp_path, package=with_detection("thresold: 4")))
    assert list(problems) == ["validate_drp.yaml.PA1.detection.thresold"]
    assert problems["validate_drp.yaml.PA1.detection.thresold"].startswith(
        "not a detection setting (known: threshold, pr_threshold, min_effect,")

    problems = problems_of(write_catalog(tmp_path / "scalar", package=PACKAGE + "  detection: 4\n"))
    assert problems == {"validate_drp.yaml.PA1.detection":
                        "must be a mapping of detection settings, or off"}


def test_detection_settings_from_text(tmp_path: Path) -> None:
    """What `harness replay --set KEY=VALUE` passes: every value as text."""
    detection = parse_detection({"threshold": "4", "min_effect": "2%, 0.5 s", "scan": "6,12",
                                 "persistence": "2"}, "ms", "--set")
    assert detection.overrides == {"threshold": 4.0, "min_relative": 0.02,
                                   "min_absolute": 500.0, "scan": (6, 12), "persistence": 2}
    with pytest.raises(CatalogError) as caught:
        parse_detection({"window": "64.5"}, "ms", "--set")
    assert caught.value.problems == [Problem("--set.window", "must be an integer >= 9")]


def test_metric_base_must_name_a_metric_and_not_itself(tmp_path: Path) -> None:
    package = PACKAGE + textwrap.dedent("""
        PA1_g: {base: PA9, better: lower}
        loop_a: {base: loop_b}
        loop_b: {base: loop_a}
    """)
    problems = problems_of(write_catalog(tmp_path, package=package))
    assert problems == {"validate_drp.yaml.PA1_g.base": "'PA9' names no metric",
                        "validate_drp.yaml.loop_a.base": "'loop_b' inherits from itself",
                        "validate_drp.yaml.loop_b.base": "'loop_a' inherits from itself"}


def test_shipped_catalog_detection_settings() -> None:
    catalog = load_catalog(CHECKOUT / "metrics")
    assert catalog.metrics["pipe_tasks.runtime"].detection.overrides == {"min_relative": 0.05}
    # a KPM, tracked in 12 series: z >= 4 (docs/decisions.md 79)
    assert catalog.metrics["validate_drp.PA1"].detection == DetectionSettings(
        overrides={"threshold": 4.0})
    assert catalog.metrics["dm_latency.OTT1"].detection == DetectionSettings()
