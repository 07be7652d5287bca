"""The one error of backups and restores: it names what failed."""

from __future__ import annotations

from harness.errors import HarnessError


class BackupError(HarnessError):
    """A backup or restore step that failed, or a restore that was refused."""
