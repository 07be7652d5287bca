"""The Redis transport as the harness uses it: one that survives a broker restart.

kombu's Redis transport keeps every message a worker holds in Redis itself (the `unacked`
hash) until it is acknowledged, and gives it back to the queue when the worker closes its
channel. When Redis goes away, that give-back runs on a connection that is gone, and an
acknowledgement of a task that finished meanwhile runs on a closed channel; both can raise
`AttributeError: 'NoneType' object has no attribute 'hostname'` into the worker's event
loop, which ends the worker ("Unrecoverable error", celery/celery#10205, #9250,
kombu#970). Nothing is lost by not giving the messages back at that moment: they stay in
Redis, and `workers.leases` hands them out again as soon as no live worker holds them. So
this transport turns those errors into a warning (give-back) or a connection error that
Celery logs and survives (acknowledgement). See docs/decisions.md.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)

# Raised instead of an AttributeError from a channel whose connection is gone: an OSError
# is one of the transport's connection errors, which Celery logs and survives.
_GONE = "the broker connection of this channel is gone"


class Unsettled:
    """Messages of this process whose acknowledgement or give-back failed with the broker:
    settled by workers.leases as soon as Redis answers again, instead of waiting for their
    lease to lapse (and a finished task to run again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.to_ack: set[str] = set()
        self.to_restore: set[str] = set()

    def add(self, tags: Any, *, done: bool) -> None:
        """Note tags to acknowledge (done) or to give back."""
        with self._lock:
            (self.to_ack if done else self.to_restore).update(map(str, tags))

    def take(self) -> tuple[set[str], set[str]]:
        """The tags to acknowledge and to give back, forgotten here."""
        with self._lock:
            taken = (self.to_ack, self.to_restore - self.to_ack)
            self.to_ack, self.to_restore = set(), set()
            return taken

    @property
    def held(self) -> set[str]:
        """Every tag still to settle (a lease names them: no one else gives them back)."""
        with self._lock:
            return self.to_ack | self.to_restore


UNSETTLED = Unsettled()


class QoS(kombu_redis.QoS):
    """kombu's Redis QoS, with give-backs and acknowledgements that never end the worker."""

    def restore_unacked(self, client: Any = None) -> None:
        """Give the held messages back to the queue now, or leave them to workers.leases."""
        try:
            super().restore_unacked(client)
        except Exception as error:  # the connection is gone; Redis still holds them
            log.warning("could not give back %d held message(s) now (%s: %s); they go back "
                        "when Redis answers", len(self._delivered), type(error).__name__, error)
            UNSETTLED.add(list(self._delivered), done=False)
            self._delivered.clear()

    def restore_visible(self, *args: Any, **kwargs: Any) -> None:
        """kombu's visibility-timeout sweep; an unreachable broker skips one round."""
        try:
            super().restore_visible(*args, **kwargs)
        except Exception as error:  # the broker is unreachable: the next round tries again
            log.info("skipped a sweep of held messages: %s: %s", type(error).__name__, error)

    def ack(self, delivery_tag: Any) -> None:
        """Acknowledge; on a channel whose connection is gone, a connection error."""
        try:
            super().ack(delivery_tag)
        except Exception as error:  # the broker is unreachable or the channel is gone
            UNSETTLED.add([delivery_tag], done=True)
            if isinstance(error, AttributeError):
                raise ConnectionResetError(_GONE) from None
            raise

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        """Reject; on a channel whose connection is gone, a connection error."""
        try:
            super().reject(delivery_tag, requeue=requeue)
        except Exception as error:  # the broker is unreachable or the channel is gone
            UNSETTLED.add([delivery_tag], done=not requeue)
            if isinstance(error, AttributeError):
                raise ConnectionResetError(_GONE) from None
            raise


class Channel(kombu_redis.Channel):
    """kombu's Redis channel with the QoS above."""

    QoS = QoS


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above (`broker_transport` of the app)."""

    Channel = Channel


TRANSPORT = f"{__name__}:Transport"
