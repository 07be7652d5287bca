"""Backup and restore of everything needed to rebuild the service: the InfluxDB database
(a portable `influxd backup`), the Redis state that matters, the blob folder, and a manifest
of versions, counts and checksums (docs/decisions.md, "Backups")."""

from harness.storage.backup.errors import BackupError

__all__ = ["BackupError"]
