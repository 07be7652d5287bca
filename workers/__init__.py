"""The Celery side of the harness: the app factory and thin tasks over harness/."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import NoReturn

from celery import Celery, Task
from celery.exceptions import Reject
from celery.schedules import crontab
from celery.utils.time import get_exponential_backoff_interval

from harness.alerting.alerts import Alert
from harness.alerting.routes import Destination, Routes, load_routes
from harness.catalog import Catalog, load_catalog
from harness.errors import CatalogError
from harness.settings import Settings
from harness.storage.blobs import BlobStore
from harness.storage.influx import InfluxStore
from harness.storage.registry import Registry
from workers.broker import TRANSPORT

log = logging.getLogger(__name__)

PROCESS_SUBMISSION = "workers.tasks.process_submission"
REQUEUE_LOST = "workers.tasks.requeue_lost"
CHECK_MISSING = "workers.tasks.check_missing"
SCAN_CHANGE_POINTS = "workers.tasks.scan_change_points"
# A submission queued this long ago that Redis holds nowhere is taken for lost.
LOST_AFTER_S = 30
# The longest wait before a task's next retry, in seconds: short, so that the backlog of an
# outage drains within seconds of the service answering again (docs/decisions.md).
RETRY_BACKOFF_MAX_S = 8
# Alerts found on builds that came late wait at least this long before Slack hears of
# them: the rest of a burst or backfill may still withdraw them (docs/decisions.md). Every
# other alert waits for its summary's grace (Settings.summary_grace_s, decision 80).
LATE_ALERT_GRACE_S = 20
NOTIFY_ALERT = "workers.notify.notify_alert"
NOTIFY_GROUP = "workers.notify.notify_group"  # queued by versions before summaries
NOTIFY_SUMMARY = "workers.notify.notify_summary"
NOTIFY_TRIAGE = "workers.notify.notify_triage"
# Judging and the like go to Celery's default queue; telling Slack and webhooks to a queue of
# its own, served by a pool of its own (the Procfile's `notify` line), so that a backlog of
# submissions never delays a message and a slow destination never holds up judging.
DEFAULT_QUEUE = "celery"
NOTIFY_QUEUE = "notify"
NOTIFY_TASKS = (NOTIFY_ALERT, NOTIFY_GROUP, NOTIFY_SUMMARY, NOTIFY_TRIAGE)
# Retention tiers: the nightly delete of expired points (harness.storage.retention).
EXPIRE_BRANCH_POINTS = "workers.maintenance.expire_branch_points"


class WorkerContext:
    """What tasks need, built on first use in each worker process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def catalog(self) -> Catalog:
        """The catalog, loaded once per process."""
        return load_catalog(self.settings.metrics_dir)

    @cached_property
    def routes(self) -> Routes:
        """The routes of the metrics folder, loaded once per process. A routes file with
        problems (`harness catalog check` names them) is logged and left aside: every alert
        then goes to the default webhook rather than nowhere."""
        try:
            return load_routes(self.settings.metrics_dir)
        except CatalogError as error:
            for problem in error.problems:
                log.error("routes ignored: %s: %s", problem.path, problem.message)
            return Routes()

    def routed(self, alerts: Sequence[Alert]) -> dict[Destination, list[Alert]]:
        """Each destination of these alerts → the alerts its routes send there (by their
        metric's catalog tags, a registered metric's included)."""
        catalog = self.catalog_for({alert.metric for alert in alerts})
        plan = self.routes.split(alerts, lambda name: found.tags if (found := catalog.get(name))
                                 else ())
        return {self.routes.destination(name): routed for name, routed in plan.items()}

    def catalog_for(self, names: Iterable[str]) -> Catalog:
        """The catalog, plus the registered metrics when some of these names need them."""
        if all(name in self.catalog.metrics for name in names):
            return self.catalog
        return self.catalog.with_metrics(self.registry.inline_metrics())

    @cached_property
    def store(self) -> InfluxStore:
        """The InfluxDB store."""
        s = self.settings
        return InfluxStore(s.influxdb_url, s.influxdb_database, s.influxdb_username,
                           s.influxdb_password)

    @cached_property
    def blobs(self) -> BlobStore:
        """The blob files."""
        return BlobStore(self.settings.blob_dir)

    @cached_property
    def registry(self) -> Registry:
        """The Redis registry."""
        return Registry(self.settings.broker_url)


def create_celery(settings: Settings) -> Celery:
    """A Celery app for these settings, with the harness's delivery guarantees."""
    app = Celery("harness", broker=settings.broker_url,
                 include=["workers.tasks", "workers.notify", "workers.leases",
                          "workers.maintenance"])
    timeout = settings.broker_visibility_timeout
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # kombu's Redis transport, made to survive a broker restart (workers/broker.py)
        broker_transport=TRANSPORT,
        broker_transport_options={
            # Work a crashed worker held comes back within seconds through its missing
            # lease (workers/leases.py); this is the last resort. See docs/reliability.md.
            "visibility_timeout": timeout,
            # Look for such work every tenth of the timeout (at most every 10 s), not
            # only every 100 s as kombu does by default.
            "unacked_restore_interval": max(1, min(10, timeout // 10)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 3,
            "socket_timeout": 5,
        },
        worker_hijack_root_logger=False,
        task_default_queue=DEFAULT_QUEUE,
        task_routes={name: {"queue": NOTIFY_QUEUE} for name in NOTIFY_TASKS},
        beat_schedule={
            "requeue-lost": {"task": REQUEUE_LOST, "schedule": float(LOST_AFTER_S)},
            "missing-data": {"task": CHECK_MISSING, "schedule": 3600.0},
            "change-points": {"task": SCAN_CHANGE_POINTS,
                              "schedule": crontab(hour=6, minute=0)},
            "branch-retention": {"task": EXPIRE_BRANCH_POINTS,
                                 "schedule": crontab(hour=5, minute=0)},
        },
        enable_utc=True,
    )
    app.harness = WorkerContext(settings)
    return app


def retry_later(task: Task, error: Exception, *, factor: int = 1,
                countdown: float | None = None) -> NoReturn:
    """Raise the task's retry: after `countdown` if given, else after an exponential backoff
    with full jitter, capped at half the broker's visibility timeout so that a task waiting
    for its retry is never handed to a second worker."""
    cap = max(1, min(RETRY_BACKOFF_MAX_S, task.app.harness.settings.broker_visibility_timeout // 2))
    if countdown is None:
        countdown = get_exponential_backoff_interval(
            factor=factor, retries=task.request.retries, maximum=cap, full_jitter=True)
    # how many times: the task's own `max_retries` (None: until it succeeds)
    try:
        raise task.retry(exc=error, countdown=min(countdown, cap))
    except Reject as reject:
        # Celery could not publish the retry (the broker is down too) and would drop the
        # message; give it back instead: at once if the broker takes it, else it stays
        # unacknowledged and the broker hands it out again after the visibility timeout.
        log.warning("could not queue the retry of %s (%s); giving the task back",
                    task.request.id, reject.reason)
        raise Reject(reject.reason, requeue=True) from None
