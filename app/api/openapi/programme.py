"""The programme's part of the OpenAPI document: earning rules and events."""
from __future__ import annotations

from typing import Any

from app.api import programme as programme_api
from app.api.openapi.building import (
    AUTH, BODY, CATEGORY_FIELD, COMMON, DATETIME, IDEMPOTENCY_PARAM, INT64, REASON_FIELD,
    USER_ID_FIELD, WRITE, nullable, obj, op, param, ref, responses_of, success, write,
)
from app.models.ledger import CATEGORIES
from app.models.programme import AWARD_STATUSES, LIMIT_PERIODS
from app.services import permissions
from app.services.programme.event_input import FIELDS as EVENT_FIELDS
from app.services.programme.rules import FIELDS as RULE_FIELDS
from app.services.validation import IDEMPOTENCY_KEY_MAX

RULE_ID = param("rule_id", "path", {**INT64, "minimum": 1}, "The rule.")
EVENT_ID = param("event_id", "path", {"type": "string", "minLength": 1,
                                      "maxLength": IDEMPOTENCY_KEY_MAX,
                                      "pattern": r"^[^\s\\\x00-\x1f\x7f?#%]+$"},
                 "The integration's id of the event. An id with `/` is reachable as it is "
                 "or percent-encoded (`%2F`).")


def schemas() -> dict[str, Any]:
    money = {"type": "string", "pattern": r"^\d+\.\d\d$"}
    award_spec = {"oneOf": [
        obj({"type": {"const": "fixed"}, "points": {"type": "integer", "minimum": 1}},
            ["type", "points"]),
        obj({"type": {"const": "per_amount"}, "points": {"type": "integer", "minimum": 1},
             "per": money}, ["type", "points", "per"]),
        obj({"type": {"const": "multiplier"}, "factor": {"type": "string"}},
            ["type", "factor"])]}
    limit = nullable(obj({"count": {"type": "integer", "minimum": 1},
                          "period": {"type": "string", "enum": list(LIMIT_PERIODS)}},
                         ["count", "period"]))
    rule_props = {
        "id": INT64, "name": {"type": "string"}, "event_type": {"type": "string"},
        "category": {"type": "string", "enum": list(CATEGORIES)}, "award": award_spec,
        "min_amount": nullable(money), "levels": nullable({"type": "array", "items": INT64}),
        "starts_at": nullable(DATETIME), "ends_at": nullable(DATETIME), "limit": limit,
        "max_points": nullable({"type": "integer"}),
        "expires_in_days": nullable({"type": "integer"}),
        "pending_days": {"type": "integer", "minimum": 0}, "active": {"type": "boolean"},
        "created_at": DATETIME, "updated_at": DATETIME}
    award = obj({"rule_id": INT64, "rule_name": {"type": "string"},
                 "points": {"type": "integer", "minimum": 1},
                 "status": {"type": "string", "enum": list(AWARD_STATUSES)},
                 "available_at": DATETIME, "transaction_id": nullable(INT64)},
                list(programme_api.AWARD_FIELDS))
    event = obj({"event_id": nullable({"type": "string"}), "user_id": {"type": "string"},
                 "event_type": {"type": "string"}, "amount": nullable(money),
                 "occurred_at": DATETIME, "attributes": {"type": "object"},
                 "points_awarded": {"type": "integer", "minimum": 0},
                 "refunded_amount": money,
                 "status": {"type": "string",
                            "enum": ["recorded", "partially_revoked", "revoked"]},
                 "created_at": nullable(DATETIME)}, list(programme_api.EVENT_KEYS))
    event_outcome = obj({"event": ref("Event"), "awards": {"type": "array",
                                                           "items": ref("Award")},
                         "points_awarded": {"type": "integer", "minimum": 0},
                         "profile": ref("Profile"), "preview": {"const": True}},
                        ["event", "awards", "points_awarded"])
    return {
        "Rule": obj(rule_props, list(rule_props)),
        "Award": award,
        "Event": event,
        "EventOutcome": event_outcome,
        "RuleEnvelope": success(ref("Rule")),
        "RuleList": success({"type": "array", "items": ref("Rule")}),
        "EventEnvelope": success(ref("EventOutcome")),
        "RevokeEnvelope": success(obj({
            "event": ref("Event"), "taken_back": {"type": "integer", "minimum": 0},
            "cancelled_pending": {"type": "integer", "minimum": 0},
            "not_recovered": {"type": "integer", "minimum": 0}, "profile": ref("Profile")},
            ["event", "taken_back", "cancelled_pending", "not_recovered", "profile"])),
    }


def bodies() -> dict[str, Any]:
    money = {"anyOf": [{"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
                       {"type": "number", "minimum": 0, "multipleOf": 0.01}]}
    rule_body = {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "event_type": {"type": "string", "pattern": r"^[a-z0-9_.]{1,64}$"},
        "category": CATEGORY_FIELD, "award": {"type": "object"}, "min_amount": nullable(money),
        "levels": nullable({"type": "array", "items": {**INT64, "minimum": 1}}),
        "starts_at": nullable(DATETIME), "ends_at": nullable(DATETIME),
        "limit": nullable({"type": "object"}),
        "max_points": nullable({"type": "integer", "minimum": 1}),
        "expires_in_days": nullable({"type": "integer", "minimum": 1}),
        "pending_days": {"type": "integer", "minimum": 0, "maximum": 365},
        "active": {"type": "boolean"}}
    assert set(rule_body) == set(RULE_FIELDS)
    event_body = {
        "event_id": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
        "user_id": USER_ID_FIELD, "event_type": rule_body["event_type"], "amount": money,
        "occurred_at": {**DATETIME, "description": "Not in the future; default now."},
        "attributes": {"type": "object", "description": "At most 4 KiB of JSON."}}
    assert set(event_body) == set(EVENT_FIELDS)
    return {
        "RuleCreate": obj(rule_body, ["name", "event_type", "award"]),
        "RulePatch": obj(rule_body),
        "EventBody": obj(event_body, ["event_id", "user_id", "event_type"]),
        "PreviewBody": obj(event_body, ["user_id", "event_type"]),
        "Revoke": obj({"reason": {**REASON_FIELD, "minLength": 1}, "amount": money}, ["reason"]),
    }


def paths() -> dict[str, Any]:
    return {
        "/api/v1/earning-rules/": {
            "get": op("The tenant's earning rules", permissions.VIEW,
                      responses_of(200, "RuleList", "Every rule, oldest first.",
                                   AUTH + ["VALIDATION_ERROR"] + COMMON),
                      [param("active", "query", {"type": "string",
                                                 "enum": ["true", "false"]},
                             "Only active (true) or inactive (false) rules.")],
                      operation_id="listRules"),
            "post": write("Create an earning rule", permissions.MANAGE, "RuleCreate",
                          "RuleEnvelope", [], "createRule"),
        },
        "/api/v1/earning-rules/{rule_id}/": {
            "get": op("One earning rule", permissions.VIEW,
                      responses_of(200, "RuleEnvelope", "The rule.",
                                   AUTH + ["RULE_NOT_FOUND"] + COMMON),
                      [RULE_ID], operation_id="getRule"),
            "patch": op("Change an earning rule (later events only)", permissions.MANAGE,
                        responses_of(200, "RuleEnvelope", "The rule as changed.",
                                     AUTH + WRITE + ["RULE_NOT_FOUND"] + COMMON),
                        [IDEMPOTENCY_PARAM, RULE_ID], "RulePatch", "updateRule"),
        },
        "/api/v1/events/": {"post": write(
            "Record an event; its rules award points", permissions.EARN, "EventBody",
            "EventEnvelope", ["MEMBER_NOT_FOUND", "POINTS_DISABLED", "EVENT_EXISTS"],
            "recordEvent")},
        "/api/v1/events/preview/": {"post": op(
            "What an event would award now; writes nothing", permissions.VIEW,
            responses_of(200, "EventEnvelope", "The awards, with preview true.",
                         AUTH + BODY + ["MEMBER_NOT_FOUND"] + COMMON),
            body="PreviewBody", operation_id="previewEvent")},
        "/api/v1/events/{event_id}/": {"get": op(
            "An event and its awards", permissions.VIEW,
            responses_of(200, "EventEnvelope", "The event.", AUTH + ["EVENT_NOT_FOUND"] + COMMON),
            [EVENT_ID], operation_id="getEvent")},
        "/api/v1/events/{event_id}/revoke/": {"post": write(
            "Revoke an event's points (a refund), wholly or for an amount", permissions.ADJUST,
            "Revoke", "RevokeEnvelope", ["EVENT_NOT_FOUND", "ALREADY_REVOKED",
                                         "POINTS_DISABLED"], "revokeEvent", [EVENT_ID])},
    }
