"""Batch earn: up to BATCH_MAX earns in one transaction, all or nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models.ledger import CATEGORIES
from app.services import audit, bulk, clock, levels, members, tenants
from app.services.context import Actor
from app.services.errors import ValidationFailed
from app.services.ledger.validation import EARN, Operation, check_operation
from app.services.ledger.entries import (
    Outcome, default_expiry, ledger_row, lots_table, members_table, tx_table, view_of,
)
from app.services.uow import transactional
from app.services.webhooks import events
from app.services.validation import FieldErrors, points_constraints

BATCH_MAX = 1000
_m = members_table


@dataclass
class EarnItem:
    user_id: Any
    points_amount: Any
    category: Any
    reason: Any = None
    expires_at: Any = None
    idempotency_key: Any = None


@transactional
def batch_earn(tenant_id: int, actor: Actor, items: list[EarnItem]) -> list[Outcome]:
    """Earn for up to BATCH_MAX members at once. Errors come back by index."""
    tenant = tenants.get_for_level_write(tenant_id)
    now = clock.now()
    if not isinstance(items, list) or not 1 <= len(items) <= BATCH_MAX:
        raise ValidationFailed({"operations": [_("Send from 1 to %(max)s operations.",
                                                 max=BATCH_MAX)]})
    cleaned: list[Operation] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        errors = FieldErrors()
        op = check_operation(EARN, errors, max_points=tenant.max_points_per_operation, now=now,
                             user_id=item.user_id, points_amount=item.points_amount,
                             category=item.category, reason=item.reason,
                             expires_at=item.expires_at, idempotency_key=item.idempotency_key)
        if errors:
            problems.append({"index": index, "field_errors": dict(errors)})
        cleaned.append(op)
    wanted = sorted({op.user_id for op in cleaned if op.user_id is not None})
    # Lock every member of the batch in id order: two batches never deadlock.
    rows = {r.user_id: r for r in db.session.execute(
        select(_m).where(_m.c.tenant_id == tenant_id, _m.c.user_id.in_(wanted))
        .order_by(_m.c.id).with_for_update()
    ).all()} if wanted else {}
    for index, op in enumerate(cleaned):
        if op.user_id is None or any(p["index"] == index for p in problems):
            continue
        row = rows.get(op.user_id)
        if row is None:
            problems.append({"index": index, "field_errors": {
                "user_id": [_("No member with this user id.")]}})
        elif not row.is_points_enabled:
            problems.append({"index": index, "field_errors": {
                "user_id": [_("Points are disabled for this member.")]}})
    if problems:
        problems.sort(key=lambda p: p["index"])
        raise ValidationFailed({}, validation_errors=problems,
                               valid_categories=list(CATEGORIES),
                               field_constraints=points_constraints(
                                   tenant.max_points_per_operation))

    balances = {u: r.total_points for u, r in rows.items()}
    lifetimes = {u: r.lifetime_points for u, r in rows.items()}
    entries = []
    for op in cleaned:
        balances[op.user_id] += op.amount
        lifetimes[op.user_id] += op.amount
        entries.append(ledger_row(
            tenant_id=tenant_id, member_id=rows[op.user_id].id, kind="earn", amount=op.amount,
            balance_after=balances[op.user_id], category=op.category, reason=op.reason,
            actor=actor, now=now,
            expires_at=op.expires_at or default_expiry(tenant.default_expiry_days, now),
            idempotency_key=op.idempotency_key))
    tx_ids = bulk.insert_rows(tx_table, entries, with_ids=True)
    bulk.insert_rows(lots_table, [
        dict(tenant_id=tenant_id, member_id=e["member_id"], transaction_id=tx_id,
             amount=e["amount"], remaining=e["amount"], expires_at=e["expires_at"],
             created_at=now)
        for e, tx_id in zip(entries, tx_ids, strict=True)
    ])
    level_list = levels.list_levels(tenant_id, fresh=True)
    db.session.execute(
        update(_m).where(_m.c.id == bindparam("member_id"))
        .values(total_points=bindparam("balance"), lifetime_points=bindparam("lifetime"),
                level_id=bindparam("level_id"), updated_at=now, last_activity_at=now),
        [{"member_id": rows[u].id, "balance": balances[u], "lifetime": lifetimes[u],
          "level_id": getattr(levels.level_for(level_list, lifetimes[u]), "id", None)}
         for u in rows],
    )
    audit.record(tenant_id, actor, "points.batch_earn", "batch", tx_ids[0],
                 {"operations": len(items), "members": len(rows),
                  "points_amount": sum(op.amount for op in cleaned),
                  "transaction_ids": [tx_ids[0], tx_ids[-1]]}, at=now)
    fresh = db.session.execute(
        select(_m).where(_m.c.id.in_([r.id for r in rows.values()]))
    ).all()
    profiles = {p.user_id: p for p in members.profiles(
        tenant_id, [members.MemberRecord.of(row) for row in fresh])}
    outcomes = [Outcome(view_of(tx_id, op.user_id, entry, actor), profiles[op.user_id])
                for entry, tx_id, op in zip(entries, tx_ids, cleaned, strict=True)]
    events.batch_earned(tenant_id, outcomes, {u: r.lifetime_points for u, r in rows.items()})
    return outcomes
