"""Revoke: a refund or a return takes an event's points back.

Without an amount, every award goes: pending ones are cancelled, available ones
reversed (what is left of their lots). With an amount of money refunded, the
awards are worked out again with the rule values they applied, for the money
that remains, and the difference is taken back, pending awards first. What the
member has already spent is reported as `not_recovered`, never taken below zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import EventAward, PendingAward, ProgrammeEvent, Revocation
from app.services import audit, clock, ledger, members, tenants
from app.services.context import Actor
from app.services.errors import (
    ALREADY_REVOKED, POINTS_DISABLED, DomainError, ValidationFailed,
)
from app.services.ledger.entries import (
    allocations_table, insert_entry, ledger_row, lots_table, members_table, tx_table,
)
from app.services.programme.checks import check_money
from app.services.programme.evaluation import Terms, recompute
from app.services.programme.events import find_event_row
from app.services.programme.outcomes import EventView, event_view
from app.services.uow import transactional
from app.services.webhooks import events as webhook_events
from app.services.validation import FieldErrors, check_reason

_m, _lots, _alloc, _tx = members_table, lots_table, allocations_table, tx_table
_events, _awards, _pending = (ProgrammeEvent.__table__, EventAward.__table__,
                              PendingAward.__table__)


@dataclass
class RevokeOutcome:
    event: EventView
    taken_back: int
    cancelled_pending: int
    not_recovered: int
    profile: members.Profile


def _take_from_lot(tenant_id: int, actor: Actor, member_id: int, award: Any, want: int,
                   reason: str, now: datetime, whole: bool) -> int:
    """Take up to `want` points of an available award back from its lot; how many
    came back. The whole of what is left goes by a reversal; part of it by a
    negative adjustment drawn on that lot alone."""
    lot = db.session.execute(select(_lots).where(
        _lots.c.transaction_id == award.transaction_id).with_for_update()).one()
    take = min(want, lot.remaining)
    if take == 0:
        return 0
    reversed_already = db.session.execute(select(_tx.c.id).where(
        _tx.c.reverses_id == award.transaction_id)).first()
    if whole and take == lot.remaining and reversed_already is None:
        ledger.reverse(tenant_id, actor, award.transaction_id, reason=reason)
        return take
    row = db.session.execute(
        update(_m).where(_m.c.id == member_id)
        .values(total_points=_m.c.total_points - take, updated_at=now)
        .returning(_m.c.total_points)).one()
    category = (award.rule_values or {}).get("category", "manual")
    tx_id = insert_entry(ledger_row(
        tenant_id=tenant_id, member_id=member_id, kind="adjust", amount=-take,
        balance_after=row.total_points, category=category, reason=reason, actor=actor,
        now=now))
    db.session.execute(insert(_alloc).values(transaction_id=tx_id, lot_id=lot.id, amount=take))
    db.session.execute(update(_lots).where(_lots.c.id == lot.id)
                       .values(remaining=_lots.c.remaining - take))
    webhook_events.entries_written(tenant_id, [tx_id])
    return take


@transactional
def revoke(tenant_id: int, actor: Actor, event_id: Any, *, reason: Any,
           amount: Any = None) -> RevokeOutcome:
    errors = FieldErrors()
    reason = check_reason(errors, reason, required=True)
    refund = check_money(errors, "amount", amount, positive=True)
    errors.raise_if_any()
    tenants.get_for_level_write(tenant_id)  # reversals move levels
    event = find_event_row(tenant_id, event_id)
    member = db.session.execute(select(_m).where(_m.c.id == event.member_id)
                                .with_for_update()).one()
    if not member.is_points_enabled:  # as every other change of the member's points
        raise DomainError(POINTS_DISABLED, {"user_id": member.user_id})
    event = find_event_row(tenant_id, event_id)  # as it is now that the member is ours
    if event.revoked:
        raise DomainError(ALREADY_REVOKED, {"event_id": event.event_id})
    awards = list(db.session.execute(select(_awards).where(_awards.c.event_id == event.id)
                                     .order_by(_awards.c.id)))
    effective = {a.id: a.points - a.revoked_points for a in awards}
    refunded = event.refunded_amount or Decimal("0.00")
    if refund is None:
        if sum(effective.values()) == 0:
            raise DomainError(ALREADY_REVOKED, {"event_id": event.event_id})
        targets = {a.id: 0 for a in awards}
        remaining_money = None
    else:
        left = (event.amount or Decimal("0.00")) - refunded
        if event.amount is None:
            raise ValidationFailed({"amount": [_("This event has no amount to refund.")]})
        if left <= 0:
            raise DomainError(ALREADY_REVOKED, {"event_id": event.event_id})
        if refund > left:
            raise ValidationFailed({"amount": [_("At most %(left)s is left to refund.",
                                                 left=f"{left:.2f}")]})
        remaining_money = left - refund
        terms = [(Terms.from_snapshot(a.rule_values), a.points) for a in awards]
        targets = dict(zip([a.id for a in awards], recompute(terms, remaining_money),
                           strict=True))
    owed = max(sum(effective.values()) - sum(min(targets[a.id], effective[a.id])
                                             for a in awards), 0)
    now = clock.now()
    taken_back = cancelled = not_recovered = 0
    whole = refund is None or remaining_money == 0
    # Pending awards first, then available ones, each in the order they were made.
    for award in sorted(awards, key=lambda a: (a.status != "pending", a.id)):
        if owed == 0:
            break
        take = min(owed, effective[award.id])
        if take == 0:
            continue
        owed -= take
        if award.status == "pending":
            db.session.execute(
                update(_pending).where(_pending.c.award_id == award.id)
                .values(points=_pending.c.points - take,
                        settled_at=now if take == effective[award.id] else None))
            db.session.execute(update(_m).where(_m.c.id == member.id)
                               .values(pending_points=_m.c.pending_points - take,
                                       updated_at=now))
            cancelled += take
        else:
            back = _take_from_lot(tenant_id, actor, member.id, award, take, reason, now, whole)
            taken_back += back
            not_recovered += take - back
        left_of_award = effective[award.id] - take
        db.session.execute(
            update(_awards).where(_awards.c.id == award.id)
            .values(revoked_points=_awards.c.revoked_points + take,
                    status="cancelled" if left_of_award == 0 else award.status))
    db.session.execute(
        update(_events).where(_events.c.id == event.id)
        .values(refunded_amount=refunded + (refund or 0), revoked=whole))
    db.session.execute(insert(Revocation.__table__).values(
        tenant_id=tenant_id, event_id=event.id, amount=refund, reason=reason,
        taken_back=taken_back, cancelled_pending=cancelled, not_recovered=not_recovered,
        actor_label=(actor.label or "")[:254], request_id=actor.request_id, created_at=now))
    audit.record(tenant_id, actor, "event.revoke", "event", event.event_id,
                 {"user_id": member.user_id, "amount": None if refund is None else str(refund),
                  "taken_back": taken_back, "cancelled_pending": cancelled,
                  "not_recovered": not_recovered, "reason": reason}, at=now)
    fresh = find_event_row(tenant_id, event.event_id)
    outcome = RevokeOutcome(event_view(fresh, member.user_id), taken_back, cancelled,
                            not_recovered, members.get_profile(tenant_id, member.user_id))
    webhook_events.event_revoked(tenant_id, outcome.event.as_dict(), taken_back, outcome.profile)
    return outcome


def revocations_of(tenant_id: int, event_pk: int) -> list[Any]:
    """An event's refunds, oldest first."""
    table = Revocation.__table__
    return list(db.session.execute(select(table).where(
        table.c.tenant_id == tenant_id, table.c.event_id == event_pk).order_by(table.c.id)))
