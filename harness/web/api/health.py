"""GET /healthz: each component answers, or the whole is unhealthy."""

from __future__ import annotations

import logging

from celery import Celery
from flask import Blueprint
from flask.typing import ResponseReturnValue

from harness.web.context import context

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when web, broker, store and at least one worker answer and the queue is below
    its limit; 503 (with Retry-After) otherwise."""
    ctx = context()
    components: dict[str, dict[str, object]] = {"web": {"ok": True}}
    broker_ok = ctx.registry.ping()
    components["broker"] = {"ok": broker_ok}
    if broker_ok:
        depth = ctx.registry.queue_depth()
        limit = ctx.settings.max_queue_depth
        components["broker"].update(queue_depth=depth, queue_limit=limit, ok=depth < limit)
    components["store"] = {"ok": ctx.store.ping()}
    workers = []
    if broker_ok:
        workers = sorted(name for reply in _ping(ctx.celery) for name in reply)
    components["workers"] = {"ok": bool(workers), "names": workers}
    healthy = all(component["ok"] for component in components.values())
    if healthy:
        return {"ok": True, "components": components}, 200
    return {"ok": False, "components": components}, 503, {"Retry-After": "5"}


def _ping(celery: Celery) -> list[dict[str, object]]:
    """The workers' replies to a ping; a pooled connection that went stale when the broker
    restarted fails once and is replaced, so the ping is tried twice."""
    for attempt in (1, 2):
        try:
            return celery.control.ping(timeout=1.0) or []
        except Exception:  # a broker that drops mid-ping is reported, not raised
            log.info("worker ping failed (attempt %d)", attempt, exc_info=True)
    return []
