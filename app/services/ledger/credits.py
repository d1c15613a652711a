"""Credits: earn, and the credit half of adjust. Each credit is a new lot."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update

from app.database import execute_lean, is_postgres
from app.extensions import db
from app.services import audit, clock, idempotency, levels, member_tags, members, tenants
from app.services.context import Actor
from app.services.errors import POINTS_DISABLED, DomainError
from app.services.ledger import credit_statement
from app.services.ledger.validation import EARN, validated
from app.services.ledger.entries import (
    Outcome, default_expiry, insert_credit, ledger_row, members_table, view_of,
)
from app.services.uow import transactional
from app.services.webhooks import events
from app.services.webhooks.outbox import subscribers_if

_m = members_table


_NOW = bindparam("now", type_=_m.c.updated_at.type)


def _credit_member_statement() -> Any:
    """Lock the member, move both balances and re-derive the level, in one UPDATE."""
    amount, now = bindparam("amount", type_=_m.c.total_points.type), _NOW
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
_CREDIT_PG = credit_statement.build(_credit_member_statement(), _NOW)
_CREDIT_PG_CLAIMING = credit_statement.build(_credit_member_statement(), _NOW, claim=True)


def _in_one_statement() -> bool:
    """PostgreSQL writes a credit in one statement (credit_statement); elsewhere, and
    in the test that compares the two, the statements below write the same rows."""
    return is_postgres()


def _refuse(tenant_id: int, user_id: str) -> None:
    """No row moved: no such member (locate says so), or its points are disabled."""
    members.locate(tenant_id, user_id)
    raise DomainError(POINTS_DISABLED, {"user_id": user_id})


def credit(tenant_id: int, actor: Actor, *, user_id: str, amount: int, kind: str,
           category: str, reason: str, expires_at: datetime | None, now: datetime,
           idempotency_key: str | None, audit_action: str, listening: bool = True) -> Outcome:
    """Add `amount` (> 0) as a new lot. One UPDATE locks the member, moves both
    balances and re-derives the level. `listening`: the tenant may have webhook
    endpoints (tenants.WriteTenant.listening)."""
    params = {"b_tenant": tenant_id, "b_user": user_id, "amount": amount, "now": now}
    # member and balance are the UPDATE's: placeholders until it has run
    entry = ledger_row(tenant_id=tenant_id, member_id=0, kind=kind, amount=amount,
                       balance_after=0, category=category, reason=reason, actor=actor, now=now,
                       expires_at=expires_at, idempotency_key=idempotency_key)
    audit_row = audit.values(tenant_id, actor, audit_action, "member", user_id,
                             {"transaction_id": None, "points_amount": amount,
                              "category": category, "reason": reason}, at=now)
    # An idempotent request's key, if its claim was left to this write: claimed before
    # anything is written (in the same statement on PostgreSQL)
    claim = idempotency.take(tenant_id)
    if _in_one_statement():
        params.update(credit_statement.parameters(entry, audit_row))
        if claim is not None:
            params.update(claim.parameters(idempotency.CLAIM_PREFIX))
        rows = execute_lean(_CREDIT_PG if claim is None else _CREDIT_PG_CLAIMING, params)
        if claim is not None and not rows[0].claimed:
            raise idempotency.Unclaimed(rows[0] if rows[0].s_fingerprint is not None else None)
        if not rows or rows[0].tx_id is None:
            _refuse(tenant_id, user_id)
        row, tx_id = rows[0], rows[0].tx_id
        record, tags = member_tags.written_with_tags(rows)
        entry.update(member_id=row.id, balance_after=row.total_points)
        audit_row["data"]["transaction_id"] = tx_id
        audit.logged(audit_row)
        profile = members.profile_with_tags(tenant_id, record, tags)
    else:
        if claim is not None:
            idempotency.claim_now(claim)
        row = db.session.execute(_CREDIT_MEMBER, params).first()
        if row is None:
            _refuse(tenant_id, user_id)
        entry.update(member_id=row.id, balance_after=row.total_points)
        tx_id = insert_credit(entry)
        audit_row["data"]["transaction_id"] = tx_id
        audit.insert_row(audit_row)
        record = members.MemberRecord.of(row)
        profile = members.profile_of(tenant_id, record)
    outcome = Outcome(view_of(tx_id, user_id, entry, actor), profile)
    events.ledger_change(tenant_id, outcome, lifetime_before=row.lifetime_points - amount,
                         subs=subscribers_if(tenant_id, listening))
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
                  now=now, idempotency_key=op.idempotency_key, audit_action="points.earn",
                  listening=tenant.listening)
