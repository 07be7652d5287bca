"""GET /healthz: each component answers, or the whole is unhealthy."""

from __future__ import annotations

import logging

from celery import Celery
from flask import Blueprint
from flask.typing import ResponseReturnValue

from harness.web.context import context
from workers import DEFAULT_QUEUE, NOTIFY_QUEUE

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
# The queues a live worker must serve: judging's and notifying's (the Procfile's `worker`
# and `notify` lines), so that /healthz is not 200 while one pool is down.
QUEUES = (DEFAULT_QUEUE, NOTIFY_QUEUE)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when web, broker, store and a worker for each queue answer and the queue is
    below its limit; 503 (with Retry-After) otherwise."""
    ctx = context()
    components: dict[str, dict[str, object]] = {"web": {"ok": True}}
    broker_ok = ctx.registry.ping()
    components["broker"] = {"ok": broker_ok}
    if broker_ok:
        depth = ctx.registry.queue_depth()
        limit = ctx.settings.max_queue_depth
        components["broker"].update(queue_depth=depth, queue_limit=limit, ok=depth < limit)
    components["store"] = {"ok": ctx.store.ping()}
    served = _queues(ctx.celery) if broker_ok else {}
    unserved = [queue for queue in QUEUES if not any(queue in names for names in served.values())]
    components["workers"] = {"ok": not unserved, "names": sorted(served)}
    if unserved:
        components["workers"]["unserved_queues"] = unserved
    healthy = all(component["ok"] for component in components.values())
    if healthy:
        return {"ok": True, "components": components}, 200
    return {"ok": False, "components": components}, 503, {"Retry-After": "5"}


def _queues(celery: Celery) -> dict[str, list[str]]:
    """Each worker that answers → the queues it consumes; a pooled connection that went
    stale when the broker restarted fails once and is replaced, so it is asked twice."""
    for attempt in (1, 2):
        try:
            replies = celery.control.inspect(timeout=1.0).active_queues() or {}
            return {name: [str(queue.get("name")) for queue in queues or ()]
                    for name, queues in replies.items()}
        except Exception:  # a broker that drops mid-question is reported, not raised
            log.info("asking the workers failed (attempt %d)", attempt, exc_info=True)
    return {}
