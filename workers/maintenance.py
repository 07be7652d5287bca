"""Scheduled upkeep of the store: the retention tiers (harness.storage.retention)."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from harness.errors import ServiceUnavailable
from harness.storage.retention import Retention, expire
from harness.storage.tails import SeriesTails
from workers import EXPIRE_BRANCH_POINTS, retry_later

log = logging.getLogger(__name__)

EXPIRE_RETRIES = 5  # a run that keeps failing waits for the next one


@shared_task(bind=True, name=EXPIRE_BRANCH_POINTS, acks_late=True, max_retries=EXPIRE_RETRIES)
def expire_branch_points(self: Task) -> int:
    """Delete the points of other branches and pull requests older than the retention;
    returns how many points of other branches and pull-request builds went."""
    context = self.app.harness
    retention = Retention(context.catalog.default_branch,
                          context.settings.branch_retention_days)
    try:
        expiry = expire(context.store, SeriesTails(context.registry.redis, 0), retention)
    except ServiceUnavailable as error:
        retry_later(self, error)
    log.info("retention: deleted %d points of other branches and the points of %d "
             "pull-request builds on %s, older than %s", expiry.branch_points,
             expiry.pull_request_builds, retention.default_branch, expiry.cutoff.isoformat())
    return expiry.branch_points + expiry.pull_request_builds
