"""The InfluxDB part of a backup: `influxd backup -portable` / `influxd restore -portable`
over the server's RPC address, and the HTTP queries that check what a database holds."""

from __future__ import annotations

import collections
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from harness.errors import HarnessError
from harness.storage.backup.errors import BackupError
from harness.storage.influx import InfluxStore, Series, identifier

RPC_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 60.0
SETTING = "HARNESS_INFLUXDB_BACKUP_ADDRESS"


def version(store: InfluxStore) -> str:
    """The server's version, as /ping reports it."""
    try:
        response = store.session.get(f"{store.url}/ping", timeout=store.timeout, auth=store.auth)
    except OSError as error:
        raise BackupError(f"InfluxDB at {store.url} did not answer: {error}") from None
    return response.headers.get("X-Influxdb-Version", "unknown")


def database_exists(store: InfluxStore) -> bool:
    """Whether the store's database exists."""
    found = _query(store, "SHOW DATABASES", database=None)
    return any(row.get("name") == store.database for series in found for row in series.rows)


def holds_data(store: InfluxStore) -> bool:
    """Whether the store's database holds any series."""
    return database_exists(store) and bool(_query(store, "SHOW SERIES LIMIT 1"))


def point_counts(store: InfluxStore) -> dict[str, int]:
    """`policy.measurement` → points, for every retention policy and measurement."""
    if not database_exists(store):
        return {}
    policies = [row["name"] for series in _query(store, "SHOW RETENTION POLICIES")
                for row in series.rows]
    measurements = [row["name"] for series in _query(store, "SHOW MEASUREMENTS")
                    for row in series.rows]
    names = [(policy, measurement) for policy in policies for measurement in measurements]
    if not names:
        return {}
    statements = [f"SELECT count(*) FROM {identifier(policy)}.{identifier(measurement)}"
                  for policy, measurement in names]
    try:
        answers = store.query_each(statements)
    except HarnessError as error:
        raise BackupError(f"InfluxDB at {store.url}: counting points: {error}") from None
    counts = {}
    for (policy, measurement), found in zip(names, answers, strict=True):
        points = max((int(value) for series in found for row in series.rows
                      for column, value in row.items()
                      if column.startswith("count_") and value is not None),
                     default=0)
        if points:
            counts[f"{policy}.{measurement}"] = points
    return counts


def drop_database(store: InfluxStore) -> None:
    """Drop the store's database (a restore writes it anew)."""
    _query(store, f"DROP DATABASE {identifier(store.database)}", method="POST", database=None)


def wait_until_readable(store: InfluxStore, timeout_s: float = READY_TIMEOUT_S) -> dict[str, int]:
    """Wait until every restored shard answers queries (a live restore disables a shard
    while it loads it); returns the point counts."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return point_counts(store)
        except BackupError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def check_rpc(address: str) -> None:
    """Fail fast when the RPC address does not accept connections (influxd itself would
    retry for minutes)."""
    parts = urlsplit(f"//{address}")
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 8088),
                                      timeout=RPC_TIMEOUT_S):
            pass
    except OSError as error:
        raise BackupError(f"InfluxDB backup service at {address} did not answer ({error}); "
                          f"set {SETTING} to influxd's bind-address") from None


def backup(address: str, database: str, target: Path) -> None:
    """`influxd backup -portable` of one database into target."""
    check_rpc(address)
    _influxd(["backup", "-portable", "-db", database, "-host", address, str(target)],
             "backing up InfluxDB")


def restore(address: str, source: Path, database: str, into: str) -> None:
    """`influxd restore -portable` of a backed-up database into a new database `into`."""
    check_rpc(address)
    _influxd(["restore", "-portable", "-db", database, "-newdb", into, "-host", address,
              str(source)], "restoring InfluxDB")


def _influxd(arguments: list[str], label: str) -> None:
    """Run influxd, a progress line per shard; a failure raises BackupError with its output."""
    program = shutil.which("influxd")
    if program is None:
        raise BackupError("influxd not found on PATH (install the influxdb package: "
                          "backups use its `influxd backup` / `influxd restore`)")
    tail: collections.deque[str] = collections.deque(maxlen=12)
    with subprocess.Popen([program, *arguments], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                          ) as process, tqdm(desc=label, unit=" shard", disable=None) as bar:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line.rstrip())
            if "shard" in line.lower():
                bar.update(1)
        code = process.wait()
    if code != 0:
        output = "\n  ".join(tail)
        raise BackupError(f"influxd {arguments[0]} failed (exit {code}):\n  {output}")


def _query(store: InfluxStore, statement: str, method: str = "GET",
           database: str | None = "") -> list[Series]:
    try:
        return store.query(statement, method=method, database=database)
    except HarnessError as error:
        raise BackupError(f"InfluxDB at {store.url}: {statement}: {error}") from None


def describe(counts: Mapping[str, int]) -> str:
    """Point counts as one short line."""
    return ", ".join(f"{name} {points}" for name, points in sorted(counts.items())) or "no points"
