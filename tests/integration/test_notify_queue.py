"""Slack is off the judging path: notification tasks have a queue and a worker pool of their
own (the Procfile's `notify` line), so a summary's message goes out while every judging
process is stopped under a burst of submissions."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import redis

from harness.alerting.holding import hold
from harness.alerting.log import AlertLog
from harness.alerting.summaries import cause_of
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.pools import WorkerPools
from harness.testing.slack_receiver import SlackReceiver
from tests.conftest import bearer, submission
from tests.integration.test_slack import fresh_alert
from workers import DEFAULT_QUEUE, NOTIFY_QUEUE, NOTIFY_SUMMARY, PROCESS_SUBMISSION, create_celery

BURST = 8


def test_tasks_go_to_the_queue_of_their_pool(settings: Settings) -> None:
    app = create_celery(settings)
    try:
        route = app.amqp.router.route
        assert route({}, NOTIFY_SUMMARY)["queue"].name == NOTIFY_QUEUE
        assert route({}, PROCESS_SUBMISSION)["queue"].name == DEFAULT_QUEUE
    finally:
        app.close()


def test_a_held_summary_is_told_while_judging_is_stopped_under_a_burst(
    client: Any, settings: Settings, worker: WorkerPools, system: InfluxStore,
    slack: SlackReceiver, redis_client: redis.Redis,
) -> None:
    slack.clear()
    os.killpg(worker.judging.pid or 0, signal.SIGSTOP)  # its main process and pool alike
    try:
        burst = [client.post("/api/v1/submissions", json=submission(id=f"burst-{n}"),
                             headers=bearer()).json["status_url"] for n in range(BURST)]
        # the alerts of a summary held for its message, as judging holds them
        alert = fresh_alert()
        AlertLog(system).open([alert])
        summary_id = cause_of(alert).id
        hold(redis_client, summary_id, [alert.id], time.time())
        app = create_celery(settings)
        try:
            app.send_task(NOTIFY_SUMMARY, args=[summary_id])
        finally:
            app.close()

        slack.wait_for(lambda receiver: any(alert.id in json.dumps(message)
                                            for message in receiver.messages), timeout_s=30)
        states = [client.get(url).json["state"] for url in burst]
        assert states == ["queued"] * BURST  # not one judged: the message did not wait
    finally:
        os.killpg(worker.judging.pid or 0, signal.SIGCONT)


def test_healthz_needs_a_live_worker_on_each_queue(client: Any, worker: WorkerPools) -> None:
    os.killpg(worker.notify.pid or 0, signal.SIGSTOP)
    try:
        health = client.get("/healthz")
    finally:
        os.killpg(worker.notify.pid or 0, signal.SIGCONT)

    assert health.status_code == 503
    assert health.json["components"]["workers"]["unserved_queues"] == [NOTIFY_QUEUE]
    assert client.get("/healthz").status_code == 200
