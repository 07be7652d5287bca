"""One exception hierarchy for the core; the web layer maps it to HTTP in one place."""

from __future__ import annotations

from dataclasses import dataclass


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""

    status = 500


class SettingsError(HarnessError):
    """A set but malformed environment variable."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, at a path like `measurements[1].value`."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The problem as it appears in an error body."""
        return {"path": self.path, "message": self.message}


class InvalidInput(HarnessError):
    """An input that fails validation; carries every problem found."""

    status = 422

    def __init__(self, problems: list[Problem], summary: str = "invalid submission") -> None:
        super().__init__(f"{summary}: " + "; ".join(f"{p.path}: {p.message}" for p in problems))
        self.summary = summary
        self.problems = problems


class MalformedRequest(InvalidInput):
    """A body that is not JSON at all, or too large to read."""

    status = 400


class PayloadTooLarge(InvalidInput):
    """A body over the configured size limit."""

    status = 413


class CatalogError(HarnessError):
    """A catalog folder with errors; each names file and key."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


class MetricConflict(HarnessError):
    """An inline metric definition that would redefine a known metric."""

    status = 409

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.problems = [Problem(path, message)]


class NotFound(HarnessError):
    """A resource that does not exist."""

    status = 404


class Unauthorized(HarnessError):
    """A missing or unknown token."""

    status = 401


class Forbidden(HarnessError):
    """A token without the scope an endpoint needs."""

    status = 403


class ServiceUnavailable(HarnessError):
    """A dependency (broker, store) that does not answer; the client should retry."""

    status = 503
    retry_after = 5
    # What the HTTP answer says: the details (hosts, queries) go to the log only.
    summary: str | None = "a service the harness needs did not answer; try again later"


class BrokerUnavailable(ServiceUnavailable):
    """The broker did not accept the work."""

    summary = "the broker (Redis) did not answer; try again later"


class Overloaded(ServiceUnavailable):
    """More work waits in the queue than the configured limit (HARNESS_MAX_QUEUE_DEPTH)."""

    retry_after = 30
    summary = None  # the message (queue depth and limit) is the answer


class StoreUnavailable(ServiceUnavailable):
    """InfluxDB did not answer, or answered with a server error."""

    summary = "the store (InfluxDB) did not answer; try again later"


class StoreError(HarnessError):
    """InfluxDB refused a request as malformed: a bug, not an outage."""

