"""Expiry of a batch of members in one PostgreSQL statement.

The same bookkeeping as `points._write_expiries` plus the member update, done
by the database instead of in Python: per due lot an `expire` entry with the
running balance, an allocation, the lot emptied; per member the balance lowered.
At a million lots, shipping every row to Python and back as arrays cost more
than writing them (psycopg dumps each array element in Python), so here only
the member ids go in and three counts come out.

The caller must hold the members' row locks (taken in an earlier statement:
under READ COMMITTED this statement then sees every change committed before
the locks were granted, so a lot a concurrent run expired is no longer due).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db
from app.models.base import UTCDateTime

# Plans that hold for any batch, custom or generic (psycopg prepares a statement
# after a few runs, and PostgreSQL then plans it for unknown ids), so the batch
# needs no plan_cache_mode = force_custom_plan: that setting also re-plans the
# foreign-key checks of every inserted row, which tripled their cost.
# - members by primary key (`= ANY`), then each one's due lots through
#   ix_point_lots_member_open (`OFFSET 0` keeps the LATERAL subquery from being
#   flattened into a join the planner could turn into a scan of every lot);
# - lots and members updated by primary key from arrays, not by a join.
# The ids of the entries follow the running balance (member, expiry, lot id):
# nextval() runs above the sorted subquery, which PostgreSQL does not flatten.
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


def expire_members(member_ids: list[int], now: datetime,
                   **actor_columns: Any) -> tuple[int, int, int]:
    """Expire every lot of these (locked) members due at `now`: (lots, points, members
    whose points moved). `actor_columns`: request_id, actor_type, actor_id, actor_label
    of the entries."""
    lots, points, members = db.session.execute(
        EXPIRE_MEMBERS, {"member_ids": member_ids, "now": now, **actor_columns}).one()
    return int(lots), int(points), int(members)
