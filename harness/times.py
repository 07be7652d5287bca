"""Time, in one place: what the harness accepts, how it is stored, how it is shown.

Inside the harness a time is a timezone-aware `datetime` in UTC. At the edges it is ISO 8601
text (read by `parse_utc`, naive meaning UTC; written by `iso_z`), and in InfluxDB integer
nanoseconds since 1970 (`nanoseconds`, `point_time`, `rfc3339`), which bounds it to
`EARLIEST`..`LATEST`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What InfluxDB can store and compare: nanoseconds since 1970 in a signed 64-bit integer.
EARLIEST = datetime(1678, 1, 1, tzinfo=UTC)
LATEST = datetime(2262, 1, 1, tzinfo=UTC)


def aware(moment: datetime) -> datetime:
    """The moment with a timezone: a naive one is taken to be UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_utc(text: str) -> datetime:
    """ISO 8601 text (`Z` or an offset; none means UTC) as an aware datetime.
    Raises ValueError for anything else."""
    return aware(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


def clamp(moment: datetime) -> datetime:
    """The moment within what InfluxDB can compare (a bound beyond it means the limit), in
    UTC; clamped before converting, as a far time with an offset overflows the year range."""
    return min(max(aware(moment), EARLIEST), LATEST).astimezone(UTC)


def storable(moment: datetime) -> bool:
    """Whether InfluxDB can store the moment."""
    return EARLIEST <= aware(moment) < LATEST


def iso_z(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the microsecond."""
    return aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch_ms(moment: datetime) -> float:
    """Milliseconds since 1970 (Bokeh's time axis)."""
    return aware(moment).timestamp() * 1000


def nanoseconds(moment: datetime) -> int:
    """A datetime as integer nanoseconds since the epoch, exactly (naive means UTC)."""
    delta = aware(moment) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def from_nanoseconds(epoch_ns: int) -> datetime:
    """An InfluxDB time (ns since the epoch) as a datetime, to the microsecond."""
    return EPOCH + timedelta(microseconds=int(epoch_ns) // 1000)  # exact: no float


def point_time(epoch_ns: int) -> str:
    """An InfluxDB time (ns since the epoch) as RFC 3339, to the microsecond."""
    return from_nanoseconds(epoch_ns).isoformat().replace("+00:00", "Z")


def rfc3339(epoch_ns: int) -> str:
    """An InfluxDB time as RFC 3339 to the nanosecond (for exact-time conditions)."""
    seconds, nanos = divmod(int(epoch_ns), 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{nanos:09d}Z"


def time_literal(moment: datetime) -> str:
    """A time as an InfluxQL time parameter: RFC 3339 in UTC, clamped to what InfluxDB can
    represent; naive means UTC."""
    return rfc3339(nanoseconds(clamp(moment)))


DURATION_UNITS = ((86_400, "day"), (3600, "h"), (60, "min"), (1, "s"))


def duration_text(span: timedelta) -> str:
    """A duration as people write it: its days, hours, minutes and seconds, largest first,
    zero parts left out ("1 day 12 h", "2 days", "1 h 30 min", "45 s"); under a second,
    as a fraction ("0.5 s"). Rounded to the second."""
    seconds = span.total_seconds()
    if abs(seconds) < 1:
        return f"{seconds:g} s"
    left, parts = round(abs(seconds)), []
    for size, name in DURATION_UNITS:
        count, left = divmod(left, size)
        if count:
            plural = "s" if name == "day" and count != 1 else ""
            parts.append(f"{count} {name}{plural}")
    return ("-" if seconds < 0 else "") + " ".join(parts)
