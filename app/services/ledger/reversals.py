"""Reversals: a mistake is undone by a new entry, never by changing the old one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, func, insert, select, update

from app.extensions import db
from app.services import audit, clock, levels, members, tenants
from app.services.context import Actor
from app.services.errors import (
    ALREADY_REVERSED, NOT_FOUND, NOT_REVERSIBLE, DomainError,
)
from app.services.ledger.validation import check_idempotency_key
from app.services.ledger.entries import (
    Outcome, allocations_table, insert_entry, is_reversible_kind, ledger_row, lots_table,
    members_table, require_points_enabled, tx_table, view_of,
)
from app.services.uow import transactional
from app.services.webhooks import events
from app.services.validation import FieldErrors, check_reason, is_row_id

_tx, _lots, _alloc, _m = tx_table, lots_table, allocations_table, members_table


def get_transaction(tenant_id: int, transaction_id: Any) -> Row:
    """The tenant-scoped loader for ledger entries."""
    if not is_row_id(transaction_id):
        raise DomainError(NOT_FOUND)
    row = db.session.execute(
        select(_tx, _m.c.user_id).join(_m, _m.c.id == _tx.c.member_id)
        .where(_tx.c.id == transaction_id, _tx.c.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise DomainError(NOT_FOUND)
    return row


@dataclass(frozen=True)
class ReversalPreview:
    """What reversing a transaction would do now, in the numbers the reversal uses.
    `points` is the signed change to the balance; for a credit, `spent` and
    `expired` say where the rest of the original went."""

    transaction_id: int
    user_id: str
    kind: str
    original_points: int
    points: int
    spent: int = 0
    expired: int = 0

    @property
    def is_partial(self) -> bool:
        return abs(self.points) < abs(self.original_points)


def _refuse_unless_reversible(original: Row) -> None:
    if not is_reversible_kind(original.kind):
        raise DomainError(NOT_REVERSIBLE, {"kind": original.kind})
    existing = db.session.execute(
        select(_tx.c.id).where(_tx.c.reverses_id == original.id)
    ).scalar()
    if existing is not None:
        raise DomainError(ALREADY_REVERSED, {"reversal_id": existing})


def _credit_lot(original: Row) -> Row:
    """A credit's lot; what is left of it is what its reversal takes back."""
    lot = db.session.execute(select(_lots).where(_lots.c.transaction_id == original.id)).one()
    if lot.remaining == 0:
        raise DomainError(NOT_REVERSIBLE, {"kind": original.kind, "remaining_points": 0},
                          message=_("Nothing is left of these points to take back."))
    return lot


def preview_reversal(tenant_id: int, transaction_id: Any) -> ReversalPreview:
    """The confirmation's numbers; raises what `reverse` would raise (NOT_FOUND,
    NOT_REVERSIBLE, ALREADY_REVERSED, POINTS_DISABLED) so a refusal is said before
    the click. Reads only: the reversal itself decides again under its locks."""
    original = get_transaction(tenant_id, transaction_id)
    _refuse_unless_reversible(original)
    require_points_enabled(members.locate(tenant_id, original.user_id))
    common = dict(transaction_id=original.id, user_id=original.user_id, kind=original.kind,
                  original_points=original.amount)
    if original.amount < 0:  # a debit's reversal gives back exactly what it took
        return ReversalPreview(points=-original.amount, **common)
    lot = _credit_lot(original)
    # Expiry entries are final, so what expired from this lot stays expired; the
    # rest of what left it was spent (a reversed spend has given its share back).
    expired = db.session.execute(
        select(func.coalesce(func.sum(_alloc.c.amount), 0))
        .select_from(_alloc.join(_tx, _tx.c.id == _alloc.c.transaction_id))
        .where(_alloc.c.lot_id == lot.id, _tx.c.kind == "expire")
    ).scalar_one()
    return ReversalPreview(points=-lot.remaining, spent=lot.amount - lot.remaining - expired,
                           expired=expired, **common)


@transactional
def reverse(tenant_id: int, actor: Actor, transaction_id: Any, *, reason: Any,
            idempotency_key: Any = None) -> Outcome:
    """Undo a transaction. A credit's reversal takes back what is left of its lot;
    a debit's gives back exactly what it took, to the lots it took it from."""
    errors = FieldErrors()
    reason = check_reason(errors, reason, required=True)
    key = check_idempotency_key(errors, idempotency_key)
    errors.raise_if_any()
    tenants.get_for_level_write(tenant_id)  # before the member: a credit's reversal moves levels
    original = get_transaction(tenant_id, transaction_id)
    if not is_reversible_kind(original.kind):
        raise DomainError(NOT_REVERSIBLE, {"kind": original.kind})
    member = members.locate(tenant_id, original.user_id, lock=True)
    require_points_enabled(member)
    _refuse_unless_reversible(original)  # again, now that the member is locked
    now = clock.now()

    def entry_of(amount: int, balance_after: int) -> dict[str, Any]:
        return ledger_row(tenant_id=tenant_id, member_id=member.id, kind="reversal",
                          amount=amount, balance_after=balance_after,
                          category=original.category, reason=reason, actor=actor, now=now,
                          reverses_id=original.id, idempotency_key=key)

    if original.amount > 0:
        lot = _credit_lot(original)
        take = lot.remaining
        new_lifetime = _m.c.lifetime_points - take
        row = db.session.execute(
            update(_m).where(_m.c.id == member.id)
            .values(total_points=_m.c.total_points - take, lifetime_points=new_lifetime,
                    level_id=levels.level_subquery(new_lifetime), updated_at=now)
            .returning(*_m.c)
        ).one()
        entry = entry_of(-take, row.total_points)
        tx_id = insert_entry(entry)
        db.session.execute(insert(_alloc).values(transaction_id=tx_id, lot_id=lot.id,
                                                 amount=take))
        db.session.execute(update(_lots).where(_lots.c.id == lot.id).values(remaining=0))
    else:
        given = -original.amount
        allocations = db.session.execute(
            select(_alloc.c.lot_id, _alloc.c.amount)
            .where(_alloc.c.transaction_id == original.id)
        ).all()
        assert sum(a.amount for a in allocations) == given, "allocations do not match"
        db.session.execute(
            update(_lots).where(_lots.c.id == bindparam("lot_id"))
            .values(remaining=_lots.c.remaining + bindparam("give")),
            [{"lot_id": a.lot_id, "give": a.amount} for a in allocations],
        )
        row = db.session.execute(
            update(_m).where(_m.c.id == member.id)
            .values(total_points=_m.c.total_points + given, updated_at=now)
            .returning(*_m.c)
        ).one()
        entry = entry_of(given, row.total_points)
        tx_id = insert_entry(entry)
    audit.record(tenant_id, actor, "points.reverse", "transaction", original.id,
                 {"reversal_id": tx_id, "points_amount": entry["amount"], "reason": reason,
                  "user_id": member.user_id}, at=now)
    outcome = Outcome(view_of(tx_id, member.user_id, entry, actor),
                      members.profile_of(tenant_id, members.MemberRecord.of(row)))
    events.ledger_change(tenant_id, outcome, lifetime_before=(
        row.lifetime_points + take if original.amount > 0 else None))
    return outcome
