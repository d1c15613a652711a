"""Input rules of the programme: money amounts, slugs, rule fields."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from app.services.validation import FieldErrors, is_integer

EVENT_TYPE_RE = re.compile(r"^[a-z0-9_.]{1,64}$")
MONEY_MAX = Decimal("9999999999.99")
FACTOR_MAX = Decimal("100")


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as an exact Decimal (never through float
    arithmetic: a float is read by its shortest repr, '12.34' not 12.3399…)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    elif is_integer(value):
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= 32:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def check_money(errors: FieldErrors, field: str, value: Any, *, positive: bool = False,
                maximum: Decimal = MONEY_MAX) -> Decimal | None:
    """A non-negative amount with at most two decimal places."""
    if value is None:
        return None
    number = to_decimal(value)
    if number is None:
        errors.add(field, _("Use a decimal number, e.g. \"10.00\"."))
        return None
    if number.as_tuple().exponent < -2 and number != number.quantize(Decimal("0.01")):
        errors.add(field, _("At most two decimal places."))
        return None
    if number < 0 or (positive and number == 0) or number > maximum:
        if positive:
            errors.add(field, _("This must be greater than 0 and at most %(max)s.",
                                max=maximum))
        else:
            errors.add(field, _("This must be between 0 and %(max)s.", max=maximum))
        return None
    return number.quantize(Decimal("0.01"))


def check_event_type(errors: FieldErrors, value: Any, field: str = "event_type") -> str | None:
    if value is None or value == "":
        errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, str) or not EVENT_TYPE_RE.match(value):
        errors.add(field, _("Use 1-64 lower-case letters, digits, dots and underscores."))
        return None
    return value
