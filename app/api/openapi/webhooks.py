"""The webhooks' part of the OpenAPI document: endpoints and their deliveries."""
from __future__ import annotations

from typing import Any

from app.api.openapi.building import (
    AUTH, COMMON, DATETIME, IDEMPOTENCY_PARAM, INT64, PAGE_PARAMS, nullable, obj, op, param,
    ref, responses_of, success, write,
)
from app.services import permissions


def schemas() -> dict[str, Any]:
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


def bodies() -> dict[str, Any]:
    return {
        "CreateWebhookEndpoint": obj({
            "url": {"type": "string", "maxLength": 2000,
                    "description": "https (http to localhost outside production)."},
            "event_types": {"type": "array", "minItems": 1, "items": {"type": "string"},
                            "description": 'Event types, or ["*"] for all.'},
            "description": {"type": "string", "maxLength": 200}}, ["url", "event_types"]),
    }


def paths() -> dict[str, Any]:
    endpoint_param = param("endpoint_id", "path", {**INT64, "minimum": 1}, "The endpoint.")
    return {
        "/api/v1/webhooks/endpoints/": {
            "get": op("The tenant's webhook endpoints (never their secrets)", permissions.MANAGE,
                      responses_of(200, "WebhookEndpointList", "Every endpoint.", AUTH + COMMON),
                      operation_id="listWebhookEndpoints"),
            "post": write("Add a webhook endpoint", permissions.MANAGE, "CreateWebhookEndpoint",
                          "WebhookEndpointCreated", [], "createWebhookEndpoint"),
        },
        "/api/v1/webhooks/endpoints/{endpoint_id}/": {"delete": op(
            "Delete an endpoint: nothing more is sent to it", permissions.MANAGE,
            responses_of(200, "WebhookDeleted", "Deleted.",
                         AUTH + ["VALIDATION_ERROR", "IDEMPOTENCY_KEY_MISMATCH", "NOT_FOUND"]
                         + COMMON),
            [IDEMPOTENCY_PARAM, endpoint_param], operation_id="deleteWebhookEndpoint")},
        "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/": {"get": op(
            "An endpoint's messages, newest first", permissions.MANAGE,
            responses_of(200, "WebhookDeliveryPage", "A page of messages.",
                         AUTH + ["VALIDATION_ERROR", "NOT_FOUND"] + COMMON),
            [endpoint_param, *PAGE_PARAMS], operation_id="listWebhookDeliveries")},
    }
