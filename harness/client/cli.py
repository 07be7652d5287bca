"""The `harness` command: catalog check, settings check, demo history."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.client import backfill, post, report
from harness.times import parse_utc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    catalog = commands.add_parser("catalog", help="work with a metrics catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    check = catalog_commands.add_parser("check", help="validate a metrics folder")
    check.add_argument("directory", nargs="?", type=Path,
                       help="the folder (default: HARNESS_METRICS_DIR or metrics/)")
    check.set_defaults(run=_catalog_check)

    settings = commands.add_parser("settings", help="validate the HARNESS_* environment")
    settings.set_defaults(run=_settings_check)

    demo = commands.add_parser("demo", help="post a realistic demo history to a harness")
    demo.add_argument("--url", default=os.environ.get("HARNESS_PUBLIC_URL",
                                                      "http://127.0.0.1:5000"))
    demo.add_argument("--token", default=os.environ.get("HARNESS_TOKEN"),
                      help="an ingest token secret (default: $HARNESS_TOKEN)")
    demo.add_argument("--nights", type=int, default=120)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--end", type=parse_utc, default=None,
                      help="when the history ends (ISO 8601; default: now); "
                           "the same --end re-posts the same builds")
    demo.add_argument("--no-wait", action="store_true",
                      help="do not wait until the worker has judged everything")
    demo.set_defaults(run=_demo)

    from harness.tools import replay  # the detection: numpy and the catalog, only when run

    post.add_arguments(commands.add_parser(
        "post", help="post a build's measurements from CI (native or lsst.verify JSON)"))
    backfill.add_arguments(commands.add_parser(
        "backfill", help="import many historical submissions or jobs, resumably"))
    replay.add_arguments(commands.add_parser(
        "replay", help="backtest a recorded series through the production detection"))
    report.add_arguments(commands.add_parser(
        "report", help="the verification report of a build or a release"))
    from harness.storage.backup import command as backup

    backup.add_backup_arguments(commands.add_parser(
        "backup", help="write everything needed to rebuild the service into a folder"))
    backup.add_restore_arguments(commands.add_parser(
        "restore", help="load a backup folder into fresh servers"))

    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ModuleNotFoundError as error:
        print(f"harness {args.command}: needs the server extra ({error}); "
              "install it with: pip install 'metric-harness[server]'", file=sys.stderr)
        return 2


def _catalog_check(args: argparse.Namespace) -> int:
    from harness.catalog import load_catalog
    from harness.errors import CatalogError
    from harness.settings import Settings

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


def _settings_check(args: argparse.Namespace) -> int:
    from harness.errors import SettingsError
    from harness.settings import Settings

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"harness: {error}", file=sys.stderr)
        return 2
    print(settings)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from harness.client.http import post_submissions, wait_until_processed
    from harness.tools.demo import demo_events, generate_history

    if not args.token:
        print("harness demo: an ingest token is needed (--token or HARNESS_TOKEN)",
              file=sys.stderr)
        return 2
    history = generate_history(nights=args.nights, seed=args.seed, end=args.end)
    events = demo_events(nights=args.nights, end=args.end)
    print(f"posting {len(history)} submissions to {args.url}", file=sys.stderr)
    summary = post_submissions(history, args.url, args.token)
    if summary.rejected:
        for error in summary.errors:
            print(f"rejected: {error}", file=sys.stderr)
        return 1
    if not args.no_wait:
        wait_until_processed(args.url, summary.submission_ids, timeout=900)
        _run_scans(args.url, args.token)
    print(f"demo history loaded: {summary.accepted} submissions; "
          f"regression injected at build {events.regression_build_id}, "
          f"night {events.missing_night} missing", file=sys.stderr)
    return 0


def _run_scans(url: str, token: str) -> None:
    """Ask the harness to run its scheduled checks now (missing data, change points)."""
    import requests

    for scan in ("missing", "change-points"):
        response = requests.post(f"{url}/api/v1/scans/{scan}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 202:
            print(f"harness demo: scan {scan}: {response.status_code} {response.text}",
                  file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
