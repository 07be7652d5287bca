"""The harness's Redis transport and worker leases, against a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Queue

from harness.storage.locks import SeriesBusy, SeriesLocks
from harness.testing.servers import RedisServer
from workers.broker import TRANSPORT, UNSETTLED
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
    # noted, so that the worker's leases thread acknowledges it once Redis answers
    acknowledge, _ = UNSETTLED.take()
    assert acknowledge == {message.delivery_tag}


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


def test_a_submission_run_again_takes_over_its_own_series_locks(broker: RedisServer) -> None:
    client = redis.Redis.from_url(broker.url)
    locks = SeriesLocks(client, wait_s=0.3)
    stale = locks.hold(["validate_drp.PA1|main"], owner="submission-1")
    stale.__enter__()  # a run whose Redis went away before it could release its locks

    with locks.hold(["validate_drp.PA1|main"], owner="submission-1"):  # run again: at once
        pass
    stale = locks.hold(["validate_drp.PA1|main"], owner="submission-1")
    stale.__enter__()
    with pytest.raises(SeriesBusy), locks.hold(["validate_drp.PA1|main"], owner="submission-2"):
        pass  # another submission still waits for the lock


def test_locks_left_when_redis_went_away_are_released_by_the_next_judgement(
        broker: RedisServer) -> None:
    client = redis.Redis.from_url(broker.url, socket_timeout=1, socket_connect_timeout=1)
    locks = SeriesLocks(client, wait_s=0.3)
    with locks.hold(["validate_drp.PA1|main"], owner="submission-1"):
        broker.stop()  # the judgement fails with Redis; its locks stay (AOF) …
    broker.start()
    with locks.hold(["validate_drp.AM1|main"], owner="submission-9"):
        pass  # … until this process's next judgement releases them
    with locks.hold(["validate_drp.PA1|main"], owner="submission-2"):  # the client's retry
        pass
