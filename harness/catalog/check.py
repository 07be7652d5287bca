"""`harness catalog check`: validate a metrics folder and print its problems, or what it
holds."""

from __future__ import annotations

import argparse
import sys

from harness.catalog.loader import load_catalog
from harness.errors import CatalogError
from harness.settings import Settings


def run(args: argparse.Namespace) -> int:
    """Check the folder (default: HARNESS_METRICS_DIR); returns the exit code."""
    directory = args.directory or Settings.from_env().metrics_dir
    try:
        catalog = load_catalog(directory)
    except CatalogError as error:
        for problem in error.problems:
            print(f"{directory}/{problem.path}: {problem.message}", file=sys.stderr)
        print(f"{len(error.problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    specs = sum(len(metric.specs) for metric in catalog.metrics.values())
    print(f"{directory}: {len(catalog.metrics)} metrics, {specs} specs, "
          f"{len(catalog.dimensions)} dimensions, {len(catalog.requirements)} requirements: OK")
    return 0
