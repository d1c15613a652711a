"""The programme's portal forms, and how their fields become the service's values.

Every field is text: the service checks types and ranges once, for the API and
the portal alike, and its messages land on the fields here."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.programme import LIMIT_PERIODS
from app.web.forms import Form

# SelectChoice, not a dict: WTForms takes a dict's labels as plain strings only.
AWARD_CHOICES = [SelectChoice("fixed", _l("Fixed points")),
                 SelectChoice("per_amount", _l("Points per amount")),
                 SelectChoice("multiplier", _l("Multiplier"))]
PERIOD_CHOICES = [SelectChoice("", _l("No limit")), SelectChoice("day", _l("per day")),
                  SelectChoice("week", _l("per week")), SelectChoice("month", _l("per month")),
                  SelectChoice("lifetime", _l("in all"))]
assert {c.value for c in PERIOD_CHOICES if c.value} == set(LIMIT_PERIODS)
# Where the service's field names land on the form.
ERROR_FIELDS = {"award": "award_type", "award.points": "points", "award.per": "per",
                "award.factor": "factor", "limit": "limit_period", "limit.count": "limit_count",
                "limit.period": "limit_period"}


class RuleForm(Form):
    name = StringField(_l("Name"))
    event_type = StringField(_l("Event type"))
    category = SelectField(_l("Category"))  # choices: translated, per request (views)
    award_type = SelectField(_l("Award"), choices=AWARD_CHOICES)
    points = StringField(_l("Points"))
    per = StringField(_l("For each (amount)"))
    factor = StringField(_l("Factor"))
    min_amount = StringField(_l("Minimum amount"))
    levels = SelectMultipleField(_l("Only members at these levels"), coerce=int,
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    starts_at = StringField(_l("From (local time)"))
    ends_at = StringField(_l("Until (local time)"))
    limit_count = StringField(_l("At most (times)"))
    limit_period = SelectField(_l("Limit period"), choices=PERIOD_CHOICES)
    max_points = StringField(_l("At most points per event"))
    expires_in_days = StringField(_l("Points expire after (days)"))
    pending_days = StringField(_l("Pending for (days)"))
    active = BooleanField(_l("Active"))


class SimulatorForm(Form):
    user_id = StringField(_l("Member (user id)"))
    level = SelectField(_l("Or a level"), coerce=str)
    event_type = StringField(_l("Event type"))
    amount = StringField(_l("Amount"))
    occurred_at = StringField(_l("When (local time)"))


class RevokeForm(Form):
    reason = StringField(_l("Reason"))
    amount = StringField(_l("Refunded amount (empty: everything)"))


def _number(text: str | None) -> Any:
    """A whole number when it is one; otherwise the text, for the service to refuse."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 16 else text


def local_time(text: str | None, zone: ZoneInfo) -> Any:
    """`2026-12-05T00:00` as typed (the tenant's wall clock) made aware; other
    text goes to the service as it is, to be refused there."""
    if text is None or not text.strip():
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def rule_values(form: RuleForm, zone: ZoneInfo) -> dict[str, Any]:
    kind = form.award_type.data
    award: dict[str, Any] = {"type": kind}
    if kind in ("fixed", "per_amount"):
        award["points"] = _number(form.points.data)
    if kind == "per_amount":
        award["per"] = (form.per.data or "").strip() or None
    if kind == "multiplier":
        award["factor"] = (form.factor.data or "").strip() or None
    limit = None
    if form.limit_period.data:
        limit = {"count": _number(form.limit_count.data), "period": form.limit_period.data}
    return {
        "name": form.name.data, "event_type": (form.event_type.data or "").strip(),
        "category": form.category.data or None, "award": award,
        "min_amount": (form.min_amount.data or "").strip() or None,
        "levels": list(form.levels.data) or None,
        "starts_at": local_time(form.starts_at.data, zone),
        "ends_at": local_time(form.ends_at.data, zone), "limit": limit,
        "max_points": _number(form.max_points.data),
        "expires_in_days": _number(form.expires_in_days.data),
        "pending_days": _number(form.pending_days.data) or 0, "active": bool(form.active.data),
    }


def fill(form: RuleForm, rule: Any, zone: ZoneInfo) -> None:
    """A rule's values into an edit form."""
    form.name.data, form.event_type.data = rule.name, rule.event_type
    form.category.data, form.award_type.data = rule.category, rule.award_type
    form.points.data = "" if rule.points is None else str(rule.points)
    form.per.data = "" if rule.per is None else f"{rule.per:.2f}"
    form.factor.data = "" if rule.factor is None else f"{rule.factor.normalize():f}"
    form.min_amount.data = "" if rule.min_amount is None else f"{rule.min_amount:.2f}"
    form.levels.data = list(rule.level_ids or [])
    form.starts_at.data = "" if rule.starts_at is None else \
        rule.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    form.ends_at.data = "" if rule.ends_at is None else \
        rule.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    form.limit_count.data = "" if rule.limit_count is None else str(rule.limit_count)
    form.limit_period.data = rule.limit_period or ""
    form.max_points.data = "" if rule.max_points is None else str(rule.max_points)
    form.expires_in_days.data = "" if rule.expires_in_days is None else str(rule.expires_in_days)
    form.pending_days.data = str(rule.pending_days or 0)
    form.active.data = rule.active
