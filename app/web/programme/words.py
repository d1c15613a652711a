"""Rules in words, as the rules page lists them ("1 point per ¥10.00", "×1.5 for Gold")."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import format_decimal, lazy_gettext as _l
from flask_babel import gettext as _

from app.services.programme import evaluation as ev

REASONS = {
    ev.AWARDED: _l("awarded"), ev.INACTIVE: _l("the rule is inactive"),
    ev.OUTSIDE_WINDOW: _l("outside the rule's dates"),
    ev.OTHER_LEVEL: _l("not for this member's level"),
    ev.BELOW_MIN_AMOUNT: _l("below the minimum amount"), ev.NO_AMOUNT: _l("the event has no amount"),
    ev.LIMIT_REACHED: _l("limit reached for this period"),
    ev.NOTHING_TO_MULTIPLY: _l("nothing to multiply"),
    ev.SMALLER_MULTIPLIER: _l("a larger multiplier applies"),
    ev.CUT_TO_RULE_MAX: _l("cut to the rule's maximum"),
    ev.CUT_TO_TENANT_MAX: _l("cut to the maximum per operation"),
}
PERIODS = {"day": _l("a day"), "week": _l("a week"), "month": _l("a month"),
           "lifetime": _l("in all")}


def _factor(value: Decimal) -> str:
    return format_decimal(value.normalize())


def award_words(rule: Any, level_names: dict[int, str]) -> str:
    if rule.award_type == ev.FIXED:
        text = (_("%(num)s point", num=rule.points) if rule.points == 1
                else _("%(num)s points", num=rule.points))
    elif rule.award_type == ev.PER_AMOUNT:
        per = format_decimal(rule.per, "#,##0.00")
        text = (_("%(num)s point per ¥%(per)s", num=rule.points, per=per) if rule.points == 1
                else _("%(num)s points per ¥%(per)s", num=rule.points, per=per))
    else:
        text = "×" + _factor(Decimal(rule.factor))
    if rule.level_ids:
        names = ", ".join(level_names.get(i, str(i)) for i in rule.level_ids)
        text = _("%(award)s for %(levels)s", award=text, levels=names)
    return text


def limit_words(rule: Any) -> str:
    if rule.limit_count is None:
        return "—"
    if rule.limit_count == 1:
        return _("once %(period)s", period=PERIODS[rule.limit_period])
    return _("%(num)s times %(period)s", num=rule.limit_count,
             period=PERIODS[rule.limit_period])


def reason_words(reason: str) -> str:
    return str(REASONS.get(reason, reason))
