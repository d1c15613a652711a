"""Earning rules: create, change, list, and the terms the evaluation applies."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, select

from app.extensions import db
from app.models import CATEGORIES, EarningRule, Level
from app.models.programme import AWARD_TYPES, LIMIT_PERIODS
from app.services import audit, clock
from app.services.context import Actor
from app.services.errors import RULE_NOT_FOUND, DomainError, ValidationFailed
from app.services.programme.checks import FACTOR_MAX, check_event_type, check_money
from app.services.programme.evaluation import FIXED, MULTIPLIER, PER_AMOUNT, Terms
from app.services.tenants import MAX_EXPIRY_DAYS, MAX_POINTS_CEILING
from app.services.uow import transactional
from app.services.validation import (
    FieldErrors, check_datetime, check_positive_int, check_text, is_row_id,
)

NAME_MAX = 120
PENDING_DAYS_MAX = 365
LIMIT_COUNT_MAX = 1_000_000
FIELDS = ("name", "event_type", "category", "award", "min_amount", "levels", "starts_at",
          "ends_at", "limit", "max_points", "expires_in_days", "pending_days", "active")
_rules = table = EarningRule.__table__


def get(tenant_id: int, rule_id: Any) -> EarningRule:
    """The tenant-scoped loader: another tenant's rule is not found."""
    if not is_row_id(rule_id):
        raise DomainError(RULE_NOT_FOUND)
    rule = db.session.execute(
        select(EarningRule).where(EarningRule.tenant_id == tenant_id, EarningRule.id == rule_id)
    ).scalar_one_or_none()
    if rule is None:
        raise DomainError(RULE_NOT_FOUND)
    return rule


def list_rules(tenant_id: int, active: bool | None = None) -> list[EarningRule]:
    query = select(EarningRule).where(EarningRule.tenant_id == tenant_id)
    if active is not None:
        query = query.where(EarningRule.active.is_(active))
    return list(db.session.execute(query.order_by(EarningRule.id)).scalars())


# Built once: the rules an event of a type may match (inactive ones included, so
# the simulator can say why they gave nothing).
_FOR_EVENT = select(_rules).where(_rules.c.tenant_id == bindparam("tenant_id"),
                                  _rules.c.event_type == bindparam("event_type")
                                  ).order_by(_rules.c.id)


def terms_for(tenant_id: int, event_type: str) -> list[Terms]:
    return [terms_of(r) for r in db.session.execute(
        _FOR_EVENT, {"tenant_id": tenant_id, "event_type": event_type})]


# A statement that reads a member with the rules an event may match (one row per
# rule, LEFT JOINed on the tenant and `event_type`, ordered by RULES_ORDER) labels
# the rules' columns thus; `terms_in` reads them back.
RULE_COLUMNS = tuple(column.label(f"r_{column.name}") for column in _rules.c)
RULES_ORDER = _rules.c.id


def rules_for_event(member: Any) -> Any:
    """The join condition of those rules with `member` (a selectable of members)."""
    return and_(_rules.c.tenant_id == member.c.tenant_id,
                _rules.c.event_type == bindparam("event_type"))


class _Labelled:
    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, f"r_{name}")


def terms_in(rows: list[Any]) -> list[Terms]:
    """The rules of rows read with RULE_COLUMNS (none if the join found none)."""
    return [terms_of(_Labelled(r)) for r in rows if r.r_id is not None]


def terms_of(rule: Any) -> Terms:
    """The values of a rule (an ORM object or a row) as the evaluation applies them."""
    return Terms(
        id=rule.id, name=rule.name, event_type=rule.event_type, category=rule.category,
        award_type=rule.award_type, points=rule.points, per=rule.per, factor=rule.factor,
        min_amount=rule.min_amount,
        level_ids=tuple(rule.level_ids) if rule.level_ids is not None else None,
        starts_at=rule.starts_at, ends_at=rule.ends_at, limit_count=rule.limit_count,
        limit_period=rule.limit_period, max_points=rule.max_points,
        expires_in_days=rule.expires_in_days, pending_days=rule.pending_days or 0,
        active=rule.active)


def award_of(rule: Any) -> dict[str, Any]:
    if rule.award_type == FIXED:
        return {"type": FIXED, "points": rule.points}
    if rule.award_type == PER_AMOUNT:
        return {"type": PER_AMOUNT, "points": rule.points, "per": f"{rule.per:.2f}"}
    return {"type": MULTIPLIER, "factor": f"{Decimal(rule.factor).normalize():f}"}


# --------------------------------------------------------------------------- checks

def _check_award(errors: FieldErrors, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        errors.add("award", _("Give an award: {\"type\": \"fixed\", \"points\": N}, "
                              "per_amount or multiplier."))
        return None
    kind = value.get("type")
    if kind not in AWARD_TYPES:
        errors.add("award", _("The award's type is fixed, per_amount or multiplier."))
        return None
    allowed = {FIXED: {"type", "points"}, PER_AMOUNT: {"type", "points", "per"},
               MULTIPLIER: {"type", "factor"}}[kind]
    unknown = sorted(set(value) - allowed)
    if unknown:
        errors.add("award", _("Unknown award field: %(name)s.", name=", ".join(unknown)))
        return None
    out: dict[str, Any] = {"award_type": kind, "points": None, "per": None, "factor": None}
    if kind in (FIXED, PER_AMOUNT):
        sub = FieldErrors()
        out["points"] = check_positive_int(sub, "points", value.get("points"),
                                           MAX_POINTS_CEILING)
        for message in sub.get("points", []):
            errors.add("award.points", message)
    if kind == PER_AMOUNT:
        if value.get("per") is None:
            errors.add("award.per", _("This field is required."))
        sub = FieldErrors()
        out["per"] = check_money(sub, "per", value.get("per"), positive=True)
        for message in sub.get("per", []):
            errors.add("award.per", message)
    if kind == MULTIPLIER:
        sub = FieldErrors()
        factor = check_money(sub, "factor", value.get("factor"), maximum=FACTOR_MAX)
        if value.get("factor") is None:
            errors.add("award.factor", _("This field is required."))
        elif factor is not None and factor < 1:
            errors.add("award.factor", _("A multiplier is at least 1."))
            factor = None
        for message in sub.get("factor", []):
            errors.add("award.factor", message)
        out["factor"] = factor
    return out


def _check_limit(errors: FieldErrors, value: Any) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, Mapping) or set(value) != {"count", "period"}:
        errors.add("limit", _("Give {\"count\": N, \"period\": \"day\"|\"week\"|\"month\"|"
                              "\"lifetime\"}, or null."))
        return None, None
    count = check_positive_int(errors, "limit.count", value.get("count"), LIMIT_COUNT_MAX)
    period = value.get("period")
    if period not in LIMIT_PERIODS:
        errors.add("limit.period", _("The period is day, week, month or lifetime."))
        return None, None
    return count, period


def _check_levels(errors: FieldErrors, tenant_id: int, value: Any) -> list[int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(is_row_id(v) for v in value) \
            or len(value) > 100:
        errors.add("levels", _("Give a list of level ids, or null for every level."))
        return None
    wanted = sorted(set(value))
    known = set(db.session.execute(
        select(Level.id).where(Level.tenant_id == tenant_id, Level.id.in_(wanted))).scalars())
    missing = [v for v in wanted if v not in known]
    if missing:
        errors.add("levels", _("No such level: %(ids)s.", ids=", ".join(map(str, missing))))
        return None
    return wanted


def _checked(tenant_id: int, values: Mapping[str, Any], current: EarningRule | None
             ) -> dict[str, Any]:
    """The columns of a rule from API-shaped `values` (all of them for a new rule;
    those given for a change, merged over `current`)."""
    errors = FieldErrors()
    out: dict[str, Any] = {}
    given = set(values)
    if current is None or "name" in given:
        out["name"] = check_text(errors, "name", values.get("name"), NAME_MAX, required=True)
    if current is None or "event_type" in given:
        out["event_type"] = check_event_type(errors, values.get("event_type"))
    if current is None or "category" in given or "event_type" in given:
        category = values.get("category", current.category if current and
                               "event_type" not in given else None)
        if category is None:
            event_type = out.get("event_type") or (current.event_type if current else None)
            if event_type in CATEGORIES:
                category = event_type
            elif "event_type" not in errors:
                errors.add("category", _("Give a category: the event type is not one of "
                                         "the eight."))
        if category is not None and category not in CATEGORIES:
            errors.add("category", _("Not a valid category."))
        out["category"] = category
    if current is None or "award" in given:
        award = _check_award(errors, values.get("award"))
        if award:
            out.update(award)
    if "min_amount" in given:
        out["min_amount"] = check_money(errors, "min_amount", values.get("min_amount"))
    if "levels" in given:
        out["level_ids"] = _check_levels(errors, tenant_id, values.get("levels"))
    for name in ("starts_at", "ends_at"):
        if name in given:
            out[name] = check_datetime(errors, name, values.get(name))
    if "limit" in given:
        out["limit_count"], out["limit_period"] = _check_limit(errors, values.get("limit"))
    for name, maximum, minimum in (("max_points", MAX_POINTS_CEILING, 1),
                                   ("expires_in_days", MAX_EXPIRY_DAYS, 1),
                                   ("pending_days", PENDING_DAYS_MAX, 0)):
        if name in given:
            out[name] = check_positive_int(errors, name, values.get(name), maximum,
                                           minimum=minimum, required=name == "pending_days")
    if "active" in given:
        if not isinstance(values.get("active"), bool):
            errors.add("active", _("This must be true or false."))
        out["active"] = values.get("active")
    starts = out.get("starts_at", current.starts_at if current else None)
    ends = out.get("ends_at", current.ends_at if current else None)
    if starts is not None and ends is not None and ends <= starts:
        errors.add("ends_at", _("The end must be after the start."))
    errors.raise_if_any(valid_categories=list(CATEGORIES))
    return out


def audit_values(rule: EarningRule) -> dict[str, Any]:
    """A rule's values as the audit log keeps them (JSON-safe)."""
    return terms_of(rule).snapshot()


@transactional
def create(tenant_id: int, actor: Actor, values: Mapping[str, Any]) -> EarningRule:
    if not isinstance(values, Mapping):
        raise ValidationFailed({"rule": [_("A rule is a JSON object.")]})
    columns = _checked(tenant_id, values, None)
    now = clock.now()
    rule = EarningRule(tenant_id=tenant_id, created_at=now, updated_at=now,
                       **{"pending_days": 0, "active": True, **columns})
    db.session.add(rule)
    db.session.flush()
    audit.record(tenant_id, actor, "rule.create", "earning_rule", rule.id,
                 {"after": audit_values(rule)}, at=now)
    return rule


@transactional
def update(tenant_id: int, actor: Actor, rule_id: Any, values: Mapping[str, Any]
           ) -> EarningRule:
    """Change a rule; events already recorded keep the values they applied."""
    rule = get(tenant_id, rule_id)
    columns = _checked(tenant_id, values, rule)
    before = audit_values(rule)
    for name, value in columns.items():
        setattr(rule, name, value)
    after = audit_values(rule)
    if after != before:
        rule.updated_at = clock.now()
        db.session.flush()
        audit.record(tenant_id, actor, "rule.update", "earning_rule", rule.id,
                     {"before": before, "after": after})
    return rule


def set_active(tenant_id: int, actor: Actor, rule_id: Any, active: bool) -> EarningRule:
    return update(tenant_id, actor, rule_id, {"active": active})
