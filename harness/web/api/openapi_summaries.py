"""The OpenAPI paths and schemas of alert summaries and bulk triage
(harness/web/api/summaries.py), merged into the document by harness/web/api/openapi.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from harness.alerting.alerts import ACTIONS, REASSIGNED, AlertKind, AlertState, Severity
from harness.alerting.ownership import MAX_ASSIGNEE, MAX_BUG_URL
from harness.alerting.summaries import RELATIONS
from harness.web.api.openapi_parts import ERROR_NAMES, Schema, json_answer, obj, ref

STRING = {"type": "string"}
STRING_OR_NULL = {"type": ["string", "null"]}
STRINGS = {"type": "array", "items": STRING}
STATE = {"type": "string", "enum": list(get_args(AlertState))}
KIND = {"type": "string", "enum": list(get_args(AlertKind))}
ACTION = {"type": "string", "enum": list(ACTIONS)}
BULK_ACTION = {"type": "string", "enum": [*ACTIONS, "reassign"]}
NOTE = {"type": "string", "maxLength": 2000}
TARGET = {"type": "string", "minLength": 1, "maxLength": 200,
          "description": "the id of the summary to move to"}
RELATION = {"type": "string", "enum": list(RELATIONS), "default": "member",
            "description": "member: part of that summary's cause; downstream: an effect of "
                           "it, listed apart and left out of its state, severity and counts"}
TRIAGE = [{"bearer": ["triage"]}]
OUTCOME: Schema = {"action": BULK_ACTION,
           "event": {"enum": [*ACTIONS.values(), REASSIGNED]},
           "changed": {"type": "array", "description": "ids of the alerts the step changed",
                       "items": STRING},
           "unchanged": {"type": "array", "description": "alerts whose state did not allow "
                                                         "the step, left alone",
                         "items": obj({"id": STRING, "state": STATE})},
           "follow_up": {"type": "boolean",
                         "description": "whether one Slack follow-up was queued"}}

SUMMARY_SCHEMAS: Schema = {
    "AlertSummary": obj(
        {"id": STRING, "state": STATE, "kind": KIND,
         "direction": {"type": "string", "description": "regression or improvement; for "
                                                        "spec alerts their severity"},
         "branch": STRING, "severity": {"enum": list(get_args(Severity))},
         "build": obj({"ci": STRING, "id": STRING, "time": STRING},
                      {"url": STRING_OR_NULL, "commit": STRING_OR_NULL}),
         "started_build": STRING_OR_NULL,
         "alerts": {"type": "array", "items": ref("Alert"), "minItems": 1},
         "counts": {"type": "object", "additionalProperties": {"type": "integer",
                                                                "minimum": 1}},
         "changes": {"type": "array", "items": {"type": "object"}},
         "assignee": STRING_OR_NULL, "bug_url": STRING_OR_NULL,
         "owner_changed": {"anyOf": [obj({"by": STRING, "time": STRING}), {"type": "null"}],
                           "description": "who last set the owner, and when"},
         "downstream": {"type": "array", "items": ref("Alert"),
                        "description": "alerts people marked as effects of this cause"},
         "links": obj({"self": STRING, "html": STRING})}),
    "SummaryTriage": obj({"summary": ref("AlertSummary"), **OUTCOME}),
    "BulkTriage": obj({"alerts": {"type": "array", "items": ref("Alert")}, **OUTCOME}),
    "BulkTriageIn": {
        "type": "object", "required": ["ids", "action"], "additionalProperties": False,
        "properties": {"ids": {"type": "array", "minItems": 1, "maxItems": 200,
                               "items": {"type": "string", "minLength": 1, "maxLength": 200}},
                       "action": BULK_ACTION, "note": NOTE,
                       "summary": TARGET | {"description": "reassign only (required)"},
                       "relation": RELATION | {"description": "reassign only"}}},
    "OwnerIn": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "description": "a field left out keeps its value, null clears it",
        "properties": {
            "assignee": {"type": ["string", "null"], "minLength": 1,
                         "maxLength": MAX_ASSIGNEE, "description": "who owns it (free text)"},
            "bug_url": {"type": ["string", "null"], "maxLength": MAX_BUG_URL,
                        "pattern": "^https?://", "description": "an http(s) URL"}}},
    "ReassignIn": {
        "type": "object", "required": ["summary"], "additionalProperties": False,
        "properties": {"summary": TARGET, "relation": RELATION, "note": NOTE}},
    "Reassigned": obj({"alert": ref("Alert"), "summary": ref("AlertSummary"),
                       "from": {"type": "string", "description": "the summary it was in"}}),
}


def _errors(*codes: int) -> Schema:
    """References to the shared error answers of these status codes."""
    return {str(code): {"$ref": f"#/components/responses/{ERROR_NAMES[code]}"}
            for code in codes}


def _parameter(name: str, where: str, description: str, schema: Schema) -> Schema:
    """A path (required) or query parameter."""
    return {"name": name, "in": where, "required": where == "path",
            "description": description, "schema": schema}


def _operation(summary: str, responses: Schema, parameters: Sequence[Schema] = (),
               body: Schema | None = None, body_required: bool = True) -> Schema:
    """An operation of the alerts tag; one with a body needs the triage scope."""
    operation: Schema = {"summary": summary, "tags": ["alerts"], "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["security"] = TRIAGE
        operation["requestBody"] = {"required": body_required,
                                    "content": {"application/json": {"schema": body}}}
    return operation


SUMMARY_ID = _parameter("summary_id", "path", "the summary's id",
                        {"type": "string", "minLength": 1})
SUMMARY_PATHS: Schema = {
    "/api/v1/alert-summaries": {
        "get": _operation(
            "Alert summaries (the alerts of one cause), newest onset first; any other query "
            "parameter is a 422",
            {"200": json_answer("the summaries", obj({"summaries": {
                "type": "array", "items": ref("AlertSummary")}})), **_errors(422, 503)},
            parameters=[
                _parameter("state", "query", "only summaries in this state", STATE),
                _parameter("kind", "query", "only summaries of this kind", KIND),
                _parameter("metric", "query", "only summaries with an alert of this metric",
                           {"type": "string", "minLength": 1, "maxLength": 200})]),
    },
    "/api/v1/alert-summaries/{summary_id}": {
        "get": _operation(
            "One alert summary with its alerts",
            {"200": json_answer("the summary", ref("AlertSummary")), **_errors(404, 503)},
            parameters=[SUMMARY_ID]),
    },
    "/api/v1/alert-summaries/{summary_id}/{action}": {
        "post": _operation(
            "Triage every alert of a summary whose state allows it (one write, one Slack "
            "follow-up); the others are left alone and named",
            {"200": json_answer("what changed, and the summary now", ref("SummaryTriage")),
             **_errors(401, 403, 404, 413, 422, 503)},
            parameters=[SUMMARY_ID, _parameter(
                "action", "path", "what to do (anything else: 404)", ACTION)],
            body={"type": "object", "properties": {"note": NOTE}}, body_required=False),
    },
    "/api/v1/alert-summaries/{summary_id}/owner": {
        "put": _operation(
            "Set who owns a summary and its bug link (one `owned` event on each of its "
            "alerts); a field left out keeps its value, null clears it",
            {"200": json_answer("the summary with its owner", ref("AlertSummary")),
             **_errors(400, 401, 403, 404, 413, 422, 503)},
            parameters=[SUMMARY_ID], body=ref("OwnerIn")),
    },
    "/api/v1/alerts/{alert_id}/reassign": {
        "post": _operation(
            "Move an alert into another summary (member) or under it as a downstream "
            "effect; to its own cause's summary as a member undoes a move. An unknown "
            "summary is a 422",
            {"200": json_answer("the alert, and the summary that lists it now",
                                ref("Reassigned")),
             **_errors(400, 401, 403, 404, 413, 422, 503)},
            parameters=[_parameter("alert_id", "path", "the alert's id",
                                   {"type": "string", "minLength": 1})],
            body=ref("ReassignIn")),
    },
    "/api/v1/alerts/bulk": {
        "post": _operation(
            "Triage hand-picked alerts, or move them to another summary (`reassign`, with "
            "`summary` and `relation`): every id and the action are checked before any "
            "write (422 naming each problem); alerts whose state does not allow the step "
            "are left alone and named",
            {"200": json_answer("what changed, and the alerts now", ref("BulkTriage")),
             **_errors(400, 401, 403, 413, 422, 503)},
            body=ref("BulkTriageIn")),
    },
}
