"""Recompute every ledger invariant from the rows themselves.

Used by the tests after every step, by the benchmarks after a run, and by
operators (`flask points verify`). Returns a list of problems; empty is healthy.
"""
from __future__ import annotations

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import LotAllocation, Member, PointLot, PointTransaction


def verify(tenant_id: int | None = None) -> list[str]:
    problems: list[str] = []
    tx, lots, m = PointTransaction, PointLot, Member
    original = aliased(PointTransaction)

    member_filter = [m.tenant_id == tenant_id] if tenant_id is not None else []
    tx_sum = (select(tx.member_id, func.sum(tx.amount).label("s")).group_by(tx.member_id)
              .subquery())
    lot_sum = (select(lots.member_id, func.sum(lots.remaining).label("s"))
               .group_by(lots.member_id).subquery())
    # lifetime = positive earns and adjusts, less what their reversals took back
    credit = and_(tx.kind.in_(("earn", "adjust")), tx.amount > 0)
    life_direct = (select(tx.member_id, func.sum(case((credit, tx.amount), else_=0)).label("s"))
                   .group_by(tx.member_id).subquery())
    life_reversed = (
        select(tx.member_id, func.sum(tx.amount).label("s"))
        .join(original, original.id == tx.reverses_id)
        .where(tx.kind == "reversal", original.kind.in_(("earn", "adjust")), original.amount > 0)
        .group_by(tx.member_id).subquery()
    )
    rows = db.session.execute(
        select(m.id, m.user_id, m.total_points, m.lifetime_points,
               func.coalesce(tx_sum.c.s, 0), func.coalesce(lot_sum.c.s, 0),
               func.coalesce(life_direct.c.s, 0) + func.coalesce(life_reversed.c.s, 0))
        .outerjoin(tx_sum, tx_sum.c.member_id == m.id)
        .outerjoin(lot_sum, lot_sum.c.member_id == m.id)
        .outerjoin(life_direct, life_direct.c.member_id == m.id)
        .outerjoin(life_reversed, life_reversed.c.member_id == m.id)
        .where(*member_filter)
    ).all()
    for _mid, user_id, balance, lifetime, ledger, remaining, life in rows:
        if balance < 0:
            problems.append(f"member {user_id}: negative balance {balance}")
        if balance != ledger:
            problems.append(f"member {user_id}: balance {balance} != ledger sum {ledger}")
        if balance != remaining:
            problems.append(f"member {user_id}: balance {balance} != lots remaining {remaining}")
        if lifetime != life:
            problems.append(f"member {user_id}: lifetime {lifetime} != recomputed {life}")

    # balance_after is the running sum, entry by entry, in id order.
    running: dict[int, int] = {}
    query = select(tx.id, tx.member_id, tx.amount, tx.balance_after).order_by(tx.id)
    if tenant_id is not None:
        query = query.where(tx.tenant_id == tenant_id)
    for tid, mid, amount, after in db.session.execute(query.execution_options(yield_per=5000)):
        running[mid] = running.get(mid, 0) + amount
        if running[mid] != after:
            problems.append(f"transaction {tid}: balance_after {after} != running sum {running[mid]}")
            running[mid] = after

    # Each allocation-backed debit took exactly its amount from lots.
    alloc = (select(LotAllocation.transaction_id, func.sum(LotAllocation.amount).label("s"))
             .group_by(LotAllocation.transaction_id).subquery())
    query = (select(tx.id, tx.amount, alloc.c.s).join(alloc, alloc.c.transaction_id == tx.id)
             .where(tx.amount < 0))
    if tenant_id is not None:
        query = query.where(tx.tenant_id == tenant_id)
    for tid, amount, allocated in db.session.execute(query):
        if -amount != allocated:
            problems.append(f"transaction {tid}: debit {amount} allocated {allocated}")
    problems.extend(_pending_problems(tenant_id))
    return problems


def _pending_problems(tenant_id: int | None) -> list[str]:
    """Pending points: each member's equal the unsettled pending awards, and never
    reach the balance (an activated award is one earn of its points)."""
    from app.models import EventAward, PendingAward

    m, pending, awards = Member, PendingAward, EventAward
    held = (select(pending.member_id, func.sum(pending.points).label("s"))
            .where(pending.settled_at.is_(None)).group_by(pending.member_id).subquery())
    query = (select(m.user_id, m.pending_points, func.coalesce(held.c.s, 0))
             .outerjoin(held, held.c.member_id == m.id)
             .where(m.pending_points != func.coalesce(held.c.s, 0)))
    if tenant_id is not None:
        query = query.where(m.tenant_id == tenant_id)
    problems = [f"member {user_id}: pending {stored} != pending awards {summed}"
                for user_id, stored, summed in db.session.execute(query)]
    earns = (select(awards.id, awards.points, PointTransaction.amount, PointTransaction.kind)
             .join(PointTransaction, PointTransaction.id == awards.transaction_id)
             .where((PointTransaction.kind != "earn") | (PointTransaction.amount != awards.points)
                    | (PointTransaction.member_id != awards.member_id)))
    if tenant_id is not None:
        earns = earns.where(awards.tenant_id == tenant_id)
    problems += [f"award {aid}: {points} points but its entry is a {kind} of {amount}"
                 for aid, points, amount, kind in db.session.execute(earns)]
    return problems
