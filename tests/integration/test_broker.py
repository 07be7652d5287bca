"""The harness's Redis transport and worker leases, against a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Queue

from harness.testing.servers import RedisServer
from workers.broker import TRANSPORT
from workers.leases import GRACE_S, Lease, orphans


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


def _held_message(connection: Connection) -> tuple[Any, Any]:
    """Publish one message and take it without acknowledging it: (channel, message)."""
    queue = Queue("q", Exchange("q"), "q")
    with connection.Producer() as producer:
        producer.publish({"n": 1}, exchange=queue.exchange, routing_key="q", declare=[queue])
    channel = connection.channel()
    got: list[Any] = []
    consumer = connection.Consumer(queue, channel=channel, accept=["json"],
                                   callbacks=[lambda body, message: got.append(message)])
    consumer.consume()
    connection.drain_events(timeout=5)
    assert len(got) == 1
    return channel, got[0]


def _orphan_the_channel(connection: Connection, channel: Any) -> None:
    """Leave the channel as a lost broker connection does: its pools disconnected and its
    transport detached from the connection."""
    channel._disconnect_pools()
    connection._do_close_transport()


def test_stock_kombu_ends_the_worker_where_the_harness_transport_does_not(
        broker: RedisServer) -> None:
    # the failure of celery/celery#10205: kombu's own transport raises AttributeError
    stock = Connection(broker.url)
    channel, _ = _held_message(stock)
    _orphan_the_channel(stock, channel)
    with pytest.raises(AttributeError, match="hostname"):
        channel.close()

    # the harness's: closing gives back nothing and raises nothing; the message stays
    # held in Redis (for the leases to give back)
    client = redis.Redis.from_url(broker.url)
    harness = Connection(broker.url, transport=TRANSPORT)
    channel, _ = _held_message(harness)
    _orphan_the_channel(harness, channel)
    channel.close()
    assert client.hlen("unacked") == 2  # the stock one's and ours, both still held


def test_an_ack_on_a_lost_channel_is_a_connection_error_celery_survives(
        broker: RedisServer) -> None:
    harness = Connection(broker.url, transport=TRANSPORT)
    channel, message = _held_message(harness)
    _orphan_the_channel(harness, channel)
    with pytest.raises(ConnectionResetError):
        channel.qos.ack(message.delivery_tag)
    assert isinstance(ConnectionResetError(), harness.connection_errors)


def test_a_lease_names_what_its_worker_holds() -> None:
    lease = Lease(1000.0, frozenset({"a", "b"}))
    assert Lease.from_json(lease.to_json()) == lease


@pytest.mark.parametrize(("delivered_ago", "leases", "given_back"), [
    (GRACE_S + 1, [], True),  # no live worker at all
    (GRACE_S + 1, [("other", 0.5)], True),  # held by no lease
    (GRACE_S + 1, [("tag", 0.5)], False),  # a live worker holds it
    (GRACE_S - 1, [("other", 0.5)], False),  # just delivered: its holder may not have said
    (GRACE_S + 1, [("other", GRACE_S + 2)], False),  # a lease older than the delivery
])
def test_orphans_are_the_messages_no_live_lease_can_hold(
        delivered_ago: float, leases: list[tuple[str, float]], given_back: bool) -> None:
    now = 10_000.0
    found = orphans([("tag", now - delivered_ago)],
                    [Lease(now - ago, frozenset({tag})) for tag, ago in leases], now)
    assert found == (["tag"] if given_back else [])
