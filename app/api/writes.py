"""Idempotent writes: the `Idempotency-Key` header (or, when it is absent, the
body's `operation_id`) makes a write happen once, whatever the retries.

The key is claimed in the same transaction as the write's effect
(services/idempotency.run); the first request and every replay are answered with
the stored JSON text itself, so they are byte-for-byte the same.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_babel import gettext as _

from app import envelope
from app.api.auth import principal
from app.services import idempotency
from app.services.errors import ValidationFailed
from app.services.validation import IDEMPOTENCY_KEY_MAX

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"

# What a write produces: (status, data), given the key it runs under.
Producer = Callable[[str | None], tuple[int, Any]]


def idempotency_key(body: dict[str, Any]) -> str | None:
    header = request.headers.get(HEADER)
    if header is not None:
        if not 1 <= len(header) <= IDEMPOTENCY_KEY_MAX or "\x00" in header:
            raise ValidationFailed({HEADER: [_("An idempotency key is 1 to %(max)s characters.",
                                                max=IDEMPOTENCY_KEY_MAX)]})
        return header
    operation_id = body.get("operation_id")
    if operation_id is None:
        return None
    if not isinstance(operation_id, str) or not 1 <= len(operation_id) <= IDEMPOTENCY_KEY_MAX \
            or "\x00" in operation_id:
        raise ValidationFailed({"operation_id": [
            _("An operation id is 1 to %(max)s characters of text.", max=IDEMPOTENCY_KEY_MAX)]})
    return operation_id


def perform(body: dict[str, Any], produce: Producer,
            headers: dict[str, str] | None = None, *, claimed_by_write: bool = False
            ) -> Response:
    """Run a write once per idempotency key and render its envelope.
    `claimed_by_write`: the write claims the key in its own statement
    (idempotency.run)."""
    key = idempotency_key(body)
    if key is None:
        status, data = produce(None)
        return envelope.success(data, status, headers=headers)

    def operation() -> idempotency.Response:
        status, data = produce(key)
        return idempotency.Response(status, envelope.success_body(data))

    fp = idempotency.fingerprint(request.method, request.path, body)
    result = idempotency.run(principal().tenant_id, key, fp, operation,
                             claimed_by_write=claimed_by_write)
    out_headers = dict(headers or {})
    if result.replayed:
        out_headers[REPLAYED] = "true"
    return envelope.respond_text(result.text, result.status, out_headers)
