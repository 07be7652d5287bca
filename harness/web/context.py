"""What the web handlers share: settings, catalog, registry, store, the task queue."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery
from flask import current_app

from harness.alerting.index import AlertIndex
from harness.alerting.log import AlertLog
from harness.catalog import Catalog, load_catalog
from harness.settings import Settings
from harness.storage.blobs import BlobStore
from harness.storage.influx import InfluxStore
from harness.storage.registry import Registry
from harness.storage.retention import Retention
from workers import create_celery


@dataclass(frozen=True)
class WebContext:
    """The long-lived objects of one web process."""

    settings: Settings
    catalog: Catalog
    registry: Registry
    store: InfluxStore
    celery: Celery
    blobs: BlobStore

    @classmethod
    def create(cls, settings: Settings) -> WebContext:
        """Build the context; loading the catalog may raise CatalogError."""
        return cls(
            settings=settings,
            catalog=load_catalog(settings.metrics_dir),
            registry=Registry(settings.broker_url),
            store=InfluxStore(settings.influxdb_url, settings.influxdb_database,
                              settings.influxdb_username, settings.influxdb_password),
            celery=create_celery(settings),
            blobs=BlobStore(settings.blob_dir),
        )

    def retention(self) -> Retention:
        """How long points outside the catalog's default branch are kept."""
        return Retention(self.catalog.default_branch, self.settings.branch_retention_days)

    def alert_log(self) -> AlertLog:
        """The alert log with its index in Redis (reads that do not grow with the past)."""
        return AlertLog(self.store, AlertIndex(self.registry.redis))

    def full_catalog(self) -> Catalog:
        """The catalog plus the metrics registered inline (read fresh: other processes add)."""
        return self.catalog.with_metrics(self.registry.inline_metrics())


def context() -> WebContext:
    """The context of the current app."""
    return current_app.extensions["harness"]
