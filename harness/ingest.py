"""The worker's job for one submission: judge every measurement, store all in one write."""

from __future__ import annotations

from harness.blobs import BlobStore
from harness.catalog import Catalog
from harness.model import Result, Submission
from harness.registry import Registry
from harness.store import InfluxStore
from harness.verify import judge


def judge_and_store(
    submission: Submission, catalog: Catalog, store: InfluxStore, registry: Registry,
    blobs: BlobStore,
) -> list[Result]:
    """Keep its blobs, judge a submission, write its points in one batch, mark it done."""
    for blob in submission.blobs.values():
        blobs.put(blob)
    results = [judge(measurement, catalog) for measurement in submission.measurements]
    store.write_submission(submission, results)
    registry.mark_done(submission, results)
    return results
