"""Debits: spend, the debit half of adjust, and paying for a VIP tag. A debit
consumes lots soonest-expiring first; lots already past their expiry are expired
first, whether or not the expiry job has run yet."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, insert, select, update

from app.extensions import db
from app.services import audit, clock, members, tenants
from app.services.context import Actor
from app.services.errors import INSUFFICIENT_POINTS, DomainError
from app.services.ledger.validation import ADJUST, SPEND, validated
from app.services.ledger.credits import credit
from app.services.ledger.entries import (
    Outcome, TxView, allocations_table, default_expiry, insert_entry, ledger_row, lots_table,
    members_table, require_points_enabled, view_of,
)
from app.services.ledger.expiry import lot_category, write_expiries
from app.services.uow import transactional
from app.services.webhooks import events

_lots, _m = lots_table, members_table
_LOT_CHUNK = 200


def _suggestions() -> list[str]:
    return [_("Complete daily tasks to earn points"), _("Invite friends to earn a referral bonus"),
            _("Buy a points pack")]


def insufficient(required: int, available: int) -> DomainError:
    return DomainError(INSUFFICIENT_POINTS, {
        "required_points": required, "available_points": available,
        "shortage": required - available, "suggestions": _suggestions(),
    })


def _lock_member(tenant_id: int, user_id: str) -> members.MemberRecord:
    member = members.locate(tenant_id, user_id, lock=True)
    require_points_enabled(member)
    return member


def _open_lots(member_id: int) -> Iterator[Row]:
    """The member's lots with points left, soonest expiry first, never-expiring last,
    read in chunks so a member with thousands of lots costs what a debit needs."""
    base = (
        select(_lots.c.id, _lots.c.remaining, _lots.c.expires_at, lot_category())
        .where(_lots.c.member_id == member_id, _lots.c.remaining > 0)
    )
    last: tuple[datetime, int] | None = None
    while True:  # lots with an expiry, keyset on (expires_at, id)
        query = base.where(_lots.c.expires_at.is_not(None))
        if last is not None:
            query = query.where(
                (_lots.c.expires_at > last[0])
                | ((_lots.c.expires_at == last[0]) & (_lots.c.id > last[1]))
            )
        rows = db.session.execute(
            query.order_by(_lots.c.expires_at, _lots.c.id).limit(_LOT_CHUNK)
        ).all()
        yield from rows
        if len(rows) < _LOT_CHUNK:
            break
        last = (rows[-1].expires_at, rows[-1].id)
    last_id = 0
    while True:  # then the lots that never expire
        rows = db.session.execute(
            base.where(_lots.c.expires_at.is_(None), _lots.c.id > last_id)
            .order_by(_lots.c.id).limit(_LOT_CHUNK)
        ).all()
        yield from rows
        if len(rows) < _LOT_CHUNK:
            break
        last_id = rows[-1].id


def debit(tenant_id: int, actor: Actor, member: members.MemberRecord, *, amount: int, kind: str,
          category: str, reason: str, now: datetime, idempotency_key: str | None,
          audit_action: str,
          audit_extra: dict[str, Any] | None = None) -> tuple[TxView, members.MemberRecord]:
    """Take `amount` (> 0) from a member whose row the caller has locked; the entry
    and the member's row after it."""
    balance = member.total_points
    due: list[Row] = []
    takes: list[tuple[int, int]] = []  # (lot id, points taken)
    needed = amount
    for lot in _open_lots(member.id):
        if lot.expires_at is not None and lot.expires_at <= now:
            due.append(lot)
            continue
        if needed == 0:
            break
        take = min(lot.remaining, needed)
        takes.append((lot.id, take))
        needed -= take
    expired_points = sum(lot.remaining for lot in due)
    if needed > 0:
        raise insufficient(amount, balance - expired_points)
    write_expiries([(tenant_id, member.id, balance, due)], now, actor)
    balance -= expired_points + amount
    entry = ledger_row(tenant_id=tenant_id, member_id=member.id, kind=kind, amount=-amount,
                       balance_after=balance, category=category, reason=reason, actor=actor,
                       now=now, idempotency_key=idempotency_key)
    tx_id = insert_entry(entry)
    db.session.execute(insert(allocations_table), [
        {"transaction_id": tx_id, "lot_id": lot_id, "amount": take} for lot_id, take in takes
    ])
    db.session.execute(
        update(_lots).where(_lots.c.id == bindparam("lot_id"))
        .values(remaining=_lots.c.remaining - bindparam("take")),
        [{"lot_id": lot_id, "take": take} for lot_id, take in takes],
    )
    row = members.MemberRecord.of(db.session.execute(
        update(_m).where(_m.c.id == member.id)
        .values(total_points=_m.c.total_points - (amount + expired_points),
                updated_at=now, last_activity_at=now)
        .returning(*_m.c)
    ).one())
    assert row.total_points == balance, "ledger and balance diverged"
    data = {"transaction_id": tx_id, "points_amount": -amount, "category": category,
            "reason": reason}
    if expired_points:
        data["expired_first"] = expired_points
    data.update(audit_extra or {})
    audit.record(tenant_id, actor, audit_action, "member", member.user_id, data, at=now)
    view = view_of(tx_id, member.user_id, entry, actor)
    if expired_points:
        events.expired([member.id], now)
    events.ledger_change(tenant_id, lambda: Outcome(view, members.profile_of(tenant_id, row)))
    return view, row


@transactional
def spend(tenant_id: int, actor: Actor, *, user_id: Any, points_amount: Any, category: Any,
          reason: Any = None, idempotency_key: Any = None) -> Outcome:
    tenant = tenants.get(tenant_id)
    now = clock.now()
    op = validated(SPEND, max_points=tenant.max_points_per_operation, now=now, user_id=user_id,
                   points_amount=points_amount, category=category, reason=reason,
                   idempotency_key=idempotency_key)
    member = _lock_member(tenant_id, op.user_id)
    view, row = debit(tenant_id, actor, member, amount=op.amount, kind="spend",
                      category=op.category, reason=op.reason, now=now,
                      idempotency_key=op.idempotency_key, audit_action="points.spend")
    return Outcome(view, members.profile_of(tenant_id, row))


@transactional
def adjust(tenant_id: int, actor: Actor, *, user_id: Any, points_amount: Any, reason: Any,
           category: Any = None, idempotency_key: Any = None) -> Outcome:
    """A signed manual correction. A positive one is a new lot (with the tenant's
    default expiry) and counts toward lifetime points; a negative one consumes lots."""
    tenant = tenants.get_for_level_write(tenant_id)
    now = clock.now()
    op = validated(ADJUST, max_points=tenant.max_points_per_operation, now=now,
                   user_id=user_id, points_amount=points_amount, category=category,
                   reason=reason, idempotency_key=idempotency_key)
    if op.amount > 0:
        return credit(tenant_id, actor, user_id=op.user_id, amount=op.amount, kind="adjust",
                      category=op.category, reason=op.reason,
                      expires_at=default_expiry(tenant.default_expiry_days, now), now=now,
                      idempotency_key=op.idempotency_key, audit_action="points.adjust",
                      listening=tenant.listening)
    member = _lock_member(tenant_id, op.user_id)
    view, row = debit(tenant_id, actor, member, amount=-op.amount, kind="adjust",
                      category=op.category, reason=op.reason, now=now,
                      idempotency_key=op.idempotency_key, audit_action="points.adjust")
    return Outcome(view, members.profile_of(tenant_id, row))
