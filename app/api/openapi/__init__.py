"""`GET /api/v1/openapi.json`: the OpenAPI 3 document of the API.

Built from the same names the views use (fields, permissions, categories, the
error registry), and kept honest by the schemathesis run in the test suite. The
shared building blocks are in `building`; the programme's and the webhooks' parts
in their own modules; the members', points' and VIP parts here.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app

from app import envelope
from app.api import bp, ratelimit, serializers
from app.api.openapi import programme, webhooks
from app.api.openapi.building import (
    AUTH, BODY, CATEGORY_FIELD, COMMON, DATETIME, INT64, PAGE_PARAMS, REASON_FIELD,
    USER_ID_FIELD, USER_ID_PARAM, fields_param, nullable, obj, op, param, ref, responses_of,
    success, write,
)
from app.api.points import ADJUST_FIELDS, EARN_FIELDS, SPEND_FIELDS
from app.models.ledger import CATEGORIES, KINDS
from app.services import permissions
from app.services.errors import registry
from app.services.members import MAX_PAGE_SIZE
from app.services.validation import DISPLAY_NAME_MAX, IDEMPOTENCY_KEY_MAX
from app.services.vip import RESOLUTIONS


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

    return {
        **programme.schemas(),
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
        **webhooks.schemas(),
    }


# --------------------------------------------------------------------------- request bodies

def _bodies(max_points: int) -> dict[str, Any]:
    amount = {"type": "integer", "minimum": 1, "maximum": max_points,
              "description": "The tenant's maximum per operation (default 10000)."}
    operation_id = {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX,
                    "description": "The idempotency key when no Idempotency-Key header is sent."}
    earn_props = {"user_id": USER_ID_FIELD, "points_amount": amount,
                  "category": CATEGORY_FIELD, "reason": REASON_FIELD,
                  "expires_at": {**DATETIME, "description": "ISO 8601, in the future."},
                  "operation_id": operation_id}
    assert set(earn_props) == set(EARN_FIELDS)
    earn = obj(earn_props, ["user_id", "points_amount", "category"])
    spend = obj({k: earn_props[k] for k in SPEND_FIELDS}, ["user_id", "points_amount", "category"])
    adjust_props = {k: earn_props[k] for k in ADJUST_FIELDS}
    adjust_props["points_amount"] = {"type": "integer", "minimum": -max_points,
                                     "maximum": max_points, "not": {"const": 0}}
    adjust_props["reason"] = {**REASON_FIELD, "minLength": 1, "pattern": r"^[^\x00]*\S[^\x00]*$"}
    return {
        **programme.bodies(),
        "TokenRequest": obj({"client_id": {"type": "string", "minLength": 1},
                             "client_secret": {"type": "string", "minLength": 1}},
                            ["client_id", "client_secret"]),
        "RefreshRequest": obj({"refresh_token": {"type": "string", "minLength": 1}},
                              ["refresh_token"]),
        "CreateProfile": obj({
            "user_id": USER_ID_FIELD,
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
        **webhooks.bodies(),
        "GrantTag": obj({"tag_id": {**INT64, "minimum": 1},
                         "resolution": {"type": "string", "enum": list(RESOLUTIONS)},
                         "pay_with_points": {"type": "boolean"}}, ["tag_id"]),
    }


def document(max_points: int = 10000) -> dict[str, Any]:
    points_errors = ["MEMBER_NOT_FOUND", "POINTS_DISABLED"]
    token_errors = BODY + COMMON
    paths = {
        "/api/v1/auth/token/": {"post": op(
            "Client credentials → access and refresh tokens", None,
            responses_of(200, "TokenEnvelope", "A new token pair.", token_errors + ["INVALID_CLIENT"]),
            body="TokenRequest", operation_id="issueToken")},
        "/api/v1/auth/refresh/": {"post": op(
            "Refresh token → a new pair (the old refresh token dies)", None,
            responses_of(200, "TokenEnvelope", "A new token pair.", token_errors + ["INVALID_TOKEN"]),
            body="RefreshRequest", operation_id="refreshToken")},
        "/api/auth/refresh/": {"post": op(
            "Alias of /api/v1/auth/refresh/", None,
            responses_of(200, "TokenEnvelope", "A new token pair.", token_errors + ["INVALID_TOKEN"]),
            body="RefreshRequest", operation_id="refreshTokenAlias")},
        "/api/v1/points/user-levels/": {"get": op(
            "The tenant's levels", permissions.VIEW,
            responses_of(200, "LevelList", "Every level, lowest first.", AUTH + COMMON),
            operation_id="listLevels")},
        "/api/v1/points/profiles/": {
            "get": op("Members, newest first", permissions.VIEW,
                       responses_of(200, "ProfilePage", "A page of profiles.",
                                  AUTH + ["VALIDATION_ERROR"] + COMMON),
                       [*PAGE_PARAMS, fields_param(),
                        param("q", "query", {"type": "string", "maxLength": 200},
                               "An email or a phone number (exact; a number without + is read "
                               "with the tenant's default country code), a user_id prefix "
                               "or part of the name."),
                        param("level", "query", {**INT64, "minimum": 0},
                               "Only members of this level id.")],
                       operation_id="listProfiles"),
            "post": write("Create a member", permissions.MANAGE, "CreateProfile",
                           "ProfileEnvelope", ["MEMBER_EXISTS"], "createProfile"),
        },
        "/api/v1/points/profiles/{user_id}/": {"get": op(
            "One member", permissions.VIEW,
            responses_of(200, "PartialProfileEnvelope", "The profile.",
                       AUTH + ["VALIDATION_ERROR", "MEMBER_NOT_FOUND"] + COMMON),
            [USER_ID_PARAM, fields_param()], operation_id="getProfile")},
        "/api/v1/points/profiles/{user_id}/transactions/": {"get": op(
            "A member's transactions, newest first", permissions.VIEW,
            responses_of(200, "TransactionPage", "A page of transactions.",
                       AUTH + ["VALIDATION_ERROR", "MEMBER_NOT_FOUND"] + COMMON),
            [USER_ID_PARAM, *PAGE_PARAMS,
             param("kind", "query", {"type": "string", "enum": list(KINDS)}, "Only this kind."),
             param("category", "query", {"type": "string", "enum": list(CATEGORIES)},
                    "Only this category.")],
            operation_id="listTransactions")},
        "/api/v1/points/profiles/{user_id}/vip-tags/": {"post": write(
            "Grant a VIP tag", permissions.ADJUST, "GrantTag", "HoldingList",
            ["MEMBER_NOT_FOUND", "NOT_FOUND", "VIP_TAG_CONFLICT", "POINTS_DISABLED",
             "INSUFFICIENT_POINTS"], "grantVipTag", [USER_ID_PARAM])},
        "/api/v1/points/earn/": {"post": write(
            "Earn points", permissions.EARN, "Earn", "OutcomeEnvelope", points_errors, "earn")},
        "/api/v1/points/spend/": {"post": write(
            "Spend points", permissions.SPEND, "Spend", "OutcomeEnvelope",
            points_errors + ["INSUFFICIENT_POINTS"], "spend")},
        "/api/v1/points/adjust/": {"post": write(
            "Adjust points (signed)", permissions.ADJUST, "Adjust", "OutcomeEnvelope",
            points_errors + ["INSUFFICIENT_POINTS"], "adjust")},
        "/api/v1/points/batch-earn/": {"post": write(
            "Earn for up to 1000 members, all or nothing", permissions.EARN, "BatchEarn",
            "BatchEnvelope", [], "batchEarn")},
        "/api/v1/points/transactions/{transaction_id}/reverse/": {"post": write(
            "Reverse a transaction", permissions.ADJUST, "Reverse", "OutcomeEnvelope",
            ["NOT_FOUND", "ALREADY_REVERSED", "NOT_REVERSIBLE", "POINTS_DISABLED"], "reverse",
            [param("transaction_id", "path", {**INT64, "minimum": 1}, "The transaction.")])},
        **programme.paths(),
        "/api/v1/vip/tags/": {"get": op(
            "The tenant's VIP tag catalogue", permissions.VIEW,
            responses_of(200, "TagList", "Every active tag.", AUTH + COMMON),
            operation_id="listVipTags")},
        **webhooks.paths(),
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
            "parameters": {"IdempotencyKey": param(
                "Idempotency-Key", "header",
                {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
                "Makes the write happen once: a repeat with the same body replays the first "
                "response; another body is IDEMPOTENCY_KEY_MISMATCH.")},
        },
    }



@bp.get("/v1/openapi.json")
@ratelimit.anonymous
def openapi_document() -> Response:
    return envelope.respond(document(), 200)
