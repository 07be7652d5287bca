"""`harness backup DIR` and `harness restore DIR [--force]`."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path

from harness.client.console import say

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
OK, FAILED, USAGE = 0, 1, 2


def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `harness backup`'s arguments and set `run`."""
    parser.epilog = BACKUP_EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("directory", type=Path, metavar="DIR", help="the new backup folder")
    parser.set_defaults(run=run_backup)


def add_restore_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `harness restore`'s arguments and set `run`."""
    parser.epilog = RESTORE_EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("directory", type=Path, metavar="DIR", help="a backup folder")
    parser.add_argument("--force", action="store_true",
                        help="replace the database and keys the servers already hold")
    parser.set_defaults(run=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    """Write a backup; returns the exit code."""
    from harness.errors import SettingsError
    from harness.settings import Settings
    from harness.storage.backup.archive import write_backup
    from harness.storage.backup.errors import BackupError

    try:
        written = write_backup(Settings.from_env(), args.directory, _say("backup"))
    except SettingsError as error:
        return _fail("backup", str(error), USAGE)
    except BackupError as error:
        return _fail("backup", str(error), FAILED)
    _say("backup")(f"done: {args.directory} ({len(written.files)} files, "
                   f"manifest of {written.created})")
    return OK


def run_restore(args: argparse.Namespace) -> int:
    """Load a backup; returns the exit code."""
    from harness.errors import SettingsError
    from harness.settings import Settings
    from harness.storage.backup.archive import restore_backup
    from harness.storage.backup.errors import BackupError

    try:
        restored = restore_backup(Settings.from_env(), args.directory, args.force,
                                  _say("restore"))
    except SettingsError as error:
        return _fail("restore", str(error), USAGE)
    except BackupError as error:
        return _fail("restore", str(error), FAILED)
    _say("restore")(f"done: {sum(restored.points.values())} points, "
                    f"{sum(restored.redis_keys.values())} Redis keys, {restored.blobs} blobs")
    return OK


def _say(command: str) -> Callable[[str], None]:
    """A printer of progress lines to stderr, prefixed with the command."""
    return functools.partial(say, command)


def _fail(command: str, message: str, code: int) -> int:
    say(command, message)
    return code
