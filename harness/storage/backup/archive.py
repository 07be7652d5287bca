"""Writing a backup folder and loading one into servers: the steps in order, each failing
with a BackupError that names what failed. A backup appears under its name only once it is
complete; a restore checks the whole backup and the targets before it changes anything."""

from __future__ import annotations

import platform
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from harness.settings import Settings
from harness.storage.backup import influx, manifest, redis_state
from harness.storage.backup.blobs import copy_blobs
from harness.storage.backup.errors import BackupError
from harness.storage.backup.manifest import Manifest
from harness.storage.influx import InfluxStore

INFLUXDB, REDIS, BLOBS = "influxdb", "redis.jsonl", "blobs"
Say = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Restored:
    """What a restore loaded, and where it differs from the manifest's counts."""

    points: dict[str, int]
    redis_keys: dict[str, int]
    blobs: int
    warnings: list[str] = field(default_factory=list)


def progress(description: str, unit: str) -> Callable[[Iterable[T]], Iterator[T]]:
    """A wrapper that shows a progress bar over an iterable (on a terminal only)."""
    def wrap(items: Iterable[T]) -> Iterator[T]:
        total = len(items) if isinstance(items, list) else None
        yield from tqdm(items, desc=description, unit=unit, total=total, disable=None,
                        leave=False)
    return wrap


def write_backup(settings: Settings, target: Path, say: Say) -> Manifest:
    """Back up the database, the kept Redis keys and the blobs into the new folder target."""
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        written = _fill(settings, staging, say)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _fill(settings: Settings, folder: Path, say: Say) -> Manifest:
    """Write every part of a backup, then its manifest, into folder."""
    store = _store(settings)
    if not influx.database_exists(store):
        raise BackupError(f"InfluxDB at {store.url} has no database {store.database!r}: "
                          "nothing was ever stored there (check HARNESS_INFLUXDB_DATABASE)")
    client = redis_state.connect(settings.broker_url)
    versions = {"harness": _harness_version(), "python": platform.python_version(),
                "influxdb": influx.version(store),
                "redis": redis_state.server_version(client)}
    say(f"InfluxDB: backing up database {store.database!r} from {settings.influxdb_rpc_address}")
    influx.backup(settings.influxdb_rpc_address, store.database, folder / INFLUXDB)
    points = influx.point_counts(store)
    say(f"InfluxDB: {influx.describe(points)}")
    say(f"Redis: exporting the harness's durable keys from {redis_state.where(client)}")
    with (folder / REDIS).open("w", encoding="utf-8") as stream:
        kept, skipped = redis_state.export(client, stream, progress("Redis", " key"))
    client.close()
    say(f"Redis: kept {_describe(kept)}; left out {_describe(skipped)}")
    if kept[redis_state.OTHER]:
        say(f"warning: kept {kept[redis_state.OTHER]} harness key(s) of no known kind; "
            "name their kind in harness/storage/backup/redis_state.py")
    blobs = copy_blobs(settings.blob_dir, folder / BLOBS, progress("blobs", " blob"))
    say(f"blobs: {blobs} from {settings.blob_dir}")
    checksums = manifest.checksums(folder, progress("checksums", " file"))
    written = Manifest(
        created=datetime.now(UTC).isoformat(timespec="seconds"), versions=versions,
        database=store.database, files=checksums,
        counts={"influxdb_points": points, "redis_keys": dict(kept),
                "redis_keys_left_out": dict(skipped), "blobs": blobs})
    manifest.write(folder, written)
    return written


def restore_backup(settings: Settings, source: Path, force: bool, say: Say) -> Restored:
    """Load a backup folder into the configured servers: refused when they already hold
    harness data, unless force (which replaces the database and the backed-up keys)."""
    source = source.resolve()
    backup = manifest.read(source)
    say(f"checking {len(backup.files)} files of the backup of {backup.created}")
    manifest.verify(source, backup, progress("checksums", " file"))
    store = _store(settings)
    client = redis_state.connect(settings.broker_url)
    _check_targets(settings, store, client, force)
    if influx.database_exists(store):
        influx.drop_database(store)
    say(f"InfluxDB: restoring {backup.database!r} as {store.database!r} "
        f"through {settings.influxdb_rpc_address}")
    influx.restore(settings.influxdb_rpc_address, source / INFLUXDB, backup.database,
                   store.database)
    points = influx.wait_until_readable(store)
    say(f"InfluxDB: {influx.describe(points)}")
    say(f"Redis: loading keys into {redis_state.where(client)}")
    redis_state.clear_series_cache(client)
    redis_state.clear_alert_index(client)
    loaded = redis_state.load(client, source / REDIS, progress("Redis", " key"))
    client.close()
    say(f"Redis: {_describe(loaded)}")
    blobs = copy_blobs(source / BLOBS, settings.blob_dir, progress("blobs", " blob"))
    say(f"blobs: {blobs} into {settings.blob_dir}")
    warnings = _differences(backup, points, loaded)
    for warning in warnings:
        say(f"warning: {warning}")
    return Restored(points=points, redis_keys=dict(loaded), blobs=blobs, warnings=warnings)


def _check_targets(settings: Settings, store: InfluxStore, client: Any, force: bool) -> None:
    """Refuse (unless force) to restore over servers that already hold harness data."""
    if not store.ping():
        raise BackupError(f"InfluxDB at {store.url} did not answer /ping")
    influx.check_rpc(settings.influxdb_rpc_address)
    occupied = []
    if influx.holds_data(store):
        counts = influx.point_counts(store)
        occupied.append(f"InfluxDB database {store.database!r} at {store.url} already holds "
                        f"data ({influx.describe(counts)})")
    if keys := redis_state.durable_keys(client):
        occupied.append(f"Redis at {redis_state.where(client)} already holds {len(keys)} "
                        f"harness key(s) (e.g. {keys[0]})")
    if occupied and not force:
        raise BackupError("refusing to restore: " + "; ".join(occupied) +
                          ". Restore into empty servers, or pass --force to replace them")


def _differences(backup: Manifest, points: dict[str, int], loaded: dict[str, int]
                 ) -> list[str]:
    """Where the restored counts differ from the manifest's (writes during the backup may
    explain a few points; expired statuses a few keys)."""
    found = []
    expected = backup.counts.get("influxdb_points", {})
    if expected != points:
        found.append(f"InfluxDB holds {influx.describe(points)}; the backup counted "
                     f"{influx.describe(expected)}")
    kept = backup.counts.get("redis_keys", {})
    if sum(kept.values()) != sum(loaded.values()):
        found.append(f"Redis: loaded {_describe(loaded)}; the backup kept {_describe(kept)} "
                     "(keys that expired since are left out)")
    return found


def _store(settings: Settings) -> InfluxStore:
    return InfluxStore(settings.influxdb_url, settings.influxdb_database,
                       settings.influxdb_username, settings.influxdb_password, timeout=60)


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items())) or "nothing"


def _harness_version() -> str:
    try:
        return metadata.version("metric-harness")
    except metadata.PackageNotFoundError:
        return "unknown"
