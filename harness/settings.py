"""Every knob of the harness, read once from the environment into one frozen object."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import SettingsError

CHECKOUT = Path(__file__).resolve().parent.parent
SCOPES = frozenset({"ingest", "triage", "admin"})
MIN_SECRET = 16  # characters of a token secret
MAX_RETENTION_DAYS = 36_525  # a century: beyond it a cutoff leaves what InfluxDB can store
MAX_SUMMARY_GRACE_S = 300  # the longest wait of a summary's message (HARNESS_SUMMARY_GRACE_S)
WEBHOOK_PREFIX = "HARNESS_WEBHOOK_"  # variables that hold the webhook URLs of routes


@dataclass(frozen=True)
class Token:
    """An API token: its name, the SHA-256 of its secret, and its scopes."""

    name: str
    secret_sha256: str
    scopes: frozenset[str]

    def __repr__(self) -> str:
        return f"Token(name={self.name!r}, scopes={sorted(self.scopes)!r})"


@dataclass(frozen=True)
class Settings:
    """The harness configuration; build it with `Settings.from_env()`."""

    broker_url: str = "redis://127.0.0.1:6379/0"
    influxdb_url: str = "http://127.0.0.1:8086"
    influxdb_database: str = "harness"
    influxdb_username: str = ""
    influxdb_password: str = field(default="", repr=False)
    # host:port of influxd's RPC service (`bind-address`), used by `influxd backup/restore`;
    # None: the HTTP URL's host with InfluxDB's default port 8088 (`influxdb_rpc_address`)
    influxdb_backup_address: str | None = None
    metrics_dir: Path = CHECKOUT / "metrics"
    blob_dir: Path = CHECKOUT / "var" / "blobs"
    api_tokens: tuple[Token, ...] = ()
    slack_webhook_url: str | None = field(default=None, repr=False)
    public_url: str = "http://127.0.0.1:5000"
    max_body_bytes: int = 16 * 1024 * 1024
    max_measurements: int = 10_000
    # Seconds a task may stay delivered but unacknowledged before the broker hands it to
    # another worker: longer than any task runs or waits for its retry (RETRY_BACKOFF_MAX
    # of workers), and how long work held by a crashed worker host takes to come back.
    broker_visibility_timeout: int = 900
    # Queued tasks beyond which ingest answers 503 + Retry-After instead of queueing more.
    max_queue_depth: int = 50_000
    # Days the points of branches other than the catalog's default branch (and of pull
    # requests) are kept; the default branch's are kept forever (harness.storage.retention).
    branch_retention_days: int = 90
    # Name globs of the metrics a bare measurement may register on first use, outside the
    # catalog's own packages (harness.catalog.auto); () with HARNESS_AUTO_METRICS=none.
    auto_metrics: tuple[str, ...] = ("*",)
    # Seconds an alert summary's Slack message waits for the alerts of the same cause that
    # other builds or parallel jobs confirm, so that they are one message (at most
    # MAX_SUMMARY_GRACE_S: well within the visibility timeout of the task that waits).
    summary_grace_s: int = 10
    # The HARNESS_WEBHOOK_<NAME> variables, (name, URL): webhook URLs that the routes of
    # the metrics folder name by `url_env` instead of writing the secret in the file.
    webhook_urls: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read HARNESS_* variables; a malformed one raises SettingsError naming it."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        values: dict[str, object] = {}
        if (v := get("HARNESS_BROKER_URL")) is not None:
            values["broker_url"] = _url("HARNESS_BROKER_URL", v, {"redis", "rediss"})
        if (v := get("HARNESS_INFLUXDB_URL")) is not None:
            values["influxdb_url"] = _url("HARNESS_INFLUXDB_URL", v, {"http", "https"}).rstrip("/")
        if (v := get("HARNESS_INFLUXDB_DATABASE")) is not None:
            values["influxdb_database"] = _database_name(v)
        if (v := get("HARNESS_INFLUXDB_BACKUP_ADDRESS")) is not None:
            values["influxdb_backup_address"] = _host_port("HARNESS_INFLUXDB_BACKUP_ADDRESS", v)
        if (v := get("HARNESS_INFLUXDB_USERNAME")) is not None:
            values["influxdb_username"] = v
        if (v := get("HARNESS_INFLUXDB_PASSWORD")) is not None:
            values["influxdb_password"] = v
        if (v := get("HARNESS_METRICS_DIR")) is not None:
            values["metrics_dir"] = _directory("HARNESS_METRICS_DIR", v)
        if (v := get("HARNESS_BLOB_DIR")) is not None:
            values["blob_dir"] = Path(v).expanduser().resolve()
        if (v := get("HARNESS_API_TOKENS")) is not None:
            values["api_tokens"] = parse_tokens(v)
        if (v := get("HARNESS_SLACK_WEBHOOK_URL")) is not None:
            values["slack_webhook_url"] = _url("HARNESS_SLACK_WEBHOOK_URL", v, {"http", "https"})
        if (v := get("HARNESS_PUBLIC_URL")) is not None:
            values["public_url"] = _url("HARNESS_PUBLIC_URL", v, {"http", "https"}).rstrip("/")
        if (v := get("HARNESS_MAX_BODY_BYTES")) is not None:
            values["max_body_bytes"] = _positive_int("HARNESS_MAX_BODY_BYTES", v)
        if (v := get("HARNESS_MAX_MEASUREMENTS")) is not None:
            values["max_measurements"] = _positive_int("HARNESS_MAX_MEASUREMENTS", v)
        if (v := get("HARNESS_BROKER_VISIBILITY_TIMEOUT")) is not None:
            values["broker_visibility_timeout"] = _positive_int(
                "HARNESS_BROKER_VISIBILITY_TIMEOUT", v)
        if (v := get("HARNESS_MAX_QUEUE_DEPTH")) is not None:
            values["max_queue_depth"] = _positive_int("HARNESS_MAX_QUEUE_DEPTH", v)
        if (v := get("HARNESS_BRANCH_RETENTION_DAYS")) is not None:
            values["branch_retention_days"] = _retention_days(v)
        if (v := get("HARNESS_AUTO_METRICS")) is not None:
            values["auto_metrics"] = _globs("HARNESS_AUTO_METRICS", v)
        if (v := get("HARNESS_SUMMARY_GRACE_S")) is not None:
            values["summary_grace_s"] = _grace("HARNESS_SUMMARY_GRACE_S", v)
        values["webhook_urls"] = tuple(
            (name, _url(name, value, {"http", "https"})) for name, value in sorted(env.items())
            if name.startswith(WEBHOOK_PREFIX) and value)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def influxdb_rpc_address(self) -> str:
        """host:port of influxd's backup/restore RPC service."""
        if self.influxdb_backup_address:
            return self.influxdb_backup_address
        host = urlsplit(self.influxdb_url).hostname or "127.0.0.1"
        return f"[{host}]:8088" if ":" in host else f"{host}:8088"

    def webhook_url(self, variable: str) -> str | None:
        """The URL a HARNESS_WEBHOOK_* variable holds (None when it is unset)."""
        return dict(self.webhook_urls).get(variable)

    def token_for(self, secret: str) -> Token | None:
        """The token whose secret this is, compared by hash in constant time."""
        # surrogatepass: a JSON password may hold a lone surrogate; it matches nothing
        digest = hashlib.sha256(secret.encode(errors="surrogatepass")).hexdigest()
        found = None
        for token in self.api_tokens:
            if hmac.compare_digest(digest, token.secret_sha256):
                found = token
        return found


def parse_tokens(text: str) -> tuple[Token, ...]:
    """Parse `name:secret:scope+scope,...` into tokens."""
    tokens = []
    names = set()
    for position, item in enumerate(part.strip() for part in text.split(",")):
        if not item:
            continue
        pieces = item.split(":")
        if len(pieces) != 3 or not all(pieces):
            raise SettingsError(
                "HARNESS_API_TOKENS",
                f"entry {position + 1} must be name:secret:scope+scope",
            )
        name, secret, scope_text = pieces
        # A message quotes nothing as long as a secret: fields in the wrong order would
        # otherwise print a secret where a name or a scope was expected.
        token = f"token {name!r}" if len(name) < MIN_SECRET else f"entry {position + 1}"
        scopes = frozenset(scope_text.split("+"))
        if unknown := scopes - SCOPES:
            scope = sorted(unknown)[0]
            scope = repr(scope) if len(scope) < MIN_SECRET else "(not shown: as long as a secret)"
            raise SettingsError(
                "HARNESS_API_TOKENS",
                f"{token} has unknown scope {scope} (known: {', '.join(sorted(SCOPES))})",
            )
        if len(secret) < MIN_SECRET:
            raise SettingsError(
                "HARNESS_API_TOKENS", f"{token}: secret must be at least {MIN_SECRET} characters"
            )
        if name in names:
            raise SettingsError("HARNESS_API_TOKENS", f"{token}: the name appears twice")
        names.add(name)
        tokens.append(Token(name, hashlib.sha256(secret.encode()).hexdigest(), scopes))
    return tuple(tokens)


def _url(name: str, value: str, schemes: set[str]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise SettingsError(name, f"must be a {'/'.join(sorted(schemes))} URL with a host")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as error:
        raise SettingsError(name, f"bad port: {error}") from None
    return value


def _host_port(name: str, value: str) -> str:
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError as error:
        raise SettingsError(name, f"bad port: {error}") from None
    if not parts.hostname or port is None or parts.netloc != value or parts.username:
        raise SettingsError(name, "must be host:port (e.g. 127.0.0.1:8088)")
    return value


def _database_name(value: str) -> str:
    if not value.replace("_", "").replace("-", "").isalnum():
        raise SettingsError(
            "HARNESS_INFLUXDB_DATABASE", "may hold only letters, digits, '_' and '-'"
        )
    return value


def _directory(name: str, value: str) -> Path:
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise SettingsError(name, f"{value} is not a directory")
    return path


def _globs(name: str, value: str) -> tuple[str, ...]:
    """Comma- or space-separated name globs; `none` for none."""
    if value.strip().lower() == "none":
        return ()
    globs = tuple(part for part in re.split(r"[,\s]+", value) if part)
    bad = [glob for glob in globs if not re.fullmatch(r"[A-Za-z0-9_.*?\[\]!-]+", glob)]
    if bad:
        raise SettingsError(name, f"{bad[0]!r} is not a metric name glob (e.g. mypkg.*)")
    return globs


def _retention_days(value: str) -> int:
    days = _positive_int("HARNESS_BRANCH_RETENTION_DAYS", value)
    if days > MAX_RETENTION_DAYS:
        raise SettingsError("HARNESS_BRANCH_RETENTION_DAYS",
                            f"must be at most {MAX_RETENTION_DAYS} (a century)")
    return days


def _grace(name: str, value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise SettingsError(name, f"must be a whole number of seconds, got {value!r}") from None
    if not 0 <= seconds <= MAX_SUMMARY_GRACE_S:
        raise SettingsError(name, f"must be between 0 and {MAX_SUMMARY_GRACE_S} seconds")
    return seconds


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(name, f"must be a whole number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(name, "must be positive")
    return number
