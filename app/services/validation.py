"""Input rules shared by every caller of the services (API and portal alike).

Each `check_*` returns the clean value or adds messages to a `FieldErrors`;
services raise one `ValidationFailed` carrying every problem at once.
"""
from __future__ import annotations

import re
from datetime import datetime, UTC
from typing import Any

from flask_babel import gettext as _

from app.models.ledger import CATEGORIES
from app.services.errors import ValidationFailed

REASON_MAX = 500
USER_ID_MAX = 128
DISPLAY_NAME_MAX = 200
EMAIL_MAX = 254
IDEMPOTENCY_KEY_MAX = 255
# No whitespace, no control characters, no '/': user ids appear in URL paths.
_USER_ID_RE = re.compile(r"^[^\s/\\\x00-\x1f\x7f]+$")
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{3,32}$")


class FieldErrors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self, **extra: Any) -> None:
        if self:
            raise ValidationFailed(dict(self), **extra)


def points_constraints(max_points: int, signed: bool = False) -> dict[str, Any]:
    if signed:
        return {"points_amount": {"min": -max_points, "max": max_points, "type": "integer",
                                  "not": 0}}
    return {"points_amount": {"min": 1, "max": max_points, "type": "integer"}}


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_row_id(value: Any) -> bool:
    """Could be a primary key: a positive 64-bit integer. Anything larger would
    overflow the database driver (a 500) instead of simply not being found."""
    return is_integer(value) and 0 < value < 2**63


def is_storable_text(value: Any) -> bool:
    """Text the database can hold: PostgreSQL text cannot hold NUL, and a lone
    surrogate (JSON lets a client send one) cannot be encoded as UTF-8."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_amount(errors: FieldErrors, value: Any, max_points: int, signed: bool = False,
                 field: str = "points_amount") -> int | None:
    if value is None:
        errors.add(field, _("This field is required."))
        return None
    if not is_integer(value):
        errors.add(field, _("Points must be a whole number."))
        return None
    if signed:
        if value == 0:
            errors.add(field, _("An adjustment cannot be zero."))
        elif abs(value) > max_points:
            errors.add(field, _("An adjustment cannot exceed %(max)s points either way.",
                                max=max_points))
        else:
            return value
        return None
    if value <= 0:
        errors.add(field, _("Points must be greater than 0."))
    elif value > max_points:
        errors.add(field, _("Points cannot exceed %(max)s in one operation.", max=max_points))
    else:
        return value
    return None


def check_category(errors: FieldErrors, value: Any, required: bool = True) -> str | None:
    if value is None:
        if required:
            errors.add("category", _("This field is required."))
        return None
    if not isinstance(value, str) or value not in CATEGORIES:
        errors.add("category", _("Not a valid category."))
        return None
    return value


def check_reason(errors: FieldErrors, value: Any, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add("reason", _("The reason must be text."))
        return ""
    if required and not value.strip():
        errors.add("reason", _("A reason is required."))
    if len(value) > REASON_MAX:
        errors.add("reason", _("The reason cannot be longer than %(max)s characters.",
                               max=REASON_MAX))
    if "\x00" in value:
        errors.add("reason", _("The reason cannot contain NUL characters."))
    return value


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 with a time zone (a `Z` suffix included); naive times are UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 0 < len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        return None


def check_datetime(errors: FieldErrors, field: str, value: Any) -> datetime | None:
    """An optional time: None when not given; read as `parse_datetime` does, or None
    with the error added."""
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        errors.add(field, _("Use an ISO 8601 date and time, e.g. 2030-12-31T23:59:59Z."))
    return parsed


def check_expires_at(errors: FieldErrors, value: Any, now: datetime) -> datetime | None:
    parsed = check_datetime(errors, "expires_at", value)
    if parsed is None:
        return None
    if parsed <= now:
        errors.add("expires_at", _("The expiry must be in the future."))
        return None
    if parsed.year > 9999 - 1:
        errors.add("expires_at", _("The expiry is too far in the future."))
        return None
    return parsed


def check_user_id(errors: FieldErrors, value: Any, field: str = "user_id") -> str | None:
    if value is None or value == "":
        errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, str):
        errors.add(field, _("The user id must be text."))
        return None
    if len(value) > USER_ID_MAX:
        errors.add(field, _("The user id cannot be longer than %(max)s characters.",
                            max=USER_ID_MAX))
        return None
    if not _USER_ID_RE.match(value) or not is_storable_text(value):
        errors.add(field, _("The user id cannot contain spaces, slashes or control characters."))
        return None
    return value


def check_text(errors: FieldErrors, field: str, value: Any, max_length: int,
               required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(field, _("This field is required."))
            return None
        return value if isinstance(value, str) else None
    if not isinstance(value, str):
        errors.add(field, _("This field must be text."))
        return None
    if len(value) > max_length:
        errors.add(field, _("This field cannot be longer than %(max)s characters.",
                            max=max_length))
        return None
    if "\x00" in value:
        errors.add(field, _("This field cannot contain NUL characters."))
        return None
    return value


def check_email(errors: FieldErrors, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > EMAIL_MAX or not _EMAIL_RE.match(value):
        errors.add("email", _("Not a valid email address."))
        return None
    return value


def check_phone(errors: FieldErrors, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _PHONE_RE.match(value):
        errors.add("phone", _("Not a valid phone number."))
        return None
    return value


def check_positive_int(errors: FieldErrors, field: str, value: Any, maximum: int,
                       minimum: int = 1, required: bool = True) -> int | None:
    if value is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if not is_integer(value):
        errors.add(field, _("This must be a whole number."))
        return None
    if value < minimum or value > maximum:
        errors.add(field, _("This must be between %(min)s and %(max)s.", min=minimum,
                            max=maximum))
        return None
    return value


def unstorable_at(text: str) -> int | None:
    """Where the first character of `text` that cannot be stored is, or None.

    PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate (which a JSON
    `\\ud800` escape produces) is not a character UTF-8 can encode: both fail in
    the database driver, so they are refused where input is parsed, never
    "cleaned" on the way in."""
    positions = []
    if "\x00" in text:
        positions.append(text.index("\x00"))
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # only surrogates fail to encode
            positions.append(exc.start)
    return min(positions) if positions else None


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored as given (the message for its field), or None."""
    position = unstorable_at(text)
    if position is None:
        return None
    if text[position] == "\x00":
        return _("This text contains a NUL character (U+0000) at position %(position)s, "
                 "which cannot be stored.", position=position + 1)
    return _("This text contains a lone UTF-16 surrogate (U+%(code)04X) at position "
             "%(position)s, which cannot be stored.", code=ord(text[position]),
             position=position + 1)
