"""The alerts held for their summary's message while its grace period runs (Redis): a task
claims those ready when it runs, so that tasks of one summary never share an alert, and a
retry or a redelivery of a task gets back the alerts it claimed (docs/decisions.md 80)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import redis

from harness.storage.redis_errors import redis_errors

HELD_PREFIX = "harness:announce:"  # summary id → its held alerts, scored by when ready
HELD_SECONDS = 86_400  # held alerts whose task was lost are forgotten after a day
READY_SLACK_S = 1.0  # an alert counts as ready this much early (the clocks of two hosts)

# Give back what this task claimed before (a retry, a redelivery), else move the ready
# alerts from the held set to this task's claim, in one step.
CLAIM = """
local claimed = redis.call('SMEMBERS', KEYS[2])
if #claimed > 0 then return claimed end
local ready = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for first = 1, #ready, 1000 do
  redis.call('SADD', KEYS[2], unpack(ready, first, math.min(first + 999, #ready)))
  redis.call('ZREM', KEYS[1], unpack(ready, first, math.min(first + 999, #ready)))
end
if #ready > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return ready
"""


def hold(client: redis.Redis, summary_id: str, alert_ids: Sequence[str], ready_at: float
         ) -> None:
    """Hold alerts for their summary's message, to be told from ready_at (a UNIX time) on;
    an alert held already keeps its time."""
    key = HELD_PREFIX + summary_id
    with redis_errors(), client.pipeline() as pipe:
        pipe.zadd(key, dict.fromkeys(alert_ids, ready_at), nx=True)
        pipe.expire(key, HELD_SECONDS)
        pipe.execute()


def claim(client: redis.Redis, summary_id: str, claimer: str, now: float) -> list[str]:
    """The ids of the held alerts that this claimer (a task id) takes: those it took before,
    else those ready now, which no other claimer gets."""
    with redis_errors():
        found = cast(list[str], client.eval(
            CLAIM, 2, HELD_PREFIX + summary_id, f"{HELD_PREFIX}{summary_id}:{claimer}",
            repr(now + READY_SLACK_S), str(HELD_SECONDS)))
    return sorted(found)


def settle(client: redis.Redis, summary_id: str, claimer: str) -> None:
    """Forget a claim whose alerts were told (or need no message any more)."""
    with redis_errors():
        client.delete(f"{HELD_PREFIX}{summary_id}:{claimer}")
