"""`harness demo`: post the generated demo history (harness.tools.demo) to a harness, wait
until it is judged and run the scheduled checks."""

from __future__ import annotations

import argparse
import sys

import requests

from harness.client.http import post_submissions, wait_until_processed
from harness.tools.demo import demo_events, generate_history


def run(args: argparse.Namespace) -> int:
    """Post the history; returns the exit code."""
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
    for scan in ("missing", "change-points"):
        response = requests.post(f"{url}/api/v1/scans/{scan}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 202:
            print(f"harness demo: scan {scan}: {response.status_code} {response.text}",
                  file=sys.stderr)
