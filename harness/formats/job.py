"""lsst.verify Job JSON (as `Job.json` writes it) → a validated Submission with its blobs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from harness.catalog import Catalog, Metric
from harness.catalog.definitions import metrics_from_json
from harness.errors import InvalidInput, MetricConflict, Problem
from harness.formats.common import (
    capped,
    dropped_dimensions,
    in_metric_unit,
    known_metric,
    missing_dimensions,
    series_dimensions,
)
from harness.formats.fields import (
    BuildId,
    CiName,
    Label,
    Moment,
    WebUrl,
    check_document,
    check_tag_value,
    problems_from,
)
from harness.formats.native import ParsedSubmission
from harness.model import Build, Measurement, Package, Submission
from harness.storage.blobs import blob_document

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Scalar = str | int | float | bool | None
UNKNOWN_HINT = (" (to register the document's own `metrics` and `specs`, post with "
                "?register=true and an admin token)")


class _Model(BaseModel):
    # lsst.verify versions add keys now and then; unknown keys are ignored, not refused
    model_config = ConfigDict(extra="ignore", frozen=True)


class JobMeasurement(_Model):
    metric: Label
    identifier: str | None = None
    value: Number | None
    unit: str = ""
    blob_refs: list[str] = []


class BlobDatum(_Model):
    value: Any = None
    unit: str = ""
    label: str | None = None
    description: str | None = None


class JobBlob(_Model):
    identifier: Label
    name: Label
    data: dict[str, BlobDatum] = {}


class JobPackage(_Model):
    name: Label | None = None
    git_sha: Label | None = None
    git_branch: Label | None = None
    git_url: WebUrl | None = None
    eups_version: Label | None = None


class JobEnv(_Model):
    env_name: str | None = None
    ci_id: BuildId | int
    ci_name: CiName
    ci_dataset: Label | None = None
    ci_label: str | None = None
    ci_url: WebUrl | None = None
    ci_refs: list[str] | str | None = None
    status: Scalar = None
    date: Moment | None = None


class JobMeta(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    env: JobEnv
    packages: dict[str, JobPackage] = {}


class JobIn(_Model):
    measurements: list[JobMeasurement] = Field(min_length=1)
    blobs: list[JobBlob] = []
    metrics: Any = None
    specs: Any = None
    meta: JobMeta


def parse_job(
    body: Any, catalog: Catalog, *, received: datetime, branch: str | None = None,
    max_measurements: int = 10_000, register: bool = False,
) -> ParsedSubmission:
    """Validate a Job JSON document against the catalog; raises InvalidInput with paths."""
    if not isinstance(body, dict):
        raise InvalidInput([Problem("", "the body must be a JSON object (a Job document)")])
    if isinstance(body.get("measurements"), list) and len(body["measurements"]) > max_measurements:
        raise InvalidInput([Problem("measurements", f"at most {max_measurements} measurements")])
    check_document(body)
    try:
        job = JobIn.model_validate(body)
    except ValidationError as error:
        raise InvalidInput(problems_from(error, body)) from None
    new_metrics = _registered(job, catalog) if register else ()
    catalog = catalog.with_metrics(new_metrics)
    problems: list[Problem] = []
    ignored: list[Problem] = []
    meta = dict(job.meta.model_extra or {})
    paths: dict[str, str] = {}  # where each dimension was found
    found = _job_dimensions(meta, job.meta.env, catalog, problems, paths)
    build = _build(job, catalog, branch, problems)
    blobs_by_ref = {blob.identifier: blob for blob in job.blobs}
    blobs: dict[str, dict[str, Any]] = {}
    measurements = []
    for index, item in enumerate(job.measurements):
        path = f"measurements[{index}]"
        metric = known_metric(item.metric, path, catalog, problems, UNKNOWN_HINT)
        linked = []
        for position, ref in enumerate(item.blob_refs):
            blob = blobs_by_ref.get(ref)
            if blob is None:
                problems.append(Problem(f"{path}.blob_refs[{position}]",
                                        f"names no blob of this document ({ref!r})"))
                continue
            document = blob_document(blob.name, {k: v.model_dump() for k, v in blob.data.items()},
                                     blob.identifier)
            blobs[document["id"]] = document
            linked.append(document["id"])
        if metric is None:
            continue
        missing_dimensions(metric, paths, problems, lambda key: f"meta.{key}",
                           lambda key: _how(key, catalog))
        dropped_dimensions(metric, found, ignored, paths.__getitem__)
        value = None
        if item.value is not None:
            value = in_metric_unit(item.value, item.unit, metric, path, problems)
            if value is None:
                continue
        notes = _notes(meta, metric.name)
        if notes:
            document = blob_document("notes", notes)
            blobs[document["id"]] = document
            linked.append(document["id"])
        measurements.append(Measurement(metric.name, value, metric.unit,
                                        series_dimensions(metric, found), tuple(linked)))
    if problems:
        raise InvalidInput(list(dict.fromkeys(problems)), "invalid job")
    return ParsedSubmission(
        Submission(uuid.uuid4().hex, build, tuple(measurements),
                   received, blobs),
        new_metrics,
        capped(ignored),
    )


def _registered(job: JobIn, catalog: Catalog) -> tuple[Metric, ...]:
    """The document's own metric definitions that the catalog lacks, with their specs."""
    metrics = job.metrics if isinstance(job.metrics, list) else []
    specs = job.specs if isinstance(job.specs, list) else []
    for index, definition in enumerate(metrics):
        name = definition.get("name") if isinstance(definition, dict) else None
        known = catalog.get(str(name))
        if known is not None and known.source == "catalog":
            raise MetricConflict(f"metrics[{index}].name",
                                 f"{name} is defined in the catalog and cannot be redefined")
    return metrics_from_json(metrics, specs, catalog)


def _build(job: JobIn, catalog: Catalog, branch: str | None, problems: list[Problem]
           ) -> Build:
    env = job.meta.env
    refs = env.ci_refs.split() if isinstance(env.ci_refs, str) else (env.ci_refs or [])
    if branch is not None:
        check_tag_value(branch, "branch", problems)  # the query's ?branch=
    elif refs and refs[0]:
        check_tag_value(refs[0], "meta.env.ci_refs" + ("[0]" if isinstance(env.ci_refs, list)
                                                       else ""), problems)
    time = env.date
    if time is not None and time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    packages = tuple(
        Package(package.name or name, package.git_sha, package.git_url, package.eups_version)
        for name, package in sorted(job.meta.packages.items())
    )
    return Build(
        ci=env.ci_name, id=str(env.ci_id), branch=branch or (refs[0] if refs else None)
        or catalog.default_branch, time=time, url=env.ci_url, packages=packages,
    )


def _job_dimensions(meta: Mapping[str, Any], env: JobEnv, catalog: Catalog,
                    problems: list[Problem], paths: dict[str, str]) -> dict[str, str]:
    """Catalog dimensions found in `meta` or `meta.env`, under their name or an alias (the
    path of each goes in `paths`); each value must be fit for an InfluxDB tag, else a
    problem."""
    sources = {**env.model_dump(), **meta}
    found = {}
    for dimension in catalog.dimensions.values():
        for key in (dimension.name, *dimension.aliases):
            value = sources.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                path = f"meta.{key}" if key in meta else f"meta.env.{key}"
                paths[dimension.name] = path
                if check_tag_value(str(value), path, problems):
                    found[dimension.name] = str(value)
                break
    return found


def _how(key: str, catalog: Catalog) -> str:
    """Where a Job gives a dimension: meta or meta.env, under its name or an alias."""
    names = (key, *catalog.dimensions[key].aliases) if key in catalog.dimensions else (key,)
    return f"as {' or '.join(repr(name) for name in names)} in `meta` or `meta.env`"


def _notes(meta: Mapping[str, Any], metric: str) -> dict[str, dict[str, Any]]:
    """Per-measurement notes, flattened into meta as `<metric>.<key>`."""
    prefix = metric + "."
    return {key.removeprefix(prefix): {"value": value}
            for key, value in meta.items() if key.startswith(prefix)}
