"""The metric catalog: metrics/ YAML → Catalog of metrics, specs, dimensions, requirements.

The model and the detection settings import only the standard library, so the light client
(`harness replay`) can use them; reading a catalog folder (pydantic, PyYAML, astropy) loads
when `load_catalog` is first used."""

from typing import Any

from harness.catalog.detection import parse_detection
from harness.catalog.model import (
    DETECTION_KNOBS,
    LEVELS,
    METRIC_NAME,
    OPERATORS,
    SETTINGS_FILE,
    Catalog,
    DetectionSettings,
    Dimension,
    Metric,
    Requirement,
    Spec,
)

__all__ = ["DETECTION_KNOBS", "LEVELS", "METRIC_NAME", "OPERATORS", "SETTINGS_FILE", "Catalog",
           "DetectionSettings", "Dimension", "Metric", "Requirement", "Spec", "load_catalog",
           "parse_detection"]


def __getattr__(name: str) -> Any:
    """`load_catalog`, imported when first used: reading a folder needs pydantic, PyYAML and
    astropy, which the light client (`harness replay`, `harness post`) lacks."""
    if name == "load_catalog":
        from harness.catalog import loader

        return loader.load_catalog
    raise AttributeError(f"module 'harness.catalog' has no attribute {name!r}")
