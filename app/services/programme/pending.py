"""Activation: due pending awards become earns.

Batched like expiry: each batch is one transaction over a few hundred awards. A
batch locks its members (in id order, like every other writer) before it reads
their pending awards again, so two activators, or an activator and a revoke or
an event, never settle the same award twice: the second finds it settled.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import EventAward, PendingAward
from app.services import audit, bulk, clock, levels, tenants
from app.services.context import Actor
from app.services.ledger.entries import (
    default_expiry, ledger_row, lots_table, members_table, tx_table,
)
from app.services.uow import transactional
from app.services.webhooks import events as webhook_events

SYSTEM = Actor(type="system", label="activation")
_m, _awards, _pending = members_table, EventAward.__table__, PendingAward.__table__


@dataclass
class ActivationReport:
    awards: int = 0
    points: int = 0
    members: int = 0
    settled: int = 0  # pending rows closed, zero-point leftovers of refunds included


def _due(tenant_id: int | None, now: datetime, limit: int) -> list[tuple[int, int]]:
    """(tenant id, member id) of members with due pending awards."""
    query = (select(_pending.c.tenant_id, _pending.c.member_id).where(_pending.c.settled_at.is_(None),
                                                _pending.c.available_at <= now)
             .order_by(_pending.c.available_at, _pending.c.id).limit(limit))
    if tenant_id is not None:
        query = query.where(_pending.c.tenant_id == tenant_id)
    return sorted({(r.tenant_id, r.member_id) for r in db.session.execute(query)})


@transactional
def _activate_members(due_members: list[tuple[int, int]], now: datetime, actor: Actor
                      ) -> ActivationReport:
    report = ActivationReport()
    # Credits derive levels: hold each tenant's levels steady first, as every credit does.
    tenant_rows = {tid: tenants.get_for_level_write(tid)
                   for tid in sorted({t for t, _ in due_members})}
    member_ids = [m for _, m in due_members]
    locked = db.session.execute(
        select(_m).where(_m.c.id.in_(member_ids)).order_by(_m.c.id).with_for_update()).all()
    due = db.session.execute(
        select(_pending.c.id, _pending.c.member_id, _pending.c.award_id, _pending.c.points,
               _awards.c.rule_values, _awards.c.rule_name)
        .join(_awards, _awards.c.id == _pending.c.award_id)
        .where(_pending.c.member_id.in_(member_ids), _pending.c.settled_at.is_(None),
               _pending.c.available_at <= now)
        .order_by(_pending.c.member_id, _pending.c.id)).all()
    if not due:
        return report
    members_by_id = {m.id: m for m in locked}
    balances = {m.id: m.total_points for m in locked}
    lifetimes = {m.id: m.lifetime_points for m in locked}
    pendings = {m.id: m.pending_points for m in locked}
    entries, activated = [], []
    for p in due:
        member = members_by_id[p.member_id]
        pendings[member.id] -= p.points
        if p.points == 0:
            continue
        values = p.rule_values or {}
        tenant = tenant_rows[member.tenant_id]
        balances[member.id] += p.points
        lifetimes[member.id] += p.points
        entries.append(ledger_row(
            tenant_id=member.tenant_id, member_id=member.id, kind="earn", amount=p.points,
            balance_after=balances[member.id], category=values.get("category", "manual"),
            reason=p.rule_name, actor=actor, now=now,
            expires_at=default_expiry(values.get("expires_in_days")
                                      or tenant.default_expiry_days, now)))
        activated.append(p)
    tx_ids = bulk.insert_rows(tx_table, entries, with_ids=True)
    bulk.insert_rows(lots_table, [
        {"tenant_id": e["tenant_id"], "member_id": e["member_id"], "transaction_id": tx_id,
         "amount": e["amount"], "remaining": e["amount"], "expires_at": e["expires_at"],
         "created_at": now} for e, tx_id in zip(entries, tx_ids, strict=True)])
    db.session.execute(update(_pending).where(_pending.c.id.in_([p.id for p in due]))
                       .values(settled_at=now))
    if activated:
        db.session.execute(
            update(_awards).where(_awards.c.id == bindparam("a_id"))
            .values(status="available", transaction_id=bindparam("tx_id")),
            [{"a_id": p.award_id, "tx_id": tx_id} for p, tx_id in zip(activated, tx_ids,
                                                                      strict=True)])
    level_lists: dict[int, Any] = {}
    params = []
    for m in locked:
        level_list = level_lists.setdefault(m.tenant_id, levels.list_levels(m.tenant_id,
                                                                            fresh=True))
        params.append({"m_id": m.id, "balance": balances[m.id], "lifetime": lifetimes[m.id],
                       "pending": pendings[m.id],
                       "level_id": getattr(levels.level_for(level_list, lifetimes[m.id]),
                                           "id", None)})
    db.session.execute(
        update(_m).where(_m.c.id == bindparam("m_id"))
        .values(total_points=bindparam("balance"), lifetime_points=bindparam("lifetime"),
                pending_points=bindparam("pending"), level_id=bindparam("level_id"),
                updated_at=now), params)
    for tenant_id in tenant_rows:
        ids = [tx for e, tx in zip(entries, tx_ids, strict=True) if e["tenant_id"] == tenant_id]
        if ids:
            audit.record(tenant_id, actor, "points.activate", "batch", ids[0],
                         {"awards": len(ids), "transaction_ids": [ids[0], ids[-1]]}, at=now)
            webhook_events.entries_written(
                tenant_id, ids, event_type="points.activated",
                lifetimes_before={m.id: m.lifetime_points for m in locked
                                  if m.tenant_id == tenant_id})
    report.settled = len(due)
    report.awards = len(activated)
    report.points = sum(e["amount"] for e in entries)
    report.members = len({e["member_id"] for e in entries})
    return report


def activate_due(tenant_id: int | None = None, batch_size: int = 500,
                 now: datetime | None = None, actor: Actor = SYSTEM) -> ActivationReport:
    """Turn every pending award due by `now` into an earn; one transaction per batch."""
    when = now or clock.now()
    total = ActivationReport()
    while True:
        due_members = _due(tenant_id, when, batch_size)
        db.session.rollback()  # end the read: each batch is its own write transaction
        if not due_members:
            return total
        report = _activate_members(due_members, when, actor)
        total.awards += report.awards
        total.points += report.points
        total.members += report.members
