"""GET /openapi.json: the OpenAPI 3.1 document of the HTTP API.

Request bodies come from the pydantic models the ingest parsers validate with; answers are
described as the handlers give them, errors included, so that a fuzzer can hold the API to
this document (tests/reliability/test_fuzz_api.py)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from flask import Blueprint
from flask.typing import ResponseReturnValue
from pydantic.json_schema import models_json_schema

from harness.catalog import Catalog
from harness.formats.job import JobIn
from harness.formats.native import SubmissionIn
from harness.web.api.openapi_parts import (
    ALERT_KINDS,
    ALERT_SEVERITIES,
    ALERT_STATES,
    ERROR_NAMES,
    ERROR_RESPONSES,
    REF,
    RESPONSE_SCHEMAS,
    RETRY_AFTER,
    SECURITY_SCHEMES,
    Schema,
    json_answer,
    obj,
    ref,
)
from harness.web.api.openapi_summaries import SUMMARY_PATHS, SUMMARY_SCHEMAS
from harness.web.context import context

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def document() -> ResponseReturnValue:
    """The OpenAPI document of every endpoint of the API."""
    ctx = context()
    return openapi_document(ctx.catalog, ctx.settings.max_measurements)


def openapi_document(catalog: Catalog, max_measurements: int) -> Schema:
    """The document for this catalog (its dimensions are query arguments of the series)."""
    schemas = {**_request_schemas(), **RESPONSE_SCHEMAS, **SUMMARY_SCHEMAS}
    for name in ("SubmissionIn", "JobIn"):
        measurements = dict(schemas[name]["properties"]["measurements"])
        schemas[name] = {**schemas[name], "properties": {
            **schemas[name]["properties"],
            "measurements": {**measurements, "maxItems": max_measurements}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Metric harness", "version": "1",
                 "description": "Continuous metric verification: ingest, series, builds, "
                                "alerts, reports, and the SQuaSH client protocol."},
        "paths": {**_paths(catalog), **SUMMARY_PATHS},
        "components": {"schemas": schemas, "responses": ERROR_RESPONSES,
                       "securitySchemes": SECURITY_SCHEMES},
    }


@cache
def _request_schemas() -> Schema:
    """The pydantic models of both ingest formats as components."""
    _, top = models_json_schema([(SubmissionIn, "validation"), (JobIn, "validation")],
                                ref_template=REF)
    return dict(top["$defs"])


# --- building blocks -----------------------------------------------------------------

def _errors(*codes: int) -> Schema:
    return {str(code): {"$ref": f"#/components/responses/{ERROR_NAMES[code]}"}
            for code in codes}


def _operation(summary: str, responses: Schema, *, tag: str, parameters: Sequence[Schema] = (),
               security: list[Schema] | None = None, body: Schema | None = None,
               body_required: bool = True) -> Schema:
    operation: Schema = {"summary": summary, "tags": [tag], "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if security is not None:
        operation["security"] = security
    if body is not None:
        operation["requestBody"] = {"required": body_required,
                                    "content": {"application/json": {"schema": body}}}
    return operation


def _path(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string", "minLength": 1}}


def _query(name: str, description: str, schema: Schema | None = None,
           required: bool = False) -> Schema:
    parameter = {"name": name, "in": "query", "required": required,
                 "description": description, "schema": schema or {"type": "string"}}
    if (schema or {}).get("type") == "array":
        parameter |= {"style": "form", "explode": True}
    return parameter


INGEST = [{"bearer": ["ingest"]}]
TRIAGE = [{"bearer": ["triage"]}]
QUEUED = ("queued for judging; `ignored` lists the keys that were dropped (a dimension the "
          "measurement's metric does not declare); a missing declared dimension is a 422")
FORMAT = _query("format", "`json` (default) or `md` (Markdown)",
                {"type": "string", "enum": ["json", "md"]})
CI = _path("ci", "the CI system that ran the build, e.g. `jenkins`")
BUILD_ID = _path("build_id", "the build's id within its CI (may contain `/`)")


def _paths(catalog: Catalog) -> Schema:
    dimensions = [_query(name, dimension.description or f"the {name} dimension")
                  for name, dimension in catalog.dimensions.items()]
    report = {"200": {"description": "the report (schema harness.report/1), or Markdown",
                      "content": {"application/json": {"schema": ref("Report")},
                                  "text/markdown": {"schema": {"type": "string"}}}},
              **_errors(404, 422, 503)}
    return {
        "/api/v1/submissions": {
            "post": _operation(
                "Submit a build's measurements (native format)",
                {"202": json_answer(QUEUED, ref("Accepted")),
                 **_errors(400, 401, 403, 409, 413, 422, 503)},
                tag="ingest", security=INGEST, body=ref("SubmissionIn")),
            "get": _operation(
                "The submissions of a document, by the SHA-256 of its canonical JSON",
                {"200": json_answer("the submissions made of that document", ref("Found")),
                 **_errors(422, 503)},
                tag="ingest", parameters=[_query(
                    "digest", "SHA-256 (hex) of the document's canonical JSON",
                    {"type": "string", "pattern": "^[0-9a-f]{64}$"}, required=True)]),
        },
        "/api/v1/jobs": {
            "post": _operation(
                "Submit an lsst.verify Job JSON document",
                {"202": json_answer(QUEUED, ref("Accepted")),
                 **_errors(400, 401, 403, 409, 413, 422, 503)},
                tag="ingest", security=INGEST, body=ref("JobIn"), parameters=[
                    _query("branch", "the build's branch (default: meta.env.ci_refs, "
                                     "else the catalog's default branch)"),
                    _query("register", "`true` registers the document's own metrics and "
                                       "specs (needs the admin scope)")]),
        },
        "/api/v1/submissions/{submission_id}": {
            "get": _operation(
                "The state of a submission, with its results once judged",
                {"200": json_answer("the submission's status", ref("SubmissionStatus")),
                 **_errors(404, 503)},
                tag="ingest", parameters=[_path("submission_id", "the id a 202 answered")]),
        },
        "/api/v1/metrics": {
            "get": _operation("The catalog", {"200": json_answer("every metric", ref("Catalog")),
                                              **_errors(503)}, tag="metrics"),
        },
        "/api/v1/metrics/{metric_name}": {
            "get": _operation(
                "One metric of the catalog",
                {"200": json_answer("the metric", ref("Metric")), **_errors(404, 503)},
                tag="metrics", parameters=[_path("metric_name", "e.g. `validate_drp.PA1`")]),
        },
        "/api/v1/metrics/{metric_name}/series": {
            "get": _operation(
                "The stored points of each series of a metric matching the query",
                {"200": {"description": "the series, or one of them as CSV for `harness "
                                        "replay`",
                         "content": {"application/json": {"schema": ref("SeriesList")},
                                     "text/csv": {"schema": {"type": "string"}}}},
                 **_errors(404, 422, 503)},
                tag="metrics", parameters=[
                    _path("metric_name", "e.g. `validate_drp.PA1`"),
                    _query("branch", "default: the catalog's default branch"),
                    _query("format", "`json` (default) or `csv` (one series)",
                           {"type": "string", "enum": ["json", "csv"]}),
                    _query("since", "only points at or after this time",
                           {"type": "string", "format": "date-time"}),
                    *dimensions]),
        },
        "/api/v1/builds/{ci}/{build_id}": {
            "get": _operation(
                "A build with its results and its changes against the previous build",
                {"200": json_answer("the build", ref("BuildDetail")), **_errors(404, 503)},
                tag="builds", parameters=[CI, BUILD_ID]),
        },
        "/api/v1/blobs/{blob_id}": {
            "get": _operation(
                "A measurement's detail data", {"200": json_answer("the blob", ref("Blob")),
                                                **_errors(404)},
                tag="builds", parameters=[_path("blob_id", "SHA-256 of the blob (hex)")]),
        },
        "/api/v1/alerts": {
            "get": _operation(
                "Alerts, newest first, a page at a time; any other query parameter is a 422",
                {"200": json_answer("a page of the alerts; `total` counts every match, "
                                    "`links.next` is the next page while there is one",
                                    ref("AlertList")), **_errors(422, 503)},
                tag="alerts", parameters=[
                    _query("state", "only alerts in this state",
                           {"type": "string", "enum": list(ALERT_STATES)}),
                    _query("metric", "only alerts of this metric"),
                    _query("kind", "only alerts of this kind",
                           {"type": "string", "enum": list(ALERT_KINDS)}),
                    _query("severity", "only alerts of this severity",
                           {"type": "string", "enum": list(ALERT_SEVERITIES)}),
                    _query("build", "only alerts noticed in this build, `<ci>/<id>`",
                           {"type": "string", "pattern": "^[^/]+/.+$"}),
                    _query("branch", "only alerts of this branch"),
                    _query("limit", "alerts per page",
                           {"type": "integer", "minimum": 1, "maximum": 1000,
                            "default": 100}),
                    _query("offset", "alerts to skip",
                           {"type": "integer", "minimum": 0, "maximum": 1_000_000_000,
                            "default": 0})]),
        },
        "/api/v1/alerts/{alert_id}": {
            "get": _operation(
                "One alert with its history of state changes",
                {"200": json_answer("the alert", ref("Alert")), **_errors(404, 503)},
                tag="alerts", parameters=[_path("alert_id", "the alert's id")]),
        },
        "/api/v1/alerts/{alert_id}/{action}": {
            "post": _operation(
                "Triage an alert; 409 when its state does not allow the action",
                {"200": json_answer("the alert in its new state", ref("Alert")),
                 **_errors(401, 403, 404, 409, 413, 422, 503)},
                tag="alerts", security=TRIAGE, body_required=False,
                body={"type": "object", "properties": {
                    "note": {"type": "string", "maxLength": 2000}}},
                parameters=[
                    _path("alert_id", "the alert's id"),
                    _path("action", "what to do (anything else: 404)", {
                        "type": "string", "enum": ["acknowledge", "resolve", "invalidate"]})]),
        },
        "/api/v1/scans/{name}": {
            "post": _operation(
                "Run a scheduled check now; alerts appear when it is done",
                {"202": json_answer("queued", ref("ScanQueued")), **_errors(401, 403, 404, 503)},
                tag="alerts", security=TRIAGE, parameters=[_path(
                    "name", "the check (anything else: 404)",
                    {"type": "string", "enum": ["missing", "change-points"]})]),
        },
        "/api/v1/report/{ci}/{build_id}": {
            "get": _operation("The verification report of a build", report, tag="reports",
                              parameters=[CI, BUILD_ID, FORMAT]),
        },
        "/api/v1/report": {
            "get": _operation(
                "The report of a set of builds, or of the latest build of each dataset "
                "on a branch", report, tag="reports", parameters=[
                    _query("build", "`ci/id` of a build to report on (repeatable)",
                           {"type": "array", "maxItems": 100,
                            "items": {"type": "string", "pattern": "^[^/]+/.+$"}}),
                    _query("branch", "the latest build of each dataset on this branch"),
                    _query("until", "with branch: builds at or before this time",
                           {"type": "string", "format": "date-time"}),
                    _query("name", "the report's name",
                           {"type": "string", "minLength": 1, "maxLength": 200}),
                    FORMAT]),
        },
        "/api/v1/openapi.json": {
            "get": _operation("This document", {"200": json_answer("the OpenAPI document", {
                "type": "object", "required": ["openapi", "paths"]})}, tag="meta"),
        },
        "/healthz": {
            "get": _operation(
                "Each component: web, broker, store, workers; 200 only when all answer",
                {"200": json_answer("all components answer", ref("Health")),
                 "503": json_answer("a component does not answer, or the queue is over its limit",
                              ref("Health"), RETRY_AFTER)}, tag="meta"),
        },
        "/squash/": {
            "get": _operation("Endpoint discovery (lsst.verify.squash)",
                              {"200": json_answer("the endpoints", ref("SquashRoot"))},
                              tag="squash"),
        },
        "/squash/auth": {
            "post": _operation(
                "Trade an API token's name and secret for a short-lived access token",
                {"200": json_answer("the access token", ref("SquashToken")),
                 **_errors(400, 401, 413)}, tag="squash",
                body=obj({"username": {"type": "string"},
                              "password": {"type": "string"}})),
        },
        "/squash/job": {
            "post": _operation(
                "Submit a Job JSON document (as /api/v1/jobs)",
                {"202": json_answer(QUEUED, ref("SquashAccepted")),
                 **_errors(400, 401, 403, 413, 422, 503)},
                tag="squash", security=[{"squash": []}], body=ref("JobIn")),
        },
    }
