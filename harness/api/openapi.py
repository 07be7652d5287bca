"""GET /openapi.json: the OpenAPI 3.1 document of the HTTP API.

Request bodies come from the pydantic models the ingest parsers validate with; answers are
described as the handlers give them, errors included, so that a fuzzer can hold the API to
this document (tests/reliability/test_fuzz_api.py)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue
from pydantic.json_schema import models_json_schema

from harness.api.context import context
from harness.catalog import Catalog
from harness.formats.job import JobIn
from harness.formats.native import SubmissionIn

bp = Blueprint("openapi", __name__)
Schema = dict[str, Any]
REF = "#/components/schemas/{model}"


@bp.get("/openapi.json")
def document() -> ResponseReturnValue:
    """The OpenAPI document of every endpoint of the API."""
    ctx = context()
    return openapi_document(ctx.catalog, ctx.settings.max_measurements)


def openapi_document(catalog: Catalog, max_measurements: int) -> Schema:
    """The document for this catalog (its dimensions are query arguments of the series)."""
    schemas = {**_request_schemas(), **RESPONSE_SCHEMAS}
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
        "paths": _paths(catalog),
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

def _ref(name: str) -> Schema:
    return {"$ref": REF.format(model=name)}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {"type": "object", "required": list(required),
            "properties": {**required, **(optional or {})}}


def _json(description: str, schema: Schema, headers: Schema | None = None) -> Schema:
    answer: Schema = {"description": description,
                      "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


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
FORMAT = _query("format", "`json` (default) or `md` (Markdown)",
                {"type": "string", "enum": ["json", "md"]})
CI = _path("ci", "the CI system that ran the build, e.g. `jenkins`")
BUILD_ID = _path("build_id", "the build's id within its CI (may contain `/`)")


def _paths(catalog: Catalog) -> Schema:
    dimensions = [_query(name, dimension.description or f"the {name} dimension")
                  for name, dimension in catalog.dimensions.items()]
    report = {"200": {"description": "the report (schema harness.report/1), or Markdown",
                      "content": {"application/json": {"schema": _ref("Report")},
                                  "text/markdown": {"schema": {"type": "string"}}}},
              **_errors(404, 422, 503)}
    return {
        "/api/v1/submissions": {
            "post": _operation(
                "Submit a build's measurements (native format)",
                {"202": _json("queued for judging", _ref("Accepted")),
                 **_errors(400, 401, 403, 409, 413, 422, 503)},
                tag="ingest", security=INGEST, body=_ref("SubmissionIn")),
            "get": _operation(
                "The submissions of a document, by the SHA-256 of its canonical JSON",
                {"200": _json("the submissions made of that document", _ref("Found")),
                 **_errors(422, 503)},
                tag="ingest", parameters=[_query(
                    "digest", "SHA-256 (hex) of the document's canonical JSON",
                    {"type": "string", "pattern": "^[0-9a-f]{64}$"}, required=True)]),
        },
        "/api/v1/jobs": {
            "post": _operation(
                "Submit an lsst.verify Job JSON document",
                {"202": _json("queued for judging", _ref("Accepted")),
                 **_errors(400, 401, 403, 409, 413, 422, 503)},
                tag="ingest", security=INGEST, body=_ref("JobIn"), parameters=[
                    _query("branch", "the build's branch (default: meta.env.ci_refs, "
                                     "else the catalog's default branch)"),
                    _query("register", "`true` registers the document's own metrics and "
                                       "specs (needs the admin scope)")]),
        },
        "/api/v1/submissions/{submission_id}": {
            "get": _operation(
                "The state of a submission, with its results once judged",
                {"200": _json("the submission's status", _ref("SubmissionStatus")),
                 **_errors(404, 503)},
                tag="ingest", parameters=[_path("submission_id", "the id a 202 answered")]),
        },
        "/api/v1/metrics": {
            "get": _operation("The catalog", {"200": _json("every metric", _ref("Catalog")),
                                              **_errors(503)}, tag="metrics"),
        },
        "/api/v1/metrics/{metric_name}": {
            "get": _operation(
                "One metric of the catalog",
                {"200": _json("the metric", _ref("Metric")), **_errors(404, 503)},
                tag="metrics", parameters=[_path("metric_name", "e.g. `validate_drp.PA1`")]),
        },
        "/api/v1/metrics/{metric_name}/series": {
            "get": _operation(
                "The stored points of each series of a metric matching the query",
                {"200": _json("the series", _ref("SeriesList")), **_errors(404, 422, 503)},
                tag="metrics", parameters=[
                    _path("metric_name", "e.g. `validate_drp.PA1`"),
                    _query("branch", "default: the catalog's default branch"),
                    _query("since", "only points at or after this time",
                           {"type": "string", "format": "date-time"}),
                    *dimensions]),
        },
        "/api/v1/builds/{ci}/{build_id}": {
            "get": _operation(
                "A build with its results and its changes against the previous build",
                {"200": _json("the build", _ref("BuildDetail")), **_errors(404, 503)},
                tag="builds", parameters=[CI, BUILD_ID]),
        },
        "/api/v1/blobs/{blob_id}": {
            "get": _operation(
                "A measurement's detail data", {"200": _json("the blob", _ref("Blob")),
                                                **_errors(404)},
                tag="builds", parameters=[_path("blob_id", "SHA-256 of the blob (hex)")]),
        },
        "/api/v1/alerts": {
            "get": _operation(
                "Alerts, newest first",
                {"200": _json("the alerts", _object({"alerts": {
                    "type": "array", "items": _ref("Alert")}})), **_errors(422, 503)},
                tag="alerts", parameters=[
                    _query("state", "only alerts in this state",
                           {"type": "string", "enum": list(ALERT_STATES)}),
                    _query("metric", "only alerts of this metric"),
                    _query("kind", "only alerts of this kind")]),
        },
        "/api/v1/alerts/{alert_id}": {
            "get": _operation(
                "One alert with its history of state changes",
                {"200": _json("the alert", _ref("Alert")), **_errors(404, 503)},
                tag="alerts", parameters=[_path("alert_id", "the alert's id")]),
        },
        "/api/v1/alerts/{alert_id}/{action}": {
            "post": _operation(
                "Triage an alert; 409 when its state does not allow the action",
                {"200": _json("the alert in its new state", _ref("Alert")),
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
                {"202": _json("queued", _ref("ScanQueued")), **_errors(401, 403, 404, 503)},
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
            "get": _operation("This document", {"200": _json("the OpenAPI document", {
                "type": "object", "required": ["openapi", "paths"]})}, tag="meta"),
        },
        "/healthz": {
            "get": _operation(
                "Each component: web, broker, store, workers; 200 only when all answer",
                {"200": _json("all components answer", _ref("Health")),
                 "503": _json("a component does not answer, or the queue is over its limit",
                              _ref("Health"), RETRY_AFTER)}, tag="meta"),
        },
        "/squash/": {
            "get": _operation("Endpoint discovery (lsst.verify.squash)",
                              {"200": _json("the endpoints", _ref("SquashRoot"))},
                              tag="squash"),
        },
        "/squash/auth": {
            "post": _operation(
                "Trade an API token's name and secret for a short-lived access token",
                {"200": _json("the access token", _ref("SquashToken")),
                 **_errors(400, 401, 413)}, tag="squash",
                body=_object({"username": {"type": "string"},
                              "password": {"type": "string"}})),
        },
        "/squash/job": {
            "post": _operation(
                "Submit a Job JSON document (as /api/v1/jobs)",
                {"202": _json("queued for judging", _ref("SquashAccepted")),
                 **_errors(400, 401, 403, 413, 422, 503)},
                tag="squash", security=[{"squash": []}], body=_ref("JobIn")),
        },
    }


# --- answers ---------------------------------------------------------------------------

ALERT_STATES = ("open", "acknowledged", "resolved", "invalid")
VERDICTS = ["stretch", "design", "minimum", "fail", "none"]
STRING = {"type": "string"}
NUMBER_OR_NULL = {"type": ["number", "null"]}
STRING_OR_NULL = {"type": ["string", "null"]}
TAGS = {"type": "object", "additionalProperties": STRING}
STRINGS = {"type": "array", "items": STRING}

ERROR = _object({"error": STRING}, {"details": {"type": "array", "items": _object(
    {"path": STRING, "message": STRING})}})
RETRY_AFTER = {"Retry-After": {"required": True, "description": "seconds to wait",
                               "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
ERROR_NAMES = {400: "Malformed", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
               409: "Conflict", 413: "TooLarge", 422: "Invalid", 503: "Unavailable"}
ERROR_RESPONSES = {
    "Malformed": _json("the body is not JSON, or not sent as application/json", _ref("Error")),
    "Unauthorized": _json("no token, or an unknown one", _ref("Error"), {
        "WWW-Authenticate": {"required": True, "schema": STRING}}),
    "Forbidden": _json("the token lacks the scope this needs", _ref("Error")),
    "NotFound": _json("no such resource", _ref("Error")),
    "Conflict": _json("a metric definition that would redefine a known metric, or a "
                      "triage step the alert's state does not allow", _ref("Error")),
    "TooLarge": _json("the body is over HARNESS_MAX_BODY_BYTES", _ref("Error")),
    "Invalid": _json("invalid input; each problem names its path", _ref("Error")),
    "Unavailable": _json("the broker or the store does not answer; retry later",
                         _ref("Error"), RETRY_AFTER),
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "an API token (HARNESS_API_TOKENS); scopes ingest, triage, "
                              "admin (admin may do everything)"},
    "squash": {"type": "apiKey", "in": "header", "name": "Authorization",
               "description": "`JWT <access_token>`, the token from POST /squash/auth"},
}

PACKAGE = _object({"name": STRING}, {"commit": STRING_OR_NULL, "url": STRING_OR_NULL,
                                     "version": STRING_OR_NULL})
PULL_REQUEST = _object({"number": {"type": "integer"}},
                       {"url": STRING_OR_NULL, "base": STRING_OR_NULL})
SPEC = _object({"name": STRING, "level": STRING, "operator": STRING,
                "threshold": {"type": "number"}},
               {"metadata_query": {"type": "object", "additionalProperties": STRINGS},
                "tags": STRINGS})
EVENT = _object({"event": STRING}, {"time": STRING, "actor": STRING, "note": STRING})
RESULT = _object(
    {"metric": STRING, "dimensions": TAGS, "value": NUMBER_OR_NULL, "unit": STRING,
     "verdict": {"enum": VERDICTS}},
    {"spec": STRING_OR_NULL, "excursion": {"type": ["object", "null"]}, "blobs": STRINGS})
STORED_BUILD = _object(
    {"ci": STRING, "id": STRING, "branch": STRING, "time": STRING, "packages": {
        "type": "array", "items": PACKAGE}},
    {"url": STRING_OR_NULL, "commit": STRING_OR_NULL, "pull_request": PULL_REQUEST,
     "links": _object({"self": STRING}), "datasets": STRINGS})
BUILD_REF = _object({"ci": STRING, "id": STRING, "branch": STRING, "time": STRING})
STEP = _object({"level": STRING, "spec": STRING, "operator": STRING,
                "threshold": {"type": "number"}, "distance": {"type": "number"},
                "fraction": {"type": "number"}})
CELL = _object(
    {"metric": STRING, "dimensions": TAGS, "value": NUMBER_OR_NULL, "unit": STRING,
     "verdict": {"enum": VERDICTS}, "build": BUILD_REF},
    {"met": _nullable(STEP), "next": _nullable(STEP), "previous": {"type": ["object", "null"]}})
STATUSES = ["stretch", "design", "minimum", "failed", "not_measured", "no_spec"]

RESPONSE_SCHEMAS: Schema = {
    "Error": ERROR,
    "Accepted": _object({"submission": STRING, "status_url": STRING}),
    "SquashAccepted": _object({"message": STRING, "submission": STRING, "status_url": STRING}),
    "Found": _object({"submissions": {"type": "array", "items": _object(
        {"submission": STRING, "state": STRING, "status_url": STRING})}}),
    "SubmissionStatus": _object(
        {"submission": STRING, "state": {"enum": ["queued", "done", "failed"]},
         "build": _object({"ci": STRING, "id": STRING, "branch": STRING}, {
             "time": STRING_OR_NULL, "url": STRING_OR_NULL, "commit": STRING_OR_NULL,
             "pull_request": _nullable(PULL_REQUEST),
             "packages": {"type": "array", "items": PACKAGE}}),
         "results": {"type": "array", "items": RESULT},
         "alerts": {"type": "array", "items": _ref("Alert")}},
        {"time": STRING, "error": STRING}),
    "Alert": _object(
        {"id": STRING, "kind": {"enum": ["regression", "improvement", "spec", "missing",
                                         "changepoint"]},
         "severity": {"enum": ["critical", "warning", "info"]}, "metric": STRING,
         "dimensions": TAGS, "branch": STRING, "build_ci": STRING, "build_id": STRING,
         "time": STRING, "reason": STRING, "state": {"enum": list(ALERT_STATES)}},
        {"unit": STRING, "value": NUMBER_OR_NULL, "baseline": NUMBER_OR_NULL,
         "change": NUMBER_OR_NULL, "relative_change": NUMBER_OR_NULL,
         "spec": STRING_OR_NULL, "threshold": NUMBER_OR_NULL, "build_url": STRING_OR_NULL,
         "commit": STRING_OR_NULL, "pull_request": {"type": ["object", "null"]},
         "started_build": STRING_OR_NULL, "started_time": STRING_OR_NULL,
         "changes": {"type": "array", "items": {"type": "object"}},
         "history": {"type": "array", "items": EVENT},
         "links": _object({"self": STRING, "build": STRING, "dashboard": STRING})}),
    "Metric": _object(
        {"name": STRING, "unit": STRING, "better": {"enum": ["lower", "higher"]},
         "description": STRING, "dimensions": STRINGS, "specs": {"type": "array",
                                                                  "items": SPEC}},
        {"requirements": STRINGS, "tags": STRINGS, "reference": {"type": "object"},
         "source": {"enum": ["catalog", "inline"]}, "cadence_s": NUMBER_OR_NULL}),
    "Catalog": _object(
        {"metrics": {"type": "array", "items": _ref("Metric")},
         "dimensions": {"type": "object", "additionalProperties": _object(
             {"description": STRING, "aliases": STRINGS})},
         "default_branch": STRING}),
    "SeriesList": _object(
        {"metric": STRING, "unit": STRING, "better": {"enum": ["lower", "higher"]},
         "branch": STRING, "series": {"type": "array", "items": _object(
             {"dimensions": TAGS, "points": {"type": "array", "items": _object(
                 {"time": STRING, "value": NUMBER_OR_NULL,
                  "build": _object({"ci": STRING_OR_NULL, "id": STRING_OR_NULL,
                                    "link": STRING},
                                   {"url": STRING_OR_NULL, "commit": STRING_OR_NULL})},
                 {"verdict": STRING_OR_NULL, "spec": STRING_OR_NULL,
                  "submission": STRING_OR_NULL, "pull_request": _object(
                      {"number": {"type": "integer"}},
                      {"url": STRING_OR_NULL, "base": STRING_OR_NULL})})}})}}),
    "BuildDetail": _object(
        {"build": STORED_BUILD, "results": {"type": "array", "items": _object(
            {"metric": STRING, "dimensions": TAGS, "value": NUMBER_OR_NULL},
            {"unit": STRING_OR_NULL, "verdict": STRING_OR_NULL, "spec": STRING_OR_NULL})},
         "previous": _nullable(STORED_BUILD),
         "changes": {"type": "array", "items": _object(
             {"package": STRING, "kind": {"enum": ["added", "removed", "changed"]}},
             {"from": STRING_OR_NULL, "to": STRING_OR_NULL, "url": STRING_OR_NULL,
              "compare_url": STRING})}}),
    "Blob": _object({"id": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "name": STRING,
                     "data": {"type": "object"}}, {"identifier": STRING}),
    "ScanQueued": _object({"scan": STRING, "queued": {"type": "boolean"},
                           "alerts_url": STRING}),
    "Report": _object(
        {"schema": {"const": "harness.report/1"}, "title": STRING,
         "scope": _object({"kind": {"enum": ["build", "release"]}}),
         "builds": {"type": "array", "items": STORED_BUILD},
         "summary": _object({"requirements": {"type": "integer"},
                             "counts": {"type": "object", "additionalProperties": {
                                 "type": "integer"}}},
                            {"verified_at_least": {"type": "object"},
                             "fractions": {"type": "object"}}),
         "requirements": {"type": "array", "items": _object(
             {"id": STRING, "status": {"enum": STATUSES}, "metrics": STRINGS,
              "cells": {"type": "array", "items": CELL}},
             {"title": STRING, "document": STRING, "url": STRING, "label": STRING,
              "previous_status": {"enum": [*STATUSES, None]},
              "worst_cell": {"type": ["integer", "null"]}})},
         "changes": _object({"newly_failing": STRINGS, "newly_passing": STRINGS},
                            {"previous_builds": {"type": ["array", "null"]},
                             "requirements": {"type": "array"}})},
        {"links": _object({"self": STRING, "html": STRING})}),
    "Health": _object({"ok": {"type": "boolean"}, "components": {
        "type": "object", "required": ["web", "broker", "store", "workers"],
        "additionalProperties": _object({"ok": {"type": "boolean"}})}}),
    "SquashRoot": _object({"auth": STRING, "job": STRING}, {"metrics": STRING}),
    "SquashToken": _object({"access_token": STRING, "token_type": STRING,
                            "expires_in": {"type": "integer"}}),
}
