"""Redis errors as the harness reports them: BrokerUnavailable, naming no address."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from harness.errors import BrokerUnavailable


@contextmanager
def redis_errors() -> Iterator[None]:
    """Turn a Redis error inside the block into BrokerUnavailable, naming the error's type
    only (never the address)."""
    try:
        yield
    except redis.RedisError as error:
        raise BrokerUnavailable(f"Redis did not answer: {type(error).__name__}") from None
