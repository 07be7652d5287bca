"""The Celery side of the harness: the app factory and thin tasks over harness/."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from celery import Celery
from celery.schedules import crontab

from harness.blobs import BlobStore
from harness.catalog import Catalog, load_catalog
from harness.registry import Registry
from harness.settings import Settings
from harness.store import InfluxStore

PROCESS_SUBMISSION = "workers.tasks.process_submission"
NOTIFY_ALERT = "workers.notify.notify_alert"
NOTIFY_GROUP = "workers.notify.notify_group"


class WorkerContext:
    """What tasks need, built on first use in each worker process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def catalog(self) -> Catalog:
        """The catalog, loaded once per process."""
        return load_catalog(self.settings.metrics_dir)

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
    app = Celery("harness", broker=settings.broker_url, include=["workers.tasks", "workers.notify"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_transport_options={
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            "socket_timeout": 5,
        },
        worker_hijack_root_logger=False,
        beat_schedule={
            "missing-data": {"task": "workers.tasks.check_missing", "schedule": 3600.0},
            "change-points": {"task": "workers.tasks.scan_change_points",
                              "schedule": crontab(hour=6, minute=0)},
        },
        enable_utc=True,
    )
    app.harness = WorkerContext(settings)
    return app
