"""Credits: earn, and the credit half of adjust. Each credit is a new lot."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update

from app.extensions import db
from app.services import audit, clock, levels, members, tenants
from app.services.context import Actor
from app.services.errors import POINTS_DISABLED, DomainError
from app.services.ledger.validation import EARN, validated
from app.services.ledger.entries import (
    Outcome, default_expiry, insert_credit, ledger_row, members_table, view_of,
)
from app.services.uow import transactional
from app.services.webhooks import events

_m = members_table


def _credit_member_statement() -> Any:
    """Lock the member, move both balances and re-derive the level, in one UPDATE."""
    amount, now = bindparam("amount", type_=_m.c.total_points.type), bindparam("now")
    new_lifetime = _m.c.lifetime_points + amount
    return (
        update(_m)
        .where(_m.c.tenant_id == bindparam("b_tenant"), _m.c.user_id == bindparam("b_user"),
               _m.c.is_points_enabled.is_(True))
        .values(total_points=_m.c.total_points + amount, lifetime_points=new_lifetime,
                level_id=levels.level_subquery(new_lifetime), updated_at=now,
                last_activity_at=now)
        .returning(*_m.c)
    )


_CREDIT_MEMBER = _credit_member_statement()


def credit(tenant_id: int, actor: Actor, *, user_id: str, amount: int, kind: str,
           category: str, reason: str, expires_at: datetime | None, now: datetime,
           idempotency_key: str | None, audit_action: str) -> Outcome:
    """Add `amount` (> 0) as a new lot. One UPDATE locks the member, moves both
    balances and re-derives the level."""
    row = db.session.execute(_CREDIT_MEMBER, {
        "b_tenant": tenant_id, "b_user": user_id, "amount": amount, "now": now}).first()
    if row is None:  # no such member (locate says so), or its points are disabled
        members.locate(tenant_id, user_id)
        raise DomainError(POINTS_DISABLED, {"user_id": user_id})
    entry = ledger_row(tenant_id=tenant_id, member_id=row.id, kind=kind, amount=amount,
                       balance_after=row.total_points, category=category, reason=reason,
                       actor=actor, now=now, expires_at=expires_at,
                       idempotency_key=idempotency_key)
    tx_id = insert_credit(entry)
    audit.record(tenant_id, actor, audit_action, "member", user_id,
                 {"transaction_id": tx_id, "points_amount": amount, "category": category,
                  "reason": reason}, at=now)
    outcome = Outcome(view_of(tx_id, user_id, entry, actor), members.profile_of(
        tenant_id, members.MemberRecord.of(row)))
    events.ledger_change(tenant_id, outcome, lifetime_before=row.lifetime_points - amount)
    return outcome


@transactional
def earn(tenant_id: int, actor: Actor, *, user_id: Any, points_amount: Any, category: Any,
         reason: Any = None, expires_at: Any = None, idempotency_key: Any = None) -> Outcome:
    tenant = tenants.get_for_level_write(tenant_id)
    now = clock.now()
    op = validated(EARN, max_points=tenant.max_points_per_operation, now=now, user_id=user_id,
                   points_amount=points_amount, category=category, reason=reason,
                   expires_at=expires_at, idempotency_key=idempotency_key)
    return credit(tenant_id, actor, user_id=op.user_id, amount=op.amount, kind="earn",
                  category=op.category, reason=op.reason,
                  expires_at=op.expires_at or default_expiry(tenant.default_expiry_days, now),
                  now=now, idempotency_key=op.idempotency_key, audit_action="points.earn")
