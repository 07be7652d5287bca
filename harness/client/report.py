"""`harness report`: fetch a verification report from the harness and print it; with
`--fail-on`, gate a release on it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import requests

from harness.client.console import say
from harness.client.http import json_object
from harness.client.post import DEFAULT_URL, GATE_FAILED, OK, UNREACHABLE, USAGE
from harness.links import REPORT, api_report_url

EPILOG = """\
examples:
  harness report jenkins nightly-2026-11-20          one build, as Markdown
  harness report --branch main --format json         latest build of each dataset on main
  harness report --build jenkins/812 --build gha/77 --name "release 23.0" --fail-on design
"""
BELOW = {"design": ("failed", "minimum"), "minimum": ("failed",)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments and set `run`."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("ci", nargs="?", help="the CI system of the build")
    parser.add_argument("id", nargs="?", help="the build id")
    parser.add_argument("--branch", help="release report: latest build of each dataset here")
    parser.add_argument("--until", metavar="TIME",
                        help="with --branch: the latest builds at or before this ISO time")
    parser.add_argument("--build", action="append", default=[], metavar="CI/ID",
                        help="release report over these builds (repeatable)")
    parser.add_argument("--name", help="the release's name, shown as the report's title")
    parser.add_argument("--format", choices=("md", "json"), default="md",
                        help="Markdown (default) or JSON (schema harness.report/1)")
    parser.add_argument("--fail-on", choices=tuple(BELOW),
                        help="exit 1 when a measured requirement is verified below this level")
    parser.add_argument("--url", help="the harness (default: $HARNESS_URL, "
                                      f"$HARNESS_PUBLIC_URL, {DEFAULT_URL})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the report; returns the exit code."""
    if bool(args.ci) != bool(args.id):
        return _say("give both CI and ID of a build, or --branch / --build", USAGE)
    if args.ci and (args.branch or args.build or args.until):
        return _say("a build report takes no --branch, --until or --build", USAGE)
    env = os.environ
    url = (args.url or env.get("HARNESS_URL") or env.get("HARNESS_PUBLIC_URL")
           or DEFAULT_URL).rstrip("/")
    if args.ci:
        path, params = api_report_url(args.ci, args.id), []
    else:
        path = REPORT
        params = [("build", build) for build in args.build]
        params += [(key, value) for key, value in
                   (("branch", args.branch), ("until", args.until), ("name", args.name)) if value]
    formats = [args.format] if not args.fail_on else list(dict.fromkeys([args.format, "json"]))
    answers: dict[str, requests.Response] = {}
    with requests.Session() as session:
        for answer in formats:
            try:
                query = [*params, ("format", answer)] if answer != "json" else params
                response = session.get(f"{url}{path}", params=query, timeout=120)
            except requests.RequestException as error:
                return _say(f"cannot reach {url}: {error}", UNREACHABLE)
            if response.status_code != 200:
                body = json_object(response)
                details = "; ".join(f"{d.get('path')}: {d.get('message')}"
                                    for d in body.get("details", []))
                message = body.get("error", response.text.strip()[:200])
                return _say(f"{response.status_code} {message}"
                            + (f" ({details})" if details else ""), USAGE)
            answers[answer] = response
    if args.format == "md":
        sys.stdout.write(answers["md"].text)
    else:
        print(json.dumps(answers["json"].json(), indent=2))
    if args.fail_on:
        return _gate(answers["json"].json(), args.fail_on)
    return OK


def _gate(report: dict[str, Any], level: str) -> int:
    """GATE_FAILED when a measured requirement is below level, naming each."""
    below = [f"{item['id']} ({item['label']})" for item in report["requirements"]
             if item["status"] in BELOW[level]]
    if below:
        return _say(f"{len(below)} requirement(s) below {level}: {', '.join(below)}",
                    GATE_FAILED)
    return OK


def _say(message: str, code: int) -> int:
    say("report", message)
    return code
