"""`GET /api/v1/openapi.json`: the OpenAPI 3 document of the API.

Built from the same names the views use (fields, permissions, categories, the
error registry), and kept honest by the schemathesis run in the test suite.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app

from app import envelope
from app.api import bp, ratelimit, serializers
from app.api import programme as programme_api
from app.api.points import ADJUST_FIELDS, EARN_FIELDS, SPEND_FIELDS
from app.models.ledger import CATEGORIES, KINDS
from app.models.programme import AWARD_STATUSES, LIMIT_PERIODS
from app.services import permissions
from app.services.errors import registry
from app.services.members import MAX_PAGE_SIZE
from app.services.programme.events import FIELDS as EVENT_FIELDS
from app.services.programme.rules import FIELDS as RULE_FIELDS
from app.services.validation import (
    DISPLAY_NAME_MAX, IDEMPOTENCY_KEY_MAX, REASON_MAX, USER_ID_MAX,
)
from app.services.vip import RESOLUTIONS

JSON = "application/json"
INT64 = {"type": "integer", "format": "int64"}
DATETIME = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], required: list[str] | tuple[str, ...] | None = None,
        closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


# --------------------------------------------------------------------------- schemas

def _schemas() -> dict[str, Any]:
    codes = sorted(registry())
    level_ref = obj({"id": INT64, "level_name": {"type": "string"},
                     "min_points": {"type": "integer"}},
                    ["id", "level_name", "min_points"])
    holding = obj({"id": INT64, "tag_name": {"type": "string"}, "tag_type": {"type": "string"},
                   "rank": {"type": "integer"}, "expires_at": DATETIME},
                  ["id", "tag_name", "tag_type", "rank", "expires_at"])
    profile_props = {
        "user_id": {"type": "string"}, "display_name": {"type": "string"},
        "email": nullable({"type": "string"}), "phone": nullable({"type": "string"}),
        "total_points": {"type": "integer", "minimum": 0},
        "lifetime_points": {"type": "integer", "minimum": 0},
        "pending_points": {"type": "integer", "minimum": 0,
                           "description": "Awarded but pending: not in total_points, not "
                                          "spendable until available."},
        "current_level": nullable(ref("LevelRef")),
        "tags": {"type": "array", "items": ref("TagHolding")},
        "is_points_enabled": {"type": "boolean"}, "created_at": DATETIME,
    }
    assert set(profile_props) == set(serializers.PROFILE_FIELDS)
    transaction = obj({
        "id": INT64, "user_id": {"type": "string"}, "kind": {"type": "string", "enum": list(KINDS)},
        "points_amount": {"type": "integer", "description": "Signed: debits are negative."},
        "balance_after": {"type": "integer", "minimum": 0},
        "category": {"type": "string", "enum": list(CATEGORIES)}, "reason": {"type": "string"},
        "expires_at": nullable(DATETIME), "created_at": DATETIME,
        "idempotency_key": nullable({"type": "string"}), "reverses_id": nullable(INT64),
    }, serializers.TRANSACTION_FIELDS)

    def success(data: dict[str, Any], paged: bool = False) -> dict[str, Any]:
        props = {"success": {"type": "boolean", "const": True}, "data": data}
        if paged:
            props["page_info"] = ref("PageInfo")
        return obj(props, list(props))

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
        "LevelRef": level_ref,
        "Level": obj({"id": INT64, "level_name": {"type": "string"},
                      "min_points": {"type": "integer"}, "benefits": {"type": "string"}},
                     ["id", "level_name", "min_points", "benefits"]),
        "Tag": obj({"id": INT64, "tag_name": {"type": "string"}, "tag_type": {"type": "string"},
                    "rank": {"type": "integer"}, "duration_days": {"type": "integer"},
                    "points_price": nullable({"type": "integer"})},
                   ["id", "tag_name", "tag_type", "rank", "duration_days", "points_price"]),
        "TagHolding": holding,
        "Profile": obj(profile_props, serializers.PROFILE_FIELDS),
        "PartialProfile": {**obj(profile_props),
                           "description": "A profile restricted to the `fields` asked for."},
        "Transaction": transaction,
        "Outcome": obj({"transaction": ref("Transaction"), "profile": ref("Profile")},
                       ["transaction", "profile"]),
        "PageInfo": obj({"has_next": {"type": "boolean"},
                         "next_cursor": nullable({"type": "string"}),
                         "page_size": {"type": "integer", "minimum": 1,
                                       "maximum": MAX_PAGE_SIZE}},
                        ["has_next", "next_cursor", "page_size"]),
        "TokenPair": obj({"access_token": {"type": "string"},
                          "token_type": {"type": "string", "const": "Bearer"},
                          "expires_in": {"type": "integer"}, "refresh_token": {"type": "string"},
                          "refresh_expires_in": {"type": "integer"}},
                         ["access_token", "token_type", "expires_in", "refresh_token",
                          "refresh_expires_in"]),
        "Error": obj({
            "success": {"type": "boolean", "const": False},
            "error": obj({
                "code": {"type": "string", "enum": codes},
                "message": {"type": "string"},
                "details": {"type": "object", "description": "Always an object; see the code's "
                            "documentation_url for its keys."},
                "request_id": {"type": "string"},
                "timestamp": {"type": "string", "pattern": "Z$"},
                "documentation_url": {"type": "string"},
            }, ["code", "message", "details", "request_id", "timestamp", "documentation_url"]),
        }, ["success", "error"]),
        "TokenEnvelope": success(ref("TokenPair")),
        "LevelList": success({"type": "array", "items": ref("Level")}),
        "TagList": success({"type": "array", "items": ref("Tag")}),
        "HoldingList": success({"type": "array", "items": ref("TagHolding")}),
        "ProfileEnvelope": success(ref("Profile")),
        "PartialProfileEnvelope": success(ref("PartialProfile")),
        "ProfilePage": success({"type": "array", "items": ref("PartialProfile")}, paged=True),
        "TransactionPage": success({"type": "array", "items": ref("Transaction")}, paged=True),
        "OutcomeEnvelope": success(ref("Outcome")),
        "BatchEnvelope": success(obj({"results": {"type": "array", "items": ref("Outcome")}},
                                     ["results"])),
        **_webhook_schemas(success),
    }


def _webhook_schemas(success: Any) -> dict[str, Any]:
    from app.services.webhooks.endpoints import SUBSCRIBABLE

    endpoint_props = {"id": INT64, "url": {"type": "string"},
                      "description": {"type": "string"},
                      "event_types": {"type": "array", "items": {
                          "type": "string", "enum": ["*", *SUBSCRIBABLE]}},
                      "is_active": {"type": "boolean"}, "created_at": DATETIME}
    endpoint = obj(endpoint_props, list(endpoint_props))
    created = obj({**endpoint_props, "secret": {
        "type": "string", "pattern": "^whsec_",
        "description": "The signing secret (Standard Webhooks); shown this once."}},
        [*endpoint_props, "secret"])
    delivery = obj({"id": {"type": "string", "description": "The message id (= webhook-id)."},
                    "type": {"type": "string"}, "created_at": DATETIME,
                    "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                    "attempts": {"type": "integer", "minimum": 0},
                    "last_status_code": nullable({"type": "integer"}),
                    "next_attempt_at": nullable(DATETIME)},
                   ["id", "type", "created_at", "status", "attempts", "last_status_code",
                    "next_attempt_at"])
    return {
        "WebhookEndpoint": endpoint,
        "WebhookEndpointList": success({"type": "array", "items": ref("WebhookEndpoint")}),
        "WebhookEndpointCreated": success(created),
        "WebhookDeleted": success(obj({"id": INT64, "deleted": {"type": "boolean"}},
                                      ["id", "deleted"])),
        "WebhookDeliveryPage": success({"type": "array", "items": delivery}, paged=True),
    }


# --------------------------------------------------------------------------- request bodies

def _bodies(max_points: int) -> dict[str, Any]:
    user_id = {"type": "string", "minLength": 1, "maxLength": USER_ID_MAX,
               "pattern": r"^[^\s/\\\x00-\x1f\x7f]+$"}
    amount = {"type": "integer", "minimum": 1, "maximum": max_points,
              "description": "The tenant's maximum per operation (default 10000)."}
    category = {"type": "string", "enum": list(CATEGORIES)}
    reason = {"type": "string", "maxLength": REASON_MAX, "pattern": r"^[^\x00]*$"}
    operation_id = {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX,
                    "description": "The idempotency key when no Idempotency-Key header is sent."}
    earn_props = {"user_id": user_id, "points_amount": amount, "category": category,
                  "reason": reason,
                  "expires_at": {**DATETIME, "description": "ISO 8601, in the future."},
                  "operation_id": operation_id}
    assert set(earn_props) == set(EARN_FIELDS)
    earn = obj(earn_props, ["user_id", "points_amount", "category"])
    spend = obj({k: earn_props[k] for k in SPEND_FIELDS}, ["user_id", "points_amount", "category"])
    adjust_props = {k: earn_props[k] for k in ADJUST_FIELDS}
    adjust_props["points_amount"] = {"type": "integer", "minimum": -max_points,
                                     "maximum": max_points, "not": {"const": 0}}
    adjust_props["reason"] = {**reason, "minLength": 1, "pattern": r"^[^\x00]*\S[^\x00]*$"}
    money = {"anyOf": [{"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
                       {"type": "number", "minimum": 0, "multipleOf": 0.01}]}
    rule_body = {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "event_type": {"type": "string", "pattern": r"^[a-z0-9_.]{1,64}$"},
        "category": category, "award": {"type": "object"}, "min_amount": nullable(money),
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
        "user_id": user_id, "event_type": rule_body["event_type"], "amount": money,
        "occurred_at": {**DATETIME, "description": "Not in the future; default now."},
        "attributes": {"type": "object", "description": "At most 4 KiB of JSON."}}
    assert set(event_body) == set(EVENT_FIELDS)
    return {
        "RuleCreate": obj(rule_body, ["name", "event_type", "award"]),
        "RulePatch": obj(rule_body),
        "EventBody": obj(event_body, ["event_id", "user_id", "event_type"]),
        "PreviewBody": obj(event_body, ["user_id", "event_type"]),
        "Revoke": obj({"reason": {**reason, "minLength": 1}, "amount": money}, ["reason"]),
        "TokenRequest": obj({"client_id": {"type": "string", "minLength": 1},
                             "client_secret": {"type": "string", "minLength": 1}},
                            ["client_id", "client_secret"]),
        "RefreshRequest": obj({"refresh_token": {"type": "string", "minLength": 1}},
                              ["refresh_token"]),
        "CreateProfile": obj({
            "user_id": user_id,
            "display_name": {"type": "string", "maxLength": DISPLAY_NAME_MAX,
                             "pattern": r"^[^\x00]*$"},
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "phone": {"type": "string", "pattern": r"^\+?[0-9 ()\-]{3,32}$"},
        }, ["user_id"]),
        "Earn": earn,
        "Spend": spend,
        "Adjust": obj(adjust_props, ["user_id", "points_amount", "reason"]),
        "BatchEarn": obj({"operations": {"type": "array", "minItems": 1, "maxItems": 1000,
                                         "items": earn}}, ["operations"]),
        "Reverse": obj({"reason": adjust_props["reason"]}, ["reason"]),
        "CreateWebhookEndpoint": obj({
            "url": {"type": "string", "maxLength": 2000,
                    "description": "https (http to localhost outside production)."},
            "event_types": {"type": "array", "minItems": 1, "items": {"type": "string"},
                            "description": 'Event types, or ["*"] for all.'},
            "description": {"type": "string", "maxLength": 200}}, ["url", "event_types"]),
        "GrantTag": obj({"tag_id": {**INT64, "minimum": 1},
                         "resolution": {"type": "string", "enum": list(RESOLUTIONS)},
                         "pay_with_points": {"type": "boolean"}}, ["tag_id"]),
    }


# --------------------------------------------------------------------------- operations

def _codes_by_status(codes: list[str]) -> dict[int, list[str]]:
    known = registry()
    result: dict[int, list[str]] = {}
    for code in codes:
        result.setdefault(known[code].status, []).append(code)
    return result


def _responses(success_status: int, success_schema: str, description: str,
               errors: list[str], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {str(success_status): {
        "description": description,
        "content": {JSON: {"schema": ref(success_schema)}},
        **({"headers": headers} if headers else {}),
    }}
    for status, codes in sorted(_codes_by_status(errors).items()):
        entry: dict[str, Any] = {
            "description": "Error envelope; code: " + ", ".join(codes),
            "content": {JSON: {"schema": ref("Error")}},
        }
        if status == 429:
            entry["headers"] = {"Retry-After": {"schema": {"type": "string"},
                                                "description": "Seconds to wait."}}
        responses[str(status)] = entry
    return responses


COMMON = ["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "RATE_LIMIT_EXCEEDED"]
AUTH = ["AUTHENTICATION_REQUIRED", "INVALID_TOKEN", "INSUFFICIENT_PERMISSIONS"]
BODY = ["BAD_REQUEST", "PAYLOAD_TOO_LARGE", "VALIDATION_ERROR"]
WRITE = BODY + ["IDEMPOTENCY_KEY_MISMATCH"]


def _param(name: str, where: str, schema: dict[str, Any], description: str,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path",
            "schema": schema, "description": description}


def _fields_param() -> dict[str, Any]:
    names = "|".join(serializers.PROFILE_FIELDS)
    return _param("fields", "query",
                  {"type": "string", "pattern": f"^(({names})(,({names}))*)?$"},
                  "Comma-separated profile keys to return (empty: all); unknown names are "
                  "refused.")


PAGE_PARAMS = [
    _param("page_size", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                                  "default": 20}, "Items per page (at most 100)."),
    _param("cursor", "query", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
           "page_info.next_cursor of the previous page; opaque."),
]
USER_ID_PARAM = _param("user_id", "path", {"type": "string", "minLength": 1,
                                           "maxLength": USER_ID_MAX,
                                           "pattern": r"^[^\s/\\\x00-\x1f\x7f?#%]+$"},
                       "The integration's id of the member.")
RULE_ID = _param("rule_id", "path", {**INT64, "minimum": 1}, "The rule.")
EVENT_ID = _param("event_id", "path", {"type": "string", "minLength": 1,
                                       "maxLength": IDEMPOTENCY_KEY_MAX,
                                       "pattern": r"^[^\s/\\\x00-\x1f\x7f?#%]+$"},
                  "The integration's id of the event.")
IDEMPOTENCY_PARAM = {"$ref": "#/components/parameters/IdempotencyKey"}
REPLAYED_HEADER = {"Idempotent-Replayed": {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present on a replay of an earlier request with the same key."}}


def _op(summary: str, permission: str | None, responses: dict[str, Any],
        parameters: list[dict[str, Any]] | None = None, body: str | None = None,
        operation_id: str = "") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "operationId": operation_id,
                          "responses": responses}
    if permission:
        op["description"] = f"Needs the permission `{permission}`."
        op["security"] = [{"bearerAuth": []}]
    else:
        op["security"] = []
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {"required": True,
                             "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    return op


def _write(summary: str, permission: str, body: str, success: str, errors: list[str],
           operation_id: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return _op(summary, permission,
               _responses(201, success, "Created; a replay answers the first response again.",
                          AUTH + WRITE + errors + COMMON, REPLAYED_HEADER),
               [IDEMPOTENCY_PARAM, *(parameters or [])], body, operation_id)


def document(max_points: int = 10000) -> dict[str, Any]:
    points_errors = ["MEMBER_NOT_FOUND", "POINTS_DISABLED"]
    token_errors = BODY + COMMON
    paths = {
        "/api/v1/auth/token/": {"post": _op(
            "Client credentials → access and refresh tokens", None,
            _responses(200, "TokenEnvelope", "A new token pair.", token_errors + ["INVALID_CLIENT"]),
            body="TokenRequest", operation_id="issueToken")},
        "/api/v1/auth/refresh/": {"post": _op(
            "Refresh token → a new pair (the old refresh token dies)", None,
            _responses(200, "TokenEnvelope", "A new token pair.", token_errors + ["INVALID_TOKEN"]),
            body="RefreshRequest", operation_id="refreshToken")},
        "/api/auth/refresh/": {"post": _op(
            "Alias of /api/v1/auth/refresh/", None,
            _responses(200, "TokenEnvelope", "A new token pair.", token_errors + ["INVALID_TOKEN"]),
            body="RefreshRequest", operation_id="refreshTokenAlias")},
        "/api/v1/points/user-levels/": {"get": _op(
            "The tenant's levels", permissions.VIEW,
            _responses(200, "LevelList", "Every level, lowest first.", AUTH + COMMON),
            operation_id="listLevels")},
        "/api/v1/points/profiles/": {
            "get": _op("Members, newest first", permissions.VIEW,
                       _responses(200, "ProfilePage", "A page of profiles.",
                                  AUTH + ["VALIDATION_ERROR"] + COMMON),
                       [*PAGE_PARAMS, _fields_param(),
                        _param("q", "query", {"type": "string", "maxLength": 200},
                               "An email (exact), a user_id prefix or part of the name."),
                        _param("level", "query", {**INT64, "minimum": 0},
                               "Only members of this level id.")],
                       operation_id="listProfiles"),
            "post": _write("Create a member", permissions.MANAGE, "CreateProfile",
                           "ProfileEnvelope", ["MEMBER_EXISTS"], "createProfile"),
        },
        "/api/v1/points/profiles/{user_id}/": {"get": _op(
            "One member", permissions.VIEW,
            _responses(200, "PartialProfileEnvelope", "The profile.",
                       AUTH + ["VALIDATION_ERROR", "MEMBER_NOT_FOUND"] + COMMON),
            [USER_ID_PARAM, _fields_param()], operation_id="getProfile")},
        "/api/v1/points/profiles/{user_id}/transactions/": {"get": _op(
            "A member's transactions, newest first", permissions.VIEW,
            _responses(200, "TransactionPage", "A page of transactions.",
                       AUTH + ["VALIDATION_ERROR", "MEMBER_NOT_FOUND"] + COMMON),
            [USER_ID_PARAM, *PAGE_PARAMS,
             _param("kind", "query", {"type": "string", "enum": list(KINDS)}, "Only this kind."),
             _param("category", "query", {"type": "string", "enum": list(CATEGORIES)},
                    "Only this category.")],
            operation_id="listTransactions")},
        "/api/v1/points/profiles/{user_id}/vip-tags/": {"post": _write(
            "Grant a VIP tag", permissions.MANAGE, "GrantTag", "HoldingList",
            ["MEMBER_NOT_FOUND", "NOT_FOUND", "VIP_TAG_CONFLICT", "POINTS_DISABLED",
             "INSUFFICIENT_POINTS"], "grantVipTag", [USER_ID_PARAM])},
        "/api/v1/points/earn/": {"post": _write(
            "Earn points", permissions.EARN, "Earn", "OutcomeEnvelope", points_errors, "earn")},
        "/api/v1/points/spend/": {"post": _write(
            "Spend points", permissions.SPEND, "Spend", "OutcomeEnvelope",
            points_errors + ["INSUFFICIENT_POINTS"], "spend")},
        "/api/v1/points/adjust/": {"post": _write(
            "Adjust points (signed)", permissions.ADJUST, "Adjust", "OutcomeEnvelope",
            points_errors + ["INSUFFICIENT_POINTS"], "adjust")},
        "/api/v1/points/batch-earn/": {"post": _write(
            "Earn for up to 1000 members, all or nothing", permissions.EARN, "BatchEarn",
            "BatchEnvelope", [], "batchEarn")},
        "/api/v1/points/transactions/{transaction_id}/reverse/": {"post": _write(
            "Reverse a transaction", permissions.ADJUST, "Reverse", "OutcomeEnvelope",
            ["NOT_FOUND", "ALREADY_REVERSED", "NOT_REVERSIBLE", "POINTS_DISABLED"], "reverse",
            [_param("transaction_id", "path", {**INT64, "minimum": 1}, "The transaction.")])},
        "/api/v1/earning-rules/": {
            "get": _op("The tenant's earning rules", permissions.VIEW,
                       _responses(200, "RuleList", "Every rule, oldest first.",
                                  AUTH + ["VALIDATION_ERROR"] + COMMON),
                       [_param("active", "query", {"type": "string",
                                                   "enum": ["true", "false"]},
                               "Only active (true) or inactive (false) rules.")],
                       operation_id="listRules"),
            "post": _write("Create an earning rule", permissions.MANAGE, "RuleCreate",
                           "RuleEnvelope", [], "createRule"),
        },
        "/api/v1/earning-rules/{rule_id}/": {
            "get": _op("One earning rule", permissions.VIEW,
                       _responses(200, "RuleEnvelope", "The rule.",
                                  AUTH + ["RULE_NOT_FOUND"] + COMMON),
                       [RULE_ID], operation_id="getRule"),
            "patch": _op("Change an earning rule (later events only)", permissions.MANAGE,
                         _responses(200, "RuleEnvelope", "The rule as changed.",
                                    AUTH + WRITE + ["RULE_NOT_FOUND"] + COMMON),
                         [IDEMPOTENCY_PARAM, RULE_ID], "RulePatch", "updateRule"),
        },
        "/api/v1/events/": {"post": _write(
            "Record an event; its rules award points", permissions.EARN, "EventBody",
            "EventEnvelope", ["MEMBER_NOT_FOUND", "POINTS_DISABLED", "EVENT_EXISTS"],
            "recordEvent")},
        "/api/v1/events/preview/": {"post": _op(
            "What an event would award now; writes nothing", permissions.VIEW,
            _responses(200, "EventEnvelope", "The awards, with preview true.",
                       AUTH + BODY + ["MEMBER_NOT_FOUND"] + COMMON),
            body="PreviewBody", operation_id="previewEvent")},
        "/api/v1/events/{event_id}/": {"get": _op(
            "An event and its awards", permissions.VIEW,
            _responses(200, "EventEnvelope", "The event.", AUTH + ["EVENT_NOT_FOUND"] + COMMON),
            [EVENT_ID], operation_id="getEvent")},
        "/api/v1/events/{event_id}/revoke/": {"post": _write(
            "Revoke an event's points (a refund), wholly or for an amount", permissions.ADJUST,
            "Revoke", "RevokeEnvelope", ["EVENT_NOT_FOUND", "ALREADY_REVOKED",
                                         "POINTS_DISABLED"], "revokeEvent", [EVENT_ID])},
        "/api/v1/vip/tags/": {"get": _op(
            "The tenant's VIP tag catalogue", permissions.VIEW,
            _responses(200, "TagList", "Every active tag.", AUTH + COMMON),
            operation_id="listVipTags")},
        **_webhook_paths(),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jifen points API", "version": "1.0.0",
            "description": (
                "Authenticate with POST /api/v1/auth/token/ and send "
                "`Authorization: Bearer <access_token>`. Every write takes an "
                "`Idempotency-Key` header. Errors are envelopes; each code is explained at "
                "/docs/errors/<CODE>. Text that cannot be stored (NUL, a lone UTF-16 "
                "surrogate) is refused anywhere in a body or a query, and each query "
                "parameter is given at most once (VALIDATION_ERROR). OPTIONS on any path "
                "answers 204 with an `Allow` header. Limits (unauthenticated requests count "
                "as anonymous, per address): " + ", ".join(
                    f"{name} {current_app.config[key]}" for name, key in (
                        ("anonymous", "RATELIMIT_ANONYMOUS"),
                        ("authenticated", "RATELIMIT_AUTHENTICATED"),
                        ("points operations", "RATELIMIT_POINTS"))) + "."),
        },
        "paths": paths,
        "components": {
            "schemas": {**_schemas(), **_bodies(max_points)},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"}},
            "parameters": {"IdempotencyKey": _param(
                "Idempotency-Key", "header",
                {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
                "Makes the write happen once: a repeat with the same body replays the first "
                "response; another body is IDEMPOTENCY_KEY_MISMATCH.")},
        },
    }


def _webhook_paths() -> dict[str, Any]:
    endpoint_param = _param("endpoint_id", "path", {**INT64, "minimum": 1}, "The endpoint.")
    return {
        "/api/v1/webhooks/endpoints/": {
            "get": _op("The tenant's webhook endpoints (never their secrets)", permissions.MANAGE,
                       _responses(200, "WebhookEndpointList", "Every endpoint.", AUTH + COMMON),
                       operation_id="listWebhookEndpoints"),
            "post": _write("Add a webhook endpoint", permissions.MANAGE, "CreateWebhookEndpoint",
                           "WebhookEndpointCreated", [], "createWebhookEndpoint"),
        },
        "/api/v1/webhooks/endpoints/{endpoint_id}/": {"delete": _op(
            "Delete an endpoint: nothing more is sent to it", permissions.MANAGE,
            _responses(200, "WebhookDeleted", "Deleted.",
                       AUTH + ["VALIDATION_ERROR", "IDEMPOTENCY_KEY_MISMATCH", "NOT_FOUND"] + COMMON),
            [IDEMPOTENCY_PARAM, endpoint_param], operation_id="deleteWebhookEndpoint")},
        "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/": {"get": _op(
            "An endpoint's messages, newest first", permissions.MANAGE,
            _responses(200, "WebhookDeliveryPage", "A page of messages.",
                       AUTH + ["VALIDATION_ERROR", "NOT_FOUND"] + COMMON),
            [endpoint_param, *PAGE_PARAMS], operation_id="listWebhookDeliveries")},
    }


@bp.get("/v1/openapi.json")
@ratelimit.anonymous
def openapi_document() -> Response:
    return envelope.respond(document(), 200)
