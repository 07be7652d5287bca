"""The schemas of the answers in the OpenAPI document (harness/web/api/openapi.py): the
shapes the handlers give, errors included."""

from __future__ import annotations

from typing import Any, get_args

from harness.alerting.alerts import AlertKind, AlertState, Severity

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": REF.format(model=name)}


def nullable(schema: Schema) -> Schema:
    """The schema, or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these required and optional properties."""
    return {"type": "object", "required": list(required),
            "properties": {**required, **(optional or {})}}


def json_answer(description: str, schema: Schema, headers: Schema | None = None) -> Schema:
    """A JSON answer with this schema (and headers)."""
    answer: Schema = {"description": description,
                      "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


# --- answers ---------------------------------------------------------------------------

ALERT_STATES: tuple[str, ...] = get_args(AlertState)
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)
ALERT_SEVERITIES: tuple[str, ...] = get_args(Severity)
VERDICTS = ["stretch", "design", "minimum", "fail", "none"]
STRING = {"type": "string"}
NUMBER_OR_NULL = {"type": ["number", "null"]}
STRING_OR_NULL = {"type": ["string", "null"]}
TAGS = {"type": "object", "additionalProperties": STRING}
STRINGS = {"type": "array", "items": STRING}

ERROR = obj({"error": STRING}, {"details": {"type": "array", "items": obj(
    {"path": STRING, "message": STRING})}})
# keys a valid submission gave that were dropped, e.g. a dimension its metric does not declare
IGNORED = {"type": "array", "description": "keys that were dropped, each at its path; absent "
                                           "when none were", "items": obj(
    {"path": STRING, "message": STRING})}
RETRY_AFTER = {"Retry-After": {"required": True, "description": "seconds to wait",
                               "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
ERROR_NAMES = {400: "Malformed", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
               409: "Conflict", 413: "TooLarge", 422: "Invalid", 503: "Unavailable"}
ERROR_RESPONSES = {
    "Malformed": json_answer("the body is not JSON, or not sent as application/json", ref("Error")),
    "Unauthorized": json_answer("no token, or an unknown one", ref("Error"), {
        "WWW-Authenticate": {"required": True, "schema": STRING}}),
    "Forbidden": json_answer("the token lacks the scope this needs", ref("Error")),
    "NotFound": json_answer("no such resource", ref("Error")),
    "Conflict": json_answer("a metric definition that would redefine a known metric, or a "
                      "triage step the alert's state does not allow", ref("Error")),
    "TooLarge": json_answer("the body is over HARNESS_MAX_BODY_BYTES", ref("Error")),
    "Invalid": json_answer("invalid input; each problem names its path", ref("Error")),
    "Unavailable": json_answer("the broker or the store does not answer; retry later",
                         ref("Error"), RETRY_AFTER),
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "an API token (HARNESS_API_TOKENS); scopes ingest, triage, "
                              "admin (admin may do everything)"},
    "squash": {"type": "apiKey", "in": "header", "name": "Authorization",
               "description": "`JWT <access_token>`, the token from POST /squash/auth"},
}

PACKAGE = obj({"name": STRING}, {"commit": STRING_OR_NULL, "url": STRING_OR_NULL,
                                     "version": STRING_OR_NULL})
PULL_REQUEST = obj({"number": {"type": "integer"}},
                       {"url": STRING_OR_NULL, "base": STRING_OR_NULL})
SPEC = obj({"name": STRING, "level": STRING, "operator": STRING,
                "threshold": {"type": "number"}},
               {"metadata_query": {"type": "object", "additionalProperties": STRINGS},
                "tags": STRINGS})
NUMBER = {"type": "number"}
INTEGER = {"type": "integer", "minimum": 1}
DETECTION_SETTINGS: Schema = {
    "threshold": NUMBER, "pr_threshold": NUMBER, "min_relative": NUMBER, "min_absolute": NUMBER,
    "persistence": INTEGER, "window": INTEGER, "span": INTEGER,
    "scan": {"type": "array", "items": INTEGER, "minItems": 1}, "min_history": INTEGER,
    "noise_window": INTEGER,
}
DETECTION = obj({"enabled": {"type": "boolean"}, "settings": obj(DETECTION_SETTINGS),
                 "overrides": {"type": "object", "properties": DETECTION_SETTINGS,
                               "additionalProperties": False}})
EVENT = obj({"event": STRING}, {
    "time": STRING, "actor": STRING, "note": STRING,
    "summary": {"type": "string", "description": "reassigned, owned: the summary's id"},
    "relation": {"enum": ["member", "downstream"], "description": "reassigned"},
    "assignee": {"type": "string", "description": "owned (empty: none)"},
    "bug_url": {"type": "string", "description": "owned (empty: none)"}})
NUMBER = {"type": "number"}
EXCURSION = nullable(obj(
    {"decision": {"enum": ["ok", "regression", "improvement", "insufficient"]},
     "baseline": NUMBER, "noise": NUMBER, "change": NUMBER, "score": NUMBER,
     "started": {"type": "integer"}, "threshold": NUMBER,
     "test": {"enum": ["history", "base"]}, "needed": {"type": "integer"}},
    {"relative_change": NUMBER_OR_NULL}))
RESULT = obj(
    {"metric": STRING, "dimensions": TAGS, "value": NUMBER_OR_NULL, "unit": STRING,
     "verdict": {"enum": VERDICTS}},
    {"spec": STRING_OR_NULL, "excursion": EXCURSION, "blobs": STRINGS,
     "samples": obj({"count": {"type": "integer"}, "spread": NUMBER})})
# a build whose points the branch retention deleted (HARNESS_BRANCH_RETENTION_DAYS)
EXPIRED = obj({"after_days": {"type": "integer"}, "message": STRING})
STORED_BUILD = obj(
    {"ci": STRING, "id": STRING, "branch": STRING, "time": STRING, "packages": {
        "type": "array", "items": PACKAGE}},
    {"url": STRING_OR_NULL, "commit": STRING_OR_NULL, "pull_request": PULL_REQUEST,
     "links": obj({"self": STRING}), "datasets": STRINGS, "expired": EXPIRED})
BUILD_REF = obj({"ci": STRING, "id": STRING, "branch": STRING, "time": STRING})
STEP = obj({"level": STRING, "spec": STRING, "operator": STRING,
                "threshold": {"type": "number"}, "distance": {"type": "number"},
                "fraction": {"type": "number"}})
CELL = obj(
    {"metric": STRING, "dimensions": TAGS, "value": NUMBER_OR_NULL, "unit": STRING,
     "verdict": {"enum": VERDICTS}, "build": BUILD_REF},
    {"met": nullable(STEP), "next": nullable(STEP), "previous": {"type": ["object", "null"]}})
STATUSES = ["stretch", "design", "minimum", "failed", "not_measured", "no_spec"]

RESPONSE_SCHEMAS: Schema = {
    "Error": ERROR,
    "Accepted": obj({"submission": STRING, "status_url": STRING}, {"ignored": IGNORED}),
    "SquashAccepted": obj({"message": STRING, "submission": STRING, "status_url": STRING},
                          {"ignored": IGNORED}),
    "Found": obj({"submissions": {"type": "array", "items": obj(
        {"submission": STRING, "state": STRING, "status_url": STRING})}}),
    "SubmissionStatus": obj(
        {"submission": STRING, "state": {"enum": ["queued", "done", "failed"]},
         "build": obj({"ci": STRING, "id": STRING, "branch": STRING}, {
             "time": STRING_OR_NULL, "url": STRING_OR_NULL, "commit": STRING_OR_NULL,
             "pull_request": nullable(PULL_REQUEST),
             "packages": {"type": "array", "items": PACKAGE}}),
         "results": {"type": "array", "items": RESULT},
         "alerts": {"type": "array", "items": ref("Alert")}},
        {"time": STRING, "error": STRING}),
    "Alert": obj(
        {"id": STRING, "kind": {"enum": list(ALERT_KINDS)},
         "severity": {"enum": list(ALERT_SEVERITIES)}, "metric": STRING,
         "dimensions": TAGS, "branch": STRING, "build_ci": STRING, "build_id": STRING,
         "time": STRING, "reason": STRING, "state": {"enum": list(ALERT_STATES)}},
        {"unit": STRING, "value": NUMBER_OR_NULL, "baseline": NUMBER_OR_NULL,
         "change": NUMBER_OR_NULL, "relative_change": NUMBER_OR_NULL,
         "spec": STRING_OR_NULL, "threshold": NUMBER_OR_NULL, "build_url": STRING_OR_NULL,
         "commit": STRING_OR_NULL, "pull_request": {"type": ["object", "null"]},
         "started_build": STRING_OR_NULL, "started_time": STRING_OR_NULL,
         "changes": {"type": "array", "items": {"type": "object"}},
         "history": {"type": "array", "items": EVENT},
         "reassigned": obj({"summary": STRING, "relation": {"enum": ["member", "downstream"]}}),
         "links": obj({"self": STRING, "build": STRING, "dashboard": STRING},
                      {"summary": STRING})}),
    "AlertList": obj(
        {"alerts": {"type": "array", "items": ref("Alert")},
         "total": {"type": "integer", "minimum": 0},
         "links": obj({}, {"next": STRING})}),
    "Metric": obj(
        {"name": STRING, "unit": STRING, "better": {"enum": ["lower", "higher"]},
         "description": STRING, "dimensions": STRINGS, "specs": {"type": "array",
                                                                  "items": SPEC}},
        {"requirements": STRINGS, "tags": STRINGS, "reference": {"type": "object"},
         "optional_dimensions": STRINGS,  # of `dimensions`: a measurement may omit them
         "source": {"enum": ["catalog", "inline"]}, "cadence_s": NUMBER_OR_NULL,
         "detection": DETECTION}),
    "Catalog": obj(
        {"metrics": {"type": "array", "items": ref("Metric")},
         "dimensions": {"type": "object", "additionalProperties": obj(
             {"description": STRING, "aliases": STRINGS})},
         "default_branch": STRING}),
    "SeriesList": obj(
        {"metric": STRING, "unit": STRING, "better": {"enum": ["lower", "higher"]},
         "branch": STRING, "series": {"type": "array", "items": obj(
             {"dimensions": TAGS, "points": {"type": "array", "items": obj(
                 {"time": STRING, "value": NUMBER_OR_NULL,
                  "build": obj({"ci": STRING_OR_NULL, "id": STRING_OR_NULL,
                                    "link": STRING},
                                   {"url": STRING_OR_NULL, "commit": STRING_OR_NULL})},
                 {"verdict": STRING_OR_NULL, "spec": STRING_OR_NULL,
                  "submission": STRING_OR_NULL,
                  "samples": obj({"count": {"type": "integer"}}, {"spread": NUMBER_OR_NULL}),
                  "excursion": obj({"decision": STRING}, {
                      "baseline": NUMBER_OR_NULL, "change": NUMBER_OR_NULL,
                      "score": NUMBER_OR_NULL}),
                  "pull_request": obj(
                      {"number": {"type": "integer"}},
                      {"url": STRING_OR_NULL, "base": STRING_OR_NULL})})}})}}),
    "BuildDetail": obj(
        {"build": STORED_BUILD, "results": {"type": "array", "items": obj(
            {"metric": STRING, "dimensions": TAGS, "value": NUMBER_OR_NULL},
            {"unit": STRING_OR_NULL, "verdict": STRING_OR_NULL, "spec": STRING_OR_NULL,
             # the judgement against the series' past (a PR's: its base branch) as stored
             "excursion": nullable(obj({"decision": {"enum": [
                 "ok", "regression", "improvement", "insufficient"]}}, {
                 "baseline": NUMBER_OR_NULL, "change": NUMBER_OR_NULL,
                 "score": NUMBER_OR_NULL}))})},
         "previous": nullable(STORED_BUILD), "expired": nullable(EXPIRED),
         "changes": {"type": "array", "items": obj(
             {"package": STRING, "kind": {"enum": ["added", "removed", "changed"]}},
             {"from": STRING_OR_NULL, "to": STRING_OR_NULL, "url": STRING_OR_NULL,
              "compare_url": STRING})}}),
    "Blob": obj({"id": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "name": STRING,
                     "data": {"type": "object"}}, {"identifier": STRING}),
    "ScanQueued": obj({"scan": STRING, "queued": {"type": "boolean"},
                           "alerts_url": STRING}),
    "Report": obj(
        {"schema": {"const": "harness.report/1"}, "title": STRING,
         "scope": obj({"kind": {"enum": ["build", "release"]}}),
         "builds": {"type": "array", "items": STORED_BUILD},
         "summary": obj({"requirements": {"type": "integer"},
                             "counts": {"type": "object", "additionalProperties": {
                                 "type": "integer"}}},
                            {"verified_at_least": {"type": "object"},
                             "fractions": {"type": "object"}}),
         "requirements": {"type": "array", "items": obj(
             {"id": STRING, "status": {"enum": STATUSES}, "metrics": STRINGS,
              "cells": {"type": "array", "items": CELL}},
             {"title": STRING, "document": STRING, "url": STRING, "label": STRING,
              "previous_status": {"enum": [*STATUSES, None]},
              "worst_cell": {"type": ["integer", "null"]}})},
         "changes": obj({"newly_failing": STRINGS, "newly_passing": STRINGS},
                            {"previous_builds": {"type": ["array", "null"]},
                             "requirements": {"type": "array"}})},
        {"links": obj({"self": STRING, "html": STRING})}),
    "Health": obj({"ok": {"type": "boolean"}, "components": {
        "type": "object", "required": ["web", "broker", "store", "workers"],
        "additionalProperties": obj({"ok": {"type": "boolean"}})}}),
    "SquashRoot": obj({"auth": STRING, "job": STRING}, {"metrics": STRING}),
    "SquashToken": obj({"access_token": STRING, "token_type": STRING,
                            "expires_in": {"type": "integer"}}),
}
