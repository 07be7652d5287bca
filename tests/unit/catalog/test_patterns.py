"""What the catalog gives metrics registered on first use by name glob (`registered:` in
_catalog.yaml: tags, detection settings, specs), and problems that name the key."""

from __future__ import annotations

from pathlib import Path

from harness.catalog import Metric
from harness.detection.verdicts import verdict

from .test_loader import folder, load_catalog, problems

METRICS = {"ap.yaml": """
    latency:
      unit: s
      better: lower
    """}
SETTINGS = """
registered:
  "go_test.*.BenchmarkSort*":
    tags: [sorting]
    detection: {threshold: 4.5}
    specs:
      - {level: minimum, operator: "<=", threshold: 40000}
      - {level: design, operator: "<=", threshold: 25000}
  "go_test.*":
    tags: [go]
"""


def registered(name: str) -> Metric:
    """A metric as an adapter registers it on first use."""
    return Metric(name=name, unit="ns", better="lower", source="inline")


def test_the_first_matching_glob_gives_tags_detection_and_specs(tmp_path: Path) -> None:
    catalog = load_catalog(folder(tmp_path, {"_catalog.yaml": SETTINGS, **METRICS}))
    full = catalog.with_metrics([registered("go_test.pkg.BenchmarkSort"),
                                 registered("go_test.pkg.BenchmarkSearch"),
                                 registered("hyperfine.sleep")])
    sort = full.metrics["go_test.pkg.BenchmarkSort"]
    assert sort.tags == ("sorting",)
    assert sort.detection.params().threshold == 4.5
    assert [(s.name, s.level, s.threshold) for s in sort.specs] == [
        ("go_test.pkg.BenchmarkSort.minimum", "minimum", 40000.0),
        ("go_test.pkg.BenchmarkSort.design", "design", 25000.0)]
    assert verdict(30_000.0, sort.specs, {})[0] == "minimum"
    assert full.metrics["go_test.pkg.BenchmarkSearch"].tags == ("go",)
    assert full.metrics["go_test.pkg.BenchmarkSearch"].specs == ()
    assert full.metrics["hyperfine.sleep"] == registered("hyperfine.sleep")
    assert full.metrics["ap.latency"].tags == ()  # the catalog's own metrics are as written


def test_a_bad_glob_or_detection_setting_is_named_at_its_key(tmp_path: Path) -> None:
    found = problems(tmp_path, METRICS, settings="""
registered:
  "go test/*": {tags: [x]}
  "ok.*": {detection: {threshold: -1}}
""")
    assert "must be a metric name glob" in found["_catalog.yaml.registered.go test/*"]
    assert "_catalog.yaml.registered.ok.*.detection.threshold" in found, found


def test_a_bad_spec_level_is_named_at_its_key(tmp_path: Path) -> None:
    found = problems(tmp_path, METRICS, settings="""
registered:
  "spec.*": {specs: [{level: great, operator: "<=", threshold: 1}]}
""")
    assert list(found) == ["_catalog.yaml.registered.spec.*.specs[0].level"], found
