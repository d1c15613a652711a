"""Checking an event's body: what `record` and `preview` take, and the
fingerprint that tells a repeat of the same event from another one."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from app.services.programme.checks import check_event_type, check_money
from app.services.validation import (
    IDEMPOTENCY_KEY_MAX, FieldErrors, check_datetime, check_user_id,
)

ATTRIBUTES_MAX_BYTES = 4096
FIELDS = ("event_id", "user_id", "event_type", "amount", "occurred_at", "attributes")


@dataclass(frozen=True)
class EventBody:
    """What an integration reports of an event, checked; a recorded event
    (outcomes.EventView) carries the same and what it led to."""

    event_id: str | None
    user_id: str
    event_type: str
    amount: Decimal | None
    occurred_at: datetime
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Input(EventBody):
    """A checked event body, with the fingerprint that tells a repeat from another event."""

    fingerprint: str



def _check_attributes(errors: FieldErrors, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("attributes", _("Attributes are a JSON object."))
        return {}
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(encoded.encode()) > ATTRIBUTES_MAX_BYTES or "\\u0000" in encoded:
        errors.add("attributes", _("Attributes are at most 4 KiB of JSON, without NUL."))
        return {}
    return value



def check_occurred_at(errors: FieldErrors, value: Any, now: datetime, *,
                      future_ok: bool = False) -> datetime:
    """When the event happened: `value` read as ISO 8601, or now when not given
    (or unreadable, with the error added)."""
    parsed = check_datetime(errors, "occurred_at", value)
    if parsed is None:
        return now
    if parsed > now and not future_ok:
        errors.add("occurred_at", _("An event cannot have happened in the future."))
        return now
    return parsed


def check_input(*, now: datetime, user_id: Any, event_type: Any, event_id: Any = None,
                amount: Any = None, occurred_at: Any = None, attributes: Any = None,
                require_event_id: bool = True) -> Input:
    errors = FieldErrors()
    if event_id is None and not require_event_id:
        clean_id = None
    elif not isinstance(event_id, str) or not 1 <= len(event_id) <= IDEMPOTENCY_KEY_MAX \
            or "\x00" in event_id:
        errors.add("event_id", _("An event id is 1 to %(max)s characters of text.",
                                 max=IDEMPOTENCY_KEY_MAX))
        clean_id = None
    else:
        clean_id = event_id
    clean_user = check_user_id(errors, user_id)
    clean_type = check_event_type(errors, event_type)
    clean_amount = check_money(errors, "amount", amount)
    when = check_occurred_at(errors, occurred_at, now)
    clean_attributes = _check_attributes(errors, attributes)
    errors.raise_if_any()
    body = {"user_id": clean_user, "event_type": clean_type,
            "amount": None if clean_amount is None else str(clean_amount),
            "occurred_at": None if occurred_at is None else when.isoformat(),
            "attributes": clean_attributes}
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                                 .encode()).hexdigest()
    return Input(clean_id, clean_user, clean_type, clean_amount, when,  # type: ignore[arg-type]
                 clean_attributes, fingerprint)
