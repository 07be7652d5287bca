"""Thin Celery tasks: parse plain JSON, call harness/, raise on failure."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from harness.errors import ServiceUnavailable
from harness.ingest import judge_and_store
from harness.model import Submission


@shared_task(
    bind=True,
    name="workers.tasks.process_submission",
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=None,
    acks_late=True,
)
def process_submission(self: Task, payload: dict[str, Any]) -> None:
    """Judge and store one submission; outages retry, anything else marks it failed."""
    context = self.app.harness
    submission = Submission.from_json(payload)
    try:
        catalog = context.catalog_for(m.metric for m in submission.measurements)
        judge_and_store(submission, catalog, context.store, context.registry, context.blobs)
    except ServiceUnavailable:
        raise
    except Exception as error:
        context.registry.mark_failed(submission, f"{type(error).__name__}: {error}")
        raise
