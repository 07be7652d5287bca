"""`harness catalog check`: validate a metrics folder and print its problems, or what it
holds."""

from __future__ import annotations

import argparse
import sys

from harness.alerting.routes import load_routes
from harness.catalog.loader import load_catalog
from harness.errors import CatalogError
from harness.settings import Settings


def run(args: argparse.Namespace) -> int:
    """Check the folder (default: HARNESS_METRICS_DIR); returns the exit code."""
    directory = args.directory or Settings.from_env().metrics_dir
    problems = []
    try:
        catalog = load_catalog(directory)
    except CatalogError as error:
        problems += error.problems
    try:
        routes = load_routes(directory)  # the routes file, `routes.yaml`
    except CatalogError as error:
        problems += error.problems
    if problems:
        for problem in problems:
            print(f"{directory}/{problem.path}: {problem.message}", file=sys.stderr)
        print(f"{len(problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    specs = sum(len(metric.specs) for metric in catalog.metrics.values())
    routed = f", {len(routes.routes)} routes to {len(routes.destinations)} destinations" \
        if routes.routes else ""
    print(f"{directory}: {len(catalog.metrics)} metrics, {specs} specs, "
          f"{len(catalog.dimensions)} dimensions, {len(catalog.requirements)} requirements"
          f"{routed}: OK")
    return 0
