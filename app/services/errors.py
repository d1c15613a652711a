"""Domain errors and the registry of error codes.

Every error code of the API's envelope is registered here once, with its HTTP
status and a human message; the envelope, the `/docs/errors/<CODE>` pages and
the OpenAPI document are all generated from this registry. Services raise
`DomainError`s and know nothing of HTTP beyond the status number they carry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    message: Any  # a lazy string: translated when rendered
    explanation: Any
    details: tuple[str, ...] = ()


_REGISTRY: dict[str, ErrorCode] = {}


def _register(code: str, status: int, message, explanation, details: tuple[str, ...] = ()) -> str:
    _REGISTRY[code] = ErrorCode(code, status, message, explanation, details)
    return code


BAD_REQUEST = _register(
    "BAD_REQUEST", 400, _l("The request could not be read."),
    _l("The body is not valid JSON, not a JSON object, not UTF-8, or nested too deeply."),
)
PAYLOAD_TOO_LARGE = _register(
    "PAYLOAD_TOO_LARGE", 413, _l("The request body is too large."),
    _l("Request bodies are limited to 1 MiB; split large batches."), ("max_bytes",),
)
AUTHENTICATION_REQUIRED = _register(
    "AUTHENTICATION_REQUIRED", 401, _l("Authentication is required."),
    _l("Send an access token in the Authorization header: Bearer <access_token>."),
)
INVALID_TOKEN = _register(
    "INVALID_TOKEN", 401, _l("The access token is invalid or has expired."),
    _l("Obtain a new access token with your refresh token, or with your client credentials."),
    ("token_expired", "expiry_time", "refresh_token_available"),
)
INVALID_CLIENT = _register(
    "INVALID_CLIENT", 401, _l("The client credentials are not valid."),
    _l("The client id or secret is wrong, or the client has been revoked."),
)
INSUFFICIENT_PERMISSIONS = _register(
    "INSUFFICIENT_PERMISSIONS", 403, _l("You do not have permission to do this."),
    _l("The credentials lack a permission the operation requires; ask the tenant owner."),
    ("required_permissions", "user_permissions", "missing_permissions"),
)
NOT_FOUND = _register(
    "NOT_FOUND", 404, _l("The resource was not found."),
    _l("Nothing exists at this address, or it belongs to another tenant."),
)
MEMBER_NOT_FOUND = _register(
    "MEMBER_NOT_FOUND", 404, _l("The member was not found."),
    _l("No member with this user_id exists in your tenant."),
)
METHOD_NOT_ALLOWED = _register(
    "METHOD_NOT_ALLOWED", 405, _l("This method is not allowed here."),
    _l("The path exists but does not accept this HTTP method."), ("allowed_methods",),
)
VIP_TAG_CONFLICT = _register(
    "VIP_TAG_CONFLICT", 409, _l("The member already holds a VIP tag of this type."),
    _l("Repeat the request with one of the resolution_options: upgrade_existing, "
       "extend_existing or replace_existing."),
    ("existing_tag", "requested_tag", "resolution_options"),
)
MEMBER_EXISTS = _register(
    "MEMBER_EXISTS", 409, _l("A member with this user_id already exists."),
    _l("user_id is unique within a tenant; fetch the existing profile instead."),
)
ALREADY_REVERSED = _register(
    "ALREADY_REVERSED", 409, _l("This transaction has already been reversed."),
    _l("A transaction can be reversed once; details.reversal_id names the reversal."),
    ("reversal_id",),
)
VALIDATION_ERROR = _register(
    "VALIDATION_ERROR", 422, _l("The request data is not valid."),
    _l("details.field_errors lists what is wrong with each field; nothing was changed."),
    ("field_errors", "validation_errors", "valid_categories", "field_constraints"),
)
INSUFFICIENT_POINTS = _register(
    "INSUFFICIENT_POINTS", 422, _l("The member does not have enough points."),
    _l("The balance is lower than the amount; details give the shortage."),
    ("required_points", "available_points", "shortage", "suggestions"),
)
IDEMPOTENCY_KEY_MISMATCH = _register(
    "IDEMPOTENCY_KEY_MISMATCH", 422, _l("This idempotency key was used with another request."),
    _l("An idempotency key identifies one request: reuse it only to retry that same request."),
)
POINTS_DISABLED = _register(
    "POINTS_DISABLED", 422, _l("Points are disabled for this member."),
    _l("A tenant admin has switched off points for this member."),
)
NOT_REVERSIBLE = _register(
    "NOT_REVERSIBLE", 422, _l("This transaction cannot be reversed."),
    _l("Expiries and reversals cannot be reversed, nor a credit with nothing left of it."),
)
RULE_NOT_FOUND = _register(
    "RULE_NOT_FOUND", 404, _l("The earning rule was not found."),
    _l("No earning rule with this id exists in your tenant."),
)
EVENT_NOT_FOUND = _register(
    "EVENT_NOT_FOUND", 404, _l("The event was not found."),
    _l("No event with this event_id has been recorded in your tenant."),
)
EVENT_EXISTS = _register(
    "EVENT_EXISTS", 409, _l("An event with this event_id was recorded with another body."),
    _l("event_id identifies one event forever: a repeat with the same body returns the first "
       "answer; send a new event_id for a new event."),
)
ALREADY_REVOKED = _register(
    "ALREADY_REVOKED", 409, _l("Nothing is left of this event to revoke."),
    _l("Every award of the event has already been taken back, or its whole amount refunded."),
)
RATE_LIMIT_EXCEEDED = _register(
    "RATE_LIMIT_EXCEEDED", 429, _l("Too many requests."),
    _l("Wait details.retry_after seconds (also the Retry-After header) before retrying."),
    ("retry_after",),
)
INTERNAL_SERVER_ERROR = _register(
    "INTERNAL_SERVER_ERROR", 500, _l("An internal error occurred. Please try again later."),
    _l("Something failed on our side. Quote details.error_id when you contact support."),
    ("error_id", "retry_after"),
)
SERVICE_UNAVAILABLE = _register(
    "SERVICE_UNAVAILABLE", 503, _l("The service is temporarily unavailable."),
    _l("The database or another required service is down, or a maintenance window is on."),
    ("maintenance_window", "estimated_downtime"),
)


def registry() -> dict[str, ErrorCode]:
    return dict(_REGISTRY)


def lookup(code: str) -> ErrorCode | None:
    return _REGISTRY.get(code)


@dataclass
class DomainError(Exception):
    """A rule refused the operation. Nothing was changed."""

    code: str
    details: dict[str, Any] = field(default_factory=dict)
    message: str | None = None  # overrides the registry's message

    def __post_init__(self) -> None:
        super().__init__(self.code)
        if self.code not in _REGISTRY:
            raise ValueError(f"unregistered error code {self.code}")

    @property
    def status(self) -> int:
        return _REGISTRY[self.code].status

    def text(self) -> str:
        return str(self.message) if self.message is not None else str(_REGISTRY[self.code].message)


class ValidationFailed(DomainError):
    """VALIDATION_ERROR with `field_errors` (and, for batches, `validation_errors`)."""

    def __init__(self, field_errors: dict[str, list[str]] | None = None, **extra: Any) -> None:
        details: dict[str, Any] = {"field_errors": field_errors or {}}
        details.update(extra)
        super().__init__(VALIDATION_ERROR, details)

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return self.details["field_errors"]

