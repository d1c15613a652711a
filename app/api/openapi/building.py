"""The pieces every area of the OpenAPI document is built from: schema helpers,
error responses from the error registry, parameters and operations."""
from __future__ import annotations

from typing import Any

from app.api import serializers
from app.models.ledger import CATEGORIES
from app.services.errors import registry
from app.services.members import MAX_PAGE_SIZE
from app.services.validation import REASON_MAX, USER_ID_MAX

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


def success(data: dict[str, Any], paged: bool = False) -> dict[str, Any]:
    """The success envelope around `data`."""
    props = {"success": {"type": "boolean", "const": True}, "data": data}
    if paged:
        props["page_info"] = ref("PageInfo")
    return obj(props, list(props))


# Request body fields more than one area takes.
USER_ID_FIELD = {"type": "string", "minLength": 1, "maxLength": USER_ID_MAX,
                 "pattern": r"^[^\s/\\\x00-\x1f\x7f]+$"}
CATEGORY_FIELD = {"type": "string", "enum": list(CATEGORIES)}
REASON_FIELD = {"type": "string", "maxLength": REASON_MAX, "pattern": r"^[^\x00]*$"}


# --------------------------------------------------------------------------- operations

def _codes_by_status(codes: list[str]) -> dict[int, list[str]]:
    known = registry()
    result: dict[int, list[str]] = {}
    for code in codes:
        result.setdefault(known[code].status, []).append(code)
    return result


def responses_of(success_status: int, success_schema: str, description: str,
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


def param(name: str, where: str, schema: dict[str, Any], description: str,
          required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path",
            "schema": schema, "description": description}


def fields_param() -> dict[str, Any]:
    names = "|".join(serializers.PROFILE_FIELDS)
    return param("fields", "query",
                 {"type": "string", "pattern": f"^(({names})(,({names}))*)?$"},
                 "Comma-separated profile keys to return (empty: all); unknown names are "
                 "refused.")


PAGE_PARAMS = [
    param("page_size", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                                 "default": 20}, "Items per page (at most 100)."),
    param("cursor", "query", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
          "page_info.next_cursor of the previous page; opaque."),
]
USER_ID_PARAM = param("user_id", "path", {"type": "string", "minLength": 1,
                                          "maxLength": USER_ID_MAX,
                                          "pattern": r"^[^\s/\\\x00-\x1f\x7f?#%]+$"},
                      "The integration's id of the member.")
IDEMPOTENCY_PARAM = {"$ref": "#/components/parameters/IdempotencyKey"}
REPLAYED_HEADER = {"Idempotent-Replayed": {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present on a replay of an earlier request with the same key."}}


def op(summary: str, permission: str | None, responses: dict[str, Any],
       parameters: list[dict[str, Any]] | None = None, body: str | None = None,
       operation_id: str = "") -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "operationId": operation_id,
                                 "responses": responses}
    if permission:
        operation["description"] = f"Needs the permission `{permission}`."
        operation["security"] = [{"bearerAuth": []}]
    else:
        operation["security"] = []
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {
            "required": True, "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    return operation


def write(summary: str, permission: str, body: str, success_schema: str, errors: list[str],
          operation_id: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An idempotent write: 201, replayable, taking the Idempotency-Key header."""
    return op(summary, permission,
              responses_of(201, success_schema, "Created; a replay answers the first response again.",
                           AUTH + WRITE + errors + COMMON, REPLAYED_HEADER),
              [IDEMPOTENCY_PARAM, *(parameters or [])], body, operation_id)
