"""The metric catalog: metrics/ YAML → Catalog of metrics, specs, dimensions, requirements."""

from harness.catalog.loader import SETTINGS_FILE, load_catalog
from harness.catalog.model import (
    LEVELS,
    METRIC_NAME,
    OPERATORS,
    Catalog,
    Dimension,
    Metric,
    Requirement,
    Spec,
)

__all__ = ["LEVELS", "METRIC_NAME", "OPERATORS", "SETTINGS_FILE", "Catalog", "Dimension",
           "Metric", "Requirement", "Spec", "load_catalog"]
