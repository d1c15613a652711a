"""The one validator of a points operation, shared by earn, spend, adjust and
each item of a batch earn."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from app.models.ledger import CATEGORIES
from app.services.validation import (
    IDEMPOTENCY_KEY_MAX, FieldErrors, check_amount, check_category, check_expires_at,
    check_reason, check_user_id, points_constraints,
)

EARN, SPEND, ADJUST = "earn", "spend", "adjust"


@dataclass(frozen=True)
class Operation:
    """A checked operation. A field is None only when `errors` names it."""

    user_id: str
    amount: int  # signed for an adjustment
    category: str
    reason: str
    expires_at: datetime | None
    idempotency_key: str | None


def check_idempotency_key(errors: FieldErrors, key: Any) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key or len(key) > IDEMPOTENCY_KEY_MAX or "\x00" in key:
        errors.add("idempotency_key", _("An idempotency key is 1 to %(max)s characters.",
                                        max=IDEMPOTENCY_KEY_MAX))
        return None
    return key


def check_operation(kind: str, errors: FieldErrors, *, max_points: int, now: datetime,
                    user_id: Any, points_amount: Any, category: Any, reason: Any = None,
                    expires_at: Any = None, idempotency_key: Any = None) -> Operation:
    """Check one earn, spend or adjust; every problem goes to `errors`. An earn
    takes an expiry; an adjustment is signed, needs a reason and defaults its
    category to manual."""
    signed = kind == ADJUST
    clean_user = check_user_id(errors, user_id)
    amount = check_amount(errors, points_amount, max_points, signed=signed)
    if signed:
        clean_category = check_category(errors, category, required=False) or (
            None if "category" in errors else "manual")
    else:
        clean_category = check_category(errors, category)
    clean_reason = check_reason(errors, reason, required=signed)
    expiry = check_expires_at(errors, expires_at, now) if kind == EARN else None
    key = check_idempotency_key(errors, idempotency_key)
    return Operation(clean_user, amount, clean_category, clean_reason, expiry, key)  # type: ignore[arg-type]


def raise_if_invalid(errors: FieldErrors, max_points: int, signed: bool = False) -> None:
    errors.raise_if_any(valid_categories=list(CATEGORIES),
                        field_constraints=points_constraints(max_points, signed))


def validated(kind: str, *, max_points: int, now: datetime, **fields: Any) -> Operation:
    """`check_operation`, refusing the whole operation on any problem."""
    errors = FieldErrors()
    operation = check_operation(kind, errors, max_points=max_points, now=now, **fields)
    raise_if_invalid(errors, max_points, signed=kind == ADJUST)
    return operation
