"""Expiry: what is left of a due lot becomes an `expire` entry.

The job works a batch of members per transaction, so millions of due lots never
hold one long transaction. On PostgreSQL a batch is one statement
(EXPIRE_MEMBERS); elsewhere, and in the tests that compare the two, the
generic path writes the same rows from Python.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Row, bindparam, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY

from app.database import is_postgres
from app.extensions import db
from app.models.base import UTCDateTime
from app.services import bulk, clock
from app.services.context import Actor
from app.services.ledger.entries import (
    ACTOR_LABEL_MAX, allocations_table, ledger_actor_type, ledger_row, lots_table,
    members_table, tx_table,
)
from app.services.uow import transactional
from app.services.webhooks import events

_tx, _lots, _m = tx_table, lots_table, members_table


@dataclass
class ExpiryReport:
    lots: int = 0
    points: int = 0
    members: int = 0


def lot_category() -> Any:
    """The category of the credit a lot came from, looked up by primary key per lot
    (a join lets the planner hash the whole ledger when a batch is large)."""
    return (select(_tx.c.category).where(_tx.c.id == _lots.c.transaction_id)
            .scalar_subquery().label("category"))


def write_expiries(groups: list[tuple[int, int, int, list[Row]]], now: datetime,
                   actor: Actor) -> dict[int, int]:
    """Expire due lots of several locked members: groups of (tenant id, member id,
    balance, lots). A handful of statements whatever the number of lots. Returns
    the points taken per member; the caller updates the member rows."""
    rows, lots, taken = [], [], {}
    for tenant_id, member_id, balance, due in groups:
        for lot in due:
            balance -= lot.remaining
            taken[member_id] = taken.get(member_id, 0) + lot.remaining
            lots.append(lot)
            rows.append(ledger_row(tenant_id=tenant_id, member_id=member_id, kind="expire",
                                   amount=-lot.remaining, balance_after=balance,
                                   category=lot.category, reason="", actor=actor, now=now))
    if not rows:
        return taken
    tx_ids = bulk.insert_rows(_tx, rows, with_ids=True)
    bulk.insert_rows(allocations_table, [
        {"transaction_id": tx_id, "lot_id": lot.id, "amount": lot.remaining}
        for tx_id, lot in zip(tx_ids, lots, strict=True)
    ])
    db.session.execute(update(_lots).where(bulk.id_in(_lots.c.id, [lot.id for lot in lots]))
                       .values(remaining=0))
    return taken


def expire_due(now: datetime | None = None, tenant_id: int | None = None,
               batch_size: int = 500,
               progress: Callable[[ExpiryReport], None] | None = None) -> ExpiryReport:
    """Expire every due lot, a batch of members per transaction. Safe to run twice at
    once: each batch locks its members first and re-reads their lots, so a lot
    expires exactly once."""
    now = now or clock.now()
    report = ExpiryReport()
    members_seen: set[int] = set()
    after: tuple[datetime, int] | None = None
    while True:
        after, member_ids, counts = _expire_next_batch(now, tenant_id, batch_size, after,
                                                       frozenset(members_seen))
        if after is None:
            break
        members_seen.update(member_ids)
        if counts is not None:
            report.lots += counts[0]
            report.points += counts[1]
            report.members += counts[2]
            if progress is not None:
                progress(report)
    if progress is not None:
        progress(report)  # the final tally, also when there was nothing to do
    return report


@transactional
def _expire_next_batch(now: datetime, tenant_id: int | None, batch_size: int,
                       after: tuple[datetime, int] | None, members_seen: frozenset[int],
                       ) -> tuple[tuple[datetime, int] | None, list[int],
                                  tuple[int, int, int] | None]:
    """One transaction: find the next members with due lots (soonest first) and
    expire every due lot of those not seen yet, so each member is touched once.
    Returns where the next batch starts (None: nothing left), the members it took
    and what it did (None: they were all seen)."""
    query = select(_lots.c.id, _lots.c.expires_at, _lots.c.member_id).where(
        _lots.c.remaining > 0, _lots.c.expires_at.is_not(None), _lots.c.expires_at <= now)
    if tenant_id is not None:
        query = query.where(_lots.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(tuple_(_lots.c.expires_at, _lots.c.id) > after)
    candidates = db.session.execute(
        query.order_by(_lots.c.expires_at, _lots.c.id).limit(batch_size)
    ).all()
    if not candidates:
        return None, [], None
    member_ids = sorted({c.member_id for c in candidates} - members_seen)
    next_after = (candidates[-1].expires_at, candidates[-1].id)
    return next_after, member_ids, _expire_batch(member_ids, now) if member_ids else None


def _expires_in_sql() -> bool:
    return is_postgres()


@transactional
def _expire_batch(member_ids: list[int], now: datetime) -> tuple[int, int, int]:
    """Expire every due lot of these members: (lots, points, members touched),
    and queue the webhooks' points.expired in the same transaction."""
    counts = _write_expiries_of(member_ids, now)
    events.expired(member_ids, now)
    return counts


def _write_expiries_of(member_ids: list[int], now: datetime) -> tuple[int, int, int]:
    locked = db.session.execute(
        select(_m.c.id, _m.c.tenant_id, _m.c.total_points)
        .where(bulk.id_in(_m.c.id, member_ids))
        .order_by(_m.c.id).with_for_update()
    ).all()
    actor = Actor.system("expiry")
    if _expires_in_sql():
        return _expire_members_in_sql(member_ids, now, actor)
    # Read the due lots under the locks: a concurrent run may have expired some already.
    lots = db.session.execute(
        select(_lots.c.id, _lots.c.member_id, _lots.c.remaining, _lots.c.expires_at,
               lot_category())
        .where(bulk.id_in(_lots.c.member_id, member_ids), _lots.c.remaining > 0,
               _lots.c.expires_at.is_not(None), _lots.c.expires_at <= now)
        .order_by(_lots.c.member_id, _lots.c.expires_at, _lots.c.id)
    ).all()
    by_member: dict[int, list[Row]] = {}
    for lot in lots:
        by_member.setdefault(lot.member_id, []).append(lot)
    groups = [(m.tenant_id, m.id, m.total_points, by_member[m.id])
              for m in locked if m.id in by_member]
    taken = write_expiries(groups, now, actor)
    bulk.add_to_column(_m, "total_points", {mid: -points for mid, points in taken.items()},
                       updated_at=now)
    return len(lots), sum(taken.values()), len(taken)


# The same bookkeeping as `write_expiries` plus the member update, done by the
# database; why it is shaped this way (plans, OFFSET 0, nextval's place) is in
# docs/ledger.md, "Expiry". The caller holds the members' row locks, taken in an
# earlier statement: under READ COMMITTED this statement then sees every change
# committed before the locks were granted, so a lot a concurrent run expired is
# no longer due.
EXPIRE_MEMBERS = text("""
WITH due AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('point_transactions', 'id')) AS tx_id, d.*
    FROM (
        SELECT l.id AS lot_id, m.tenant_id, m.id AS member_id, l.remaining,
               (SELECT t.category FROM point_transactions t
                WHERE t.id = l.transaction_id) AS category,
               m.total_points - SUM(l.remaining) OVER (
                   PARTITION BY m.id ORDER BY l.expires_at, l.id) AS balance_after
        FROM members m
        CROSS JOIN LATERAL (
            SELECT l.id, l.remaining, l.expires_at, l.transaction_id
            FROM point_lots l
            WHERE l.member_id = m.id AND l.remaining > 0
              AND l.expires_at IS NOT NULL AND l.expires_at <= :now
            OFFSET 0
        ) l
        WHERE m.id = ANY(:member_ids)
        ORDER BY m.id, l.expires_at, l.id
    ) d
), entries AS (
    INSERT INTO point_transactions (
        id, tenant_id, member_id, kind, amount, balance_after, category, reason,
        expires_at, reverses_id, idempotency_key, request_id, actor_type, actor_id,
        actor_label, created_at)
    SELECT tx_id, tenant_id, member_id, 'expire', -remaining, balance_after, category, '',
           NULL, NULL, NULL, :request_id, :actor_type, :actor_id, :actor_label, :now
    FROM due
), allocations AS (
    INSERT INTO lot_allocations (transaction_id, lot_id, amount)
    SELECT tx_id, lot_id, remaining FROM due
), emptied AS (
    UPDATE point_lots SET remaining = 0
    WHERE id = ANY(ARRAY(SELECT lot_id FROM due))
), taken AS MATERIALIZED (
    SELECT member_id, SUM(remaining) AS points, COUNT(*) AS lots FROM due GROUP BY member_id
), moved AS (
    UPDATE members SET total_points = members.total_points - taken.points, updated_at = :now
    FROM taken
    WHERE members.id = ANY(ARRAY(SELECT member_id FROM taken)) AND members.id = taken.member_id
)
SELECT COALESCE(SUM(lots), 0), COALESCE(SUM(points), 0), COUNT(*) FROM taken
""").bindparams(
    bindparam("member_ids", type_=ARRAY(BigInteger())),
    bindparam("now", type_=UTCDateTime()),
)


def _expire_members_in_sql(member_ids: list[int], now: datetime,
                           actor: Actor) -> tuple[int, int, int]:
    """EXPIRE_MEMBERS for these (locked) members: (lots, points, members whose
    points moved)."""
    lots, points, members = db.session.execute(EXPIRE_MEMBERS, {
        "member_ids": member_ids, "now": now, "request_id": actor.request_id,
        "actor_type": ledger_actor_type(actor), "actor_id": actor.id,
        "actor_label": (actor.label or "")[:ACTOR_LABEL_MAX]}).one()
    return int(lots), int(points), int(members)
