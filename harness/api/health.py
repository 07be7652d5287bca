"""GET /healthz: each component answers, or the whole is unhealthy."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from harness.api.context import context

bp = Blueprint("health", __name__)


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
        try:
            replies = ctx.celery.control.ping(timeout=1.0) or []
        except Exception:  # a broker that drops mid-ping is reported, not raised
            replies = []
        workers = sorted(name for reply in replies for name in reply)
    components["workers"] = {"ok": bool(workers), "names": workers}
    healthy = all(component["ok"] for component in components.values())
    if healthy:
        return {"ok": True, "components": components}, 200
    return {"ok": False, "components": components}, 503, {"Retry-After": "5"}
