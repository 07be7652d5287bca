"""The bare pipe that the ingest benchmark compares the harness with: POST → enqueue → one
write of the same points, with no validation, judging, alerts or status. It runs on the same
servers as the harness (gunicorn `bench.bare:app`, `celery -A bench.bare:celery worker`), from
HARNESS_BROKER_URL and HARNESS_INFLUXDB_URL, into the database `bare` and the queue `bare`."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import requests
from celery import Celery
from flask import Flask, request

DATABASE = "bare"
QUEUE = "bare"

app = Flask(__name__)
celery = Celery("bare", broker=os.environ["HARNESS_BROKER_URL"])
celery.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True,
                   task_acks_late=True, worker_prefetch_multiplier=1,
                   task_default_queue=QUEUE, worker_hijack_root_logger=False)
_session = requests.Session()


@app.post("/submissions")
def create() -> tuple[dict[str, bool], int]:
    """Parse the JSON body and queue it."""
    celery.send_task("bench.bare.write", args=[request.get_json()], queue=QUEUE)
    return {"queued": True}, 202


@app.get("/healthz")
def health() -> dict[str, bool]:
    """Liveness, for the server fixture."""
    return {"ok": True}


@celery.task(name="bench.bare.write")
def write(body: dict[str, Any]) -> None:
    """One InfluxDB write of the submission's points: a build point and one per measurement,
    with the tags and identifying fields the harness writes."""
    build = body["build"]
    moment = datetime.fromisoformat(build["time"].replace("Z", "+00:00"))
    time = int(moment.timestamp()) * 1_000_000_000
    lines = [f"builds,ci={_tag(build['ci'])},branch={_tag(build['branch'])} "
             f"build_id={_field(build['id'])},packages={_field(json.dumps(build['packages']))},"
             f"measurements={len(body['measurements'])}i {time}"]
    for measurement in body["measurements"]:
        tags = {**body.get("dimensions", {}), **measurement.get("dimensions", {})}
        tag_text = "".join(f",{key}={_tag(value)}" for key, value in sorted(tags.items()))
        lines.append(
            f"results,metric={_tag(measurement['metric'])},branch={_tag(build['branch'])}"
            f"{tag_text} value={float(measurement['value'])},unit={_field(measurement['unit'])},"
            f"ci={_field(build['ci'])},build_id={_field(build['id'])} {time}")
    url = os.environ["HARNESS_INFLUXDB_URL"].rstrip("/") + "/write"
    response = _session.post(url, params={"db": DATABASE, "precision": "ns"},
                             data="\n".join(lines).encode(), timeout=10)
    response.raise_for_status()


def _tag(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=") \
        .replace(" ", "\\ ")


def _field(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
