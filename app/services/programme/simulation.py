"""What an event would earn: the limit counts, the lines of the tenant's rules,
and the two read-only callers, `preview` (the API) and `simulate` (the portal).
`record` computes through the same functions under the member's lock."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.models import EventAward
from app.services import clock, members, tenants
from app.services.programme import rules
from app.services.programme.checks import check_event_type, check_money
from app.services.programme.evaluation import (
    Facts, Line, MemberState, Terms, evaluate, period_bounds,
)
from app.services.programme.event_input import check_input, check_occurred_at
from app.services.programme.outcomes import AwardView, EventOutcome, EventView
from app.services.validation import FieldErrors

_awards = EventAward.__table__


def awarded_counts(member_id: int, terms: list[Terms], at: datetime, zone: Any
                   ) -> dict[int, int]:
    """How many awards each limited rule gave the member in the period holding `at`:
    one statement, whatever the number of rules and the length of the history
    (an index range per rule). Awards later refunded still count: the member did
    sign in, or pay, that day."""
    limited = [t for t in terms if t.limit_count is not None and t.active]
    if not limited:
        return {}
    conditions = []
    for t in limited:
        start, end = period_bounds(t.limit_period or "lifetime", at, zone)
        parts = [_awards.c.rule_id == t.id]
        if start is not None:
            parts += [_awards.c.occurred_at >= start, _awards.c.occurred_at < end]
        conditions.append(and_(*parts))
    rows = db.session.execute(
        select(_awards.c.rule_id, func.count()).where(_awards.c.member_id == member_id,
                                                      or_(*conditions))
        .group_by(_awards.c.rule_id)).all()
    return {rule_id: count for rule_id, count in rows}


def compute(tenant: Any, member_row: Any, facts: Facts,
            terms: list[Terms] | None = None) -> list[Line]:
    """The lines an event earns the member now (reads, writes nothing). `terms`: the
    rules for the event's type, if the caller read them with the member."""
    if terms is None:
        terms = rules.terms_for(tenant.id, facts.event_type)
    counts = awarded_counts(member_row.id, terms, facts.occurred_at, tenants.zone(tenant))
    return evaluate(terms, MemberState(member_row.level_id, counts), facts,
                    tenant.max_points_per_operation)


def award_views(lines: list[Line], facts: Facts, now: datetime) -> list[AwardView]:
    views = []
    for line in lines:
        if line.points <= 0:
            continue
        available_at = facts.occurred_at + timedelta(days=line.terms.pending_days)
        status = "pending" if available_at > now else "available"
        views.append(AwardView(line.terms.id, line.terms.name, line.points, status,
                               available_at, category=line.terms.category))
    return views


def preview(tenant_id: int, **body: Any) -> EventOutcome:
    """What `record` would award now, writing nothing."""
    tenant = tenants.get(tenant_id)
    now = clock.now()
    given = check_input(now=now, require_event_id=False, **body)
    member = members.locate(tenant_id, given.user_id)
    facts = Facts(given.event_type, given.amount, given.occurred_at)
    lines = compute(tenant, member, facts)
    awards = award_views(lines, facts, now)
    event = EventView(given.event_id, given.user_id, given.event_type, given.amount,
                      given.occurred_at, given.attributes, sum(a.points for a in awards))
    return EventOutcome(event, awards, members.profile_of(tenant_id, member), lines, True)


def simulate(tenant_id: int, *, event_type: Any, amount: Any = None, occurred_at: Any = None,
             user_id: Any = None, level_id: int | None = None) -> list[Line]:
    """The portal's simulator: every rule of the event type, line by line, for a
    member (with their limits so far) or for a level. Writes nothing."""
    tenant = tenants.get(tenant_id)
    now = clock.now()
    errors = FieldErrors()
    clean_type = check_event_type(errors, event_type)
    clean_amount = check_money(errors, "amount", amount)
    when = check_occurred_at(errors, occurred_at, now, future_ok=True)
    errors.raise_if_any()
    facts = Facts(clean_type, clean_amount, when)  # type: ignore[arg-type]
    if user_id:
        return compute(tenant, members.locate(tenant_id, user_id), facts)
    return evaluate(rules.terms_for(tenant_id, facts.event_type), MemberState(level_id), facts,
                    tenant.max_points_per_operation)
