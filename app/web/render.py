"""Helpers every portal view shares: full page or htmx partial, service errors
onto form fields, and one-time keys that make a double submit a single change."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import render_template, request
from flask_wtf import FlaskForm

from app.extensions import htmx
from app.services import idempotency
from app.services.errors import DomainError, ValidationFailed

KEY_PREFIX = "portal:"
T = TypeVar("T")


def is_partial() -> bool:
    """An htmx request wants the fragment; a history restore (or no htmx at all)
    wants the whole page."""
    return bool(htmx) and not htmx.history_restore_request


def page(full: str, partial: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """The full page includes the partial, so both always show the same thing."""
    return render_template(partial if is_partial() else full, **context), status


def apply_errors(form: FlaskForm, exc: DomainError) -> None:
    """Put a service's field errors on the form's fields; the rest become form errors
    (a business refusal such as INSUFFICIENT_POINTS is shown by the template)."""
    field_errors = exc.field_errors if isinstance(exc, ValidationFailed) else \
        exc.details.get("field_errors", {}) if isinstance(exc.details, dict) else {}
    unplaced: list[str] = []
    for name, messages in field_errors.items():
        field = form._fields.get(name)
        if field is None or field.type == "HiddenField":  # nowhere to show it
            unplaced.extend(messages)
        else:
            field.errors = list(field.errors) + list(messages)
    form.form_errors.extend(unplaced)


def new_key() -> str:
    return KEY_PREFIX + uuid.uuid4().hex


def submitted_fields(form: FlaskForm) -> dict[str, Any]:
    """What the person asked for, for the idempotency fingerprint (without the
    CSRF token, which changes with the session)."""
    return {name: field.data for name, field in form._fields.items()
            if name not in ("csrf_token", "idempotency_key")
            and not hasattr(field.data, "read")}


def once(tenant_id: int, key: str | None, form: FlaskForm,
         operation: Callable[[], Mapping[str, Any]]) -> tuple[dict[str, Any], bool]:
    """Run `operation` once per form key. Returns its result (a small JSON-able
    dict) and whether this was a replay of an earlier submit of the same form."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 64 or "\x00" in key:
        key = new_key()  # a missing or forged key: no protection, but no error either

    def run() -> idempotency.Response:
        return idempotency.Response(200, dict(operation()))

    fp = idempotency.fingerprint(request.method, request.path, submitted_fields(form))
    response = idempotency.run(tenant_id, key, fp, run)
    return response.body, response.replayed


def business_message(exc: DomainError) -> str:
    """The text a form shows for a refusal, with the numbers that explain it."""
    from flask_babel import format_decimal
    from flask_babel import gettext as _

    if exc.code == "INSUFFICIENT_POINTS" and isinstance(exc.details, dict):
        return _("Not enough points: %(available)s available, %(required)s needed "
                 "(%(shortage)s short).",
                 available=format_decimal(exc.details.get("available_points", 0)),
                 required=format_decimal(exc.details.get("required_points", 0)),
                 shortage=format_decimal(exc.details.get("shortage", 0)))
    return exc.text()


def refuse(form: FlaskForm, exc: DomainError) -> int:
    """Show a service's refusal on the form; returns the status to answer with."""
    if isinstance(exc, ValidationFailed) or exc.code == "VALIDATION_ERROR":
        apply_errors(form, exc)
        if not any(f.errors for f in form) and not form.form_errors:
            form.form_errors.append(exc.text())
    else:
        form.form_errors.append(business_message(exc))
    return exc.status if exc.status in (409, 422) else 422


def attempt(form: FlaskForm, operation: Callable[[], T]) -> tuple[T | None, int]:
    """Check the form, then run the service `operation`. Returns its result and 0
    when it was done; otherwise None and the status to answer with, the errors
    being on the form (422 for the form's own checks, or the refusal's)."""
    if not form.validate():
        return None, 422
    try:
        return operation(), 0
    except DomainError as exc:
        return None, refuse(form, exc)
