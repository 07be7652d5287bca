"""What `harness backup DIR` and `harness restore DIR [--force]` run (harness.client.cli
declares their arguments)."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

from harness.client.console import say
from harness.errors import SettingsError
from harness.settings import Settings
from harness.storage.backup.archive import restore_backup, write_backup
from harness.storage.backup.errors import BackupError

OK, FAILED, USAGE = 0, 1, 2


def run_backup(args: argparse.Namespace) -> int:
    """Write a backup; returns the exit code."""
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
