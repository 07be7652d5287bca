"""Where the worker's time goes: pyinstrument over `judge_and_store` for consecutive nightly
submissions of the pipeline benchmark's workload (50 measurements, ≥ 276 builds of history
in every series), in this process, against a freshly started redis-server and influxd.
`python -m bench.profile [--submissions N]`; prints the call tree and ms per submission."""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pyinstrument import Profiler

from bench.pipeline import CHECKOUT, DATABASE, SEED_NIGHTS, seed, workload
from harness.catalog import load_catalog
from harness.formats.native import parse_submission
from harness.ingest import judge_and_store
from harness.storage.blobs import BlobStore
from harness.storage.influx import InfluxStore
from harness.storage.registry import Registry
from harness.testing.servers import InfluxServer, RedisServer


def main() -> int:
    """Seed, warm up on one submission, profile the rest."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--submissions", type=int, default=60)
    args = parser.parse_args()
    catalog = load_catalog(CHECKOUT / "metrics")
    bodies = workload(SEED_NIGHTS + args.submissions // 2 + 2)
    history = bodies[:2 * SEED_NIGHTS]
    posted = bodies[2 * SEED_NIGHTS:][:args.submissions + 1]
    with tempfile.TemporaryDirectory() as folder, \
            RedisServer(Path(folder) / "redis") as redis_server, \
            InfluxServer(Path(folder) / "influx") as influx:
        store = InfluxStore(influx.url, DATABASE)
        store.ensure_database()
        seed(store, history, catalog)
        registry, blobs = Registry(redis_server.url), BlobStore(Path(folder) / "blobs")
        submissions = [parse_submission(body, catalog, received=datetime.now(UTC)).submission
                       for body in posted]
        judge_and_store(submissions[0], catalog, store, registry, blobs)  # warm
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for submission in submissions[1:]:
                judge_and_store(submission, catalog, store, registry, blobs)
        seconds = time.perf_counter() - started
    print(profiler.output_text(color=False, unicode=False))
    print(f"{1000 * seconds / (len(submissions) - 1):.1f} ms per submission "
          f"({len(submissions) - 1} submissions of {len(posted[0]['measurements'])} "
          "measurements, wall time in this process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
