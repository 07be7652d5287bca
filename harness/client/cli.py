"""The `harness` command: catalog check, settings check, demo history."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.client import backfill, post, report
from harness.errors import SettingsError
from harness.settings import Settings
from harness.times import parse_utc
from harness.tools import replay

# The handlers of the subcommands that need the server install (or numpy), as
# "module:function": each is imported only when its subcommand runs (`_handler`), so that
# building the parser and the light client's commands load none of it (a CI job's `harness
# post` loads no web, worker or science stack: tests/integration/test_post.py). Without the
# server extra, such a subcommand fails with a hint to install it.
SERVER_COMMANDS = {
    "catalog check": "harness.catalog.check:run",
    "demo": "harness.tools.demo_post:run",
    "backup": "harness.storage.backup.command:run_backup",
    "restore": "harness.storage.backup.command:run_restore",
}
BACKUP_EPILOG = """\
DIR must not exist yet (or be empty); it appears only once the backup is complete.
Reads the HARNESS_* settings: InfluxDB (HARNESS_INFLUXDB_URL, _DATABASE and
_BACKUP_ADDRESS, influxd's RPC bind-address), Redis (HARNESS_BROKER_URL), HARNESS_BLOB_DIR.
"""
RESTORE_EPILOG = """\
Loads a backup into the servers the HARNESS_* settings name; refuses when the InfluxDB
database or Redis already holds harness data, unless --force. Run it before starting the
web, worker and beat processes.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    catalog = commands.add_parser("catalog", help="work with a metrics catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    check = catalog_commands.add_parser("check", help="validate a metrics folder")
    check.add_argument("directory", nargs="?", type=Path,
                       help="the folder (default: HARNESS_METRICS_DIR or metrics/)")
    check.set_defaults(run=SERVER_COMMANDS["catalog check"])

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
    demo.set_defaults(run=SERVER_COMMANDS["demo"])

    post.add_arguments(commands.add_parser(
        "post", help="post a build's measurements from CI (native or lsst.verify JSON)"))
    backfill.add_arguments(commands.add_parser(
        "backfill", help="import many historical submissions or jobs, resumably"))
    replay.add_arguments(commands.add_parser(
        "replay", help="backtest a recorded series through the production detection"))
    report.add_arguments(commands.add_parser(
        "report", help="the verification report of a build or a release"))
    _add_backup_arguments(commands)

    args = parser.parse_args(argv)
    try:
        return int(_handler(args.run)(args))
    except ModuleNotFoundError as error:
        print(f"harness {args.command}: needs the server extra ({error}); "
              "install it with: pip install 'metric-harness[server]'", file=sys.stderr)
        return 2


def _add_backup_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]
                          ) -> None:
    """Declare `harness backup` and `harness restore` (run by harness.storage.backup.command)."""
    backup = commands.add_parser(
        "backup", help="write everything needed to rebuild the service into a folder",
        epilog=BACKUP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    backup.add_argument("directory", type=Path, metavar="DIR", help="the new backup folder")
    backup.set_defaults(run=SERVER_COMMANDS["backup"])
    restore = commands.add_parser(
        "restore", help="load a backup folder into fresh servers",
        epilog=RESTORE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    restore.add_argument("directory", type=Path, metavar="DIR", help="a backup folder")
    restore.add_argument("--force", action="store_true",
                         help="replace the database and keys the servers already hold")
    restore.set_defaults(run=SERVER_COMMANDS["restore"])


def _handler(run: str | Callable[[argparse.Namespace], int]
             ) -> Callable[[argparse.Namespace], int]:
    """A subcommand's handler: a function, or a "module:function" of SERVER_COMMANDS,
    imported now."""
    if callable(run):
        return run
    module, _, name = run.partition(":")
    handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
    return handler


def _settings_check(args: argparse.Namespace) -> int:
    """Print the settings the environment gives, or what is wrong with them."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"harness: {error}", file=sys.stderr)
        return 2
    print(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
