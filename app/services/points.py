"""The points ledger: earn, spend, adjust, reverse, batch earn and expiry.

Rules every function here keeps, in one transaction each:
- the member row is locked before its lots are read or changed (the UPDATE of
  an earn locks it too), always in member-id order when several are involved,
  so concurrent operations queue instead of losing updates or deadlocking;
- balance = the sum of the member's transaction amounts = the sum of the
  remaining amounts of its lots, and never below zero (the database checks the
  last one too);
- transactions are only ever inserted; a mistake is undone by a reversal.

Hot paths use SQLAlchemy Core on the tables: few round trips, no ORM overhead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, insert, select, tuple_, update

from app import caches
from app.extensions import db
from app.models import Member, PointLot, PointTransaction
from app.models.ledger import CATEGORIES, KINDS, LotAllocation
from app.services import audit, bulk, clock, expiry_sql, levels, members, tenants
from app.services.context import Actor
from app.services.errors import (
    ALREADY_REVERSED, INSUFFICIENT_POINTS, MEMBER_NOT_FOUND, NOT_FOUND, NOT_REVERSIBLE,
    POINTS_DISABLED, DomainError, ValidationFailed,
)
from app.services.uow import transactional
from app.services.validation import (
    IDEMPOTENCY_KEY_MAX, FieldErrors, check_amount, check_category, check_expires_at,
    check_reason, check_user_id, is_row_id, points_constraints,
)

_tx = PointTransaction.__table__
_lots = PointLot.__table__
_alloc = LotAllocation.__table__
_members = Member.__table__

BATCH_MAX = 1000

# The hot statements are built once with bind parameters: executing them costs a
# compiled-cache lookup, not a rebuild and a cache-key walk per call.
_TX_COLUMNS = ("tenant_id", "member_id", "kind", "amount", "balance_after", "category", "reason",
               "expires_at", "reverses_id", "idempotency_key", "request_id", "actor_type",
               "actor_id", "actor_label", "created_at")
_TX_VALUES = insert(_tx).values({name: bindparam(f"tx_{name}", type_=_tx.c[name].type)
                                 for name in _TX_COLUMNS})
_INSERT_TX = _TX_VALUES.returning(_tx.c.id)
_INSERT_LOT = insert(_lots)


def _credit_rows_statement() -> Any:
    """PostgreSQL: a credit's ledger entry and its lot in one statement (the lot
    copies what the entry returns), one round trip instead of two."""
    entry = _TX_VALUES.returning(_tx.c.id, _tx.c.tenant_id, _tx.c.member_id, _tx.c.amount,
                                 _tx.c.expires_at, _tx.c.created_at).cte("credit_entry")
    lot = insert(_lots).from_select(
        ["tenant_id", "member_id", "transaction_id", "amount", "remaining", "expires_at",
         "created_at"],
        select(entry.c.tenant_id, entry.c.member_id, entry.c.id, entry.c.amount,
               entry.c.amount, entry.c.expires_at, entry.c.created_at),
    ).cte("credit_lot")
    return select(entry.c.id).add_cte(lot)


_CREDIT_ROWS_PG = _credit_rows_statement()


def _credit_member_statement() -> Any:
    """Lock the member, move both balances and re-derive the level, in one UPDATE."""
    amount, now = bindparam("amount", type_=_members.c.total_points.type), bindparam("now")
    new_lifetime = _members.c.lifetime_points + amount
    return (
        update(_members)
        .where(_members.c.tenant_id == bindparam("b_tenant"),
               _members.c.user_id == bindparam("b_user"),
               _members.c.is_points_enabled.is_(True))
        .values(total_points=_members.c.total_points + amount, lifetime_points=new_lifetime,
                level_id=levels.level_subquery(new_lifetime), updated_at=now,
                last_activity_at=now)
        .returning(*_members.c)
    )


_CREDIT_MEMBER = _credit_member_statement()

NOT_REVERSIBLE_KINDS = ("expire", "reversal")


def is_reversible_kind(kind: str) -> bool:
    """Expiries and reversals are final; everything else can be undone once."""
    return kind not in NOT_REVERSIBLE_KINDS


@dataclass(frozen=True)
class TxView:
    """A ledger entry as callers show it."""

    id: int
    user_id: str
    kind: str
    points_amount: int
    balance_after: int
    category: str
    reason: str
    expires_at: datetime | None
    created_at: datetime
    idempotency_key: str | None
    reverses_id: int | None
    actor_type: str = "system"
    actor_label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "user_id": self.user_id, "kind": self.kind,
            "points_amount": self.points_amount, "balance_after": self.balance_after,
            "category": self.category, "reason": self.reason, "expires_at": self.expires_at,
            "created_at": self.created_at, "idempotency_key": self.idempotency_key,
            "reverses_id": self.reverses_id,
        }


@dataclass
class Outcome:
    transaction: TxView
    profile: members.Profile


@dataclass
class ExpiryReport:
    lots: int = 0
    points: int = 0
    members: int = 0


# --------------------------------------------------------------------------- helpers

def _suggestions() -> list[str]:
    return [_("Complete daily tasks to earn points"), _("Invite friends to earn a referral bonus"),
            _("Buy a points pack")]


def insufficient(required: int, available: int) -> DomainError:
    return DomainError(INSUFFICIENT_POINTS, {
        "required_points": required, "available_points": available,
        "shortage": required - available, "suggestions": _suggestions(),
    })


def _check_key(errors: FieldErrors, key: Any) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key or len(key) > IDEMPOTENCY_KEY_MAX or "\x00" in key:
        errors.add("operation_id", _("An operation id is 1 to %(max)s characters of text.",
                                     max=IDEMPOTENCY_KEY_MAX))
        return None
    return key


def _raise_validation(errors: FieldErrors, max_points: int, signed: bool = False) -> None:
    errors.raise_if_any(valid_categories=list(CATEGORIES),
                        field_constraints=points_constraints(max_points, signed))


def _lock_member(tenant_id: int, user_id: str) -> Row:
    row = db.session.execute(
        select(_members).where(_members.c.tenant_id == tenant_id,
                               _members.c.user_id == user_id).with_for_update()
    ).first()
    if row is None:
        raise DomainError(MEMBER_NOT_FOUND)
    if not row.is_points_enabled:
        raise DomainError(POINTS_DISABLED, {"user_id": user_id})
    return row


def _diagnose_missing(tenant_id: int, user_id: str) -> DomainError:
    """An UPDATE matched no row: say whether the member is missing or disabled."""
    row = db.session.execute(
        select(_members.c.is_points_enabled).where(_members.c.tenant_id == tenant_id,
                                                   _members.c.user_id == user_id)
    ).first()
    if row is None:
        return DomainError(MEMBER_NOT_FOUND)
    return DomainError(POINTS_DISABLED, {"user_id": user_id})


def _tx_params(*, tenant_id: int, member_id: int, kind: str, amount: int, balance_after: int,
               category: str, reason: str, actor: Actor, now: datetime,
               expires_at: datetime | None = None, reverses_id: int | None = None,
               idempotency_key: str | None = None) -> dict[str, Any]:
    return {
        "tx_tenant_id": tenant_id, "tx_member_id": member_id, "tx_kind": kind,
        "tx_amount": amount, "tx_balance_after": balance_after, "tx_category": category,
        "tx_reason": reason, "tx_expires_at": expires_at, "tx_reverses_id": reverses_id,
        "tx_idempotency_key": idempotency_key, "tx_request_id": actor.request_id,
        "tx_actor_type": _ledger_actor_type(actor), "tx_actor_id": actor.id,
        "tx_actor_label": (actor.label or "")[:254], "tx_created_at": now,
    }


def _insert_tx(**entry: Any) -> int:
    """Insert a ledger entry (the keywords of _tx_params); its id."""
    return db.session.execute(_INSERT_TX, _tx_params(**entry)).scalar_one()


def _ledger_actor_type(actor: Actor) -> str:
    return actor.type if actor.type in ("staff", "api_client") else "system"


def _view(tx_id: int, user_id: str, kind: str, amount: int, balance_after: int, category: str,
          reason: str, now: datetime, actor: Actor, expires_at: datetime | None = None,
          reverses_id: int | None = None, key: str | None = None) -> TxView:
    return TxView(tx_id, user_id, kind, amount, balance_after, category, reason, expires_at, now,
                  key, reverses_id, _ledger_actor_type(actor), actor.label or "")


def _default_expiry(tenant: Any, now: datetime) -> datetime | None:
    if tenant.default_expiry_days:
        return now + timedelta(days=tenant.default_expiry_days)
    return None


# --------------------------------------------------------------------------- credits

def _credit(tenant_id: int, actor: Actor, *, user_id: str, amount: int, kind: str,
            category: str, reason: str, expires_at: datetime | None, now: datetime,
            key: str | None, audit_action: str) -> Outcome:
    """Add `amount` (> 0) as a new lot. One UPDATE locks the member, moves both
    balances and re-derives the level."""
    row = db.session.execute(_CREDIT_MEMBER, {
        "b_tenant": tenant_id, "b_user": user_id, "amount": amount, "now": now}).first()
    if row is None:
        raise _diagnose_missing(tenant_id, user_id)
    entry = _tx_params(tenant_id=tenant_id, member_id=row.id, kind=kind, amount=amount,
                       balance_after=row.total_points, category=category, reason=reason,
                       actor=actor, now=now, expires_at=expires_at, idempotency_key=key)
    if db.session.get_bind().dialect.name == "postgresql":
        tx_id = db.session.execute(_CREDIT_ROWS_PG, entry).scalar_one()
    else:  # SQLite has no data-modifying WITH: the entry, then its lot
        tx_id = db.session.execute(_INSERT_TX, entry).scalar_one()
        db.session.execute(_INSERT_LOT, {
            "tenant_id": tenant_id, "member_id": row.id, "transaction_id": tx_id,
            "amount": amount, "remaining": amount, "expires_at": expires_at, "created_at": now})
    audit.record(tenant_id, actor, audit_action, "member", user_id,
                 {"transaction_id": tx_id, "points_amount": amount, "category": category,
                  "reason": reason}, at=now)
    view = _view(tx_id, user_id, kind, amount, row.total_points, category, reason, now, actor,
                 expires_at=expires_at, key=key)
    return Outcome(view, members.profile_of(tenant_id, row))


@transactional
def earn(tenant_id: int, actor: Actor, *, user_id: Any, points_amount: Any, category: Any,
         reason: Any = None, expires_at: Any = None, idempotency_key: Any = None) -> Outcome:
    tenant = tenants.get_for_level_write(tenant_id)
    now = clock.now()
    errors = FieldErrors()
    user_id = check_user_id(errors, user_id)
    amount = check_amount(errors, points_amount, tenant.max_points_per_operation)
    category = check_category(errors, category)
    reason = check_reason(errors, reason)
    expiry = check_expires_at(errors, expires_at, now)
    key = _check_key(errors, idempotency_key)
    _raise_validation(errors, tenant.max_points_per_operation)
    return _credit(tenant_id, actor, user_id=user_id, amount=amount, kind="earn",
                   category=category, reason=reason,
                   expires_at=expiry or _default_expiry(tenant, now), now=now, key=key,
                   audit_action="points.earn")


# --------------------------------------------------------------------------- debits

def _lot_category() -> Any:
    """The category of the credit a lot came from, looked up by primary key per lot
    (a join lets the planner hash the whole ledger when a batch is large)."""
    return (select(_tx.c.category).where(_tx.c.id == _lots.c.transaction_id)
            .scalar_subquery().label("category"))


def _open_lots(member_id: int) -> Iterator[Row]:
    """The member's lots with points left, soonest expiry first, never-expiring last,
    read in chunks so a member with thousands of lots costs what a debit needs."""
    chunk = 200
    base = (
        select(_lots.c.id, _lots.c.remaining, _lots.c.expires_at, _lot_category())
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
            query.order_by(_lots.c.expires_at, _lots.c.id).limit(chunk)
        ).all()
        yield from rows
        if len(rows) < chunk:
            break
        last = (rows[-1].expires_at, rows[-1].id)
    last_id = 0
    while True:  # then the lots that never expire
        rows = db.session.execute(
            base.where(_lots.c.expires_at.is_(None), _lots.c.id > last_id)
            .order_by(_lots.c.id).limit(chunk)
        ).all()
        yield from rows
        if len(rows) < chunk:
            break
        last_id = rows[-1].id


def _expire_lots(tenant_id: int, member: Row, due: list[Row], balance: int, now: datetime,
                 actor: Actor) -> int:
    """Turn what is left of each due lot into an `expire` entry; returns the new balance.
    The caller holds the member's lock."""
    taken = _write_expiries([(tenant_id, member.id, balance, due)], now, actor)
    return balance - taken.get(member.id, 0)


def _write_expiries(groups: list[tuple[int, int, int, list[Row]]], now: datetime,
                    actor: Actor) -> dict[int, int]:
    """Expire due lots of several locked members: groups of (tenant id, member id,
    balance, lots). A handful of statements whatever the number of lots (the expiry
    job sends thousands through here). Returns the points taken per member; the
    caller updates the member rows."""
    params, lots, taken = [], [], {}
    for tenant_id, member_id, balance, due in groups:
        for lot in due:
            balance -= lot.remaining
            taken[member_id] = taken.get(member_id, 0) + lot.remaining
            lots.append(lot)
            params.append(dict(
                tenant_id=tenant_id, member_id=member_id, kind="expire", amount=-lot.remaining,
                balance_after=balance, category=lot.category, reason="", expires_at=None,
                reverses_id=None, idempotency_key=None, request_id=actor.request_id,
                actor_type=_ledger_actor_type(actor), actor_id=actor.id,
                actor_label=(actor.label or "")[:254], created_at=now,
            ))
    if not params:
        return taken
    tx_ids = bulk.insert_rows(_tx, params, with_ids=True)
    bulk.insert_rows(_alloc, [
        {"transaction_id": tx_id, "lot_id": lot.id, "amount": lot.remaining}
        for tx_id, lot in zip(tx_ids, lots, strict=True)
    ])
    db.session.execute(update(_lots).where(bulk.id_in(_lots.c.id, [lot.id for lot in lots]))
                       .values(remaining=0))
    return taken


def _debit(tenant_id: int, actor: Actor, member: Row, *, amount: int, kind: str, category: str,
           reason: str, now: datetime, key: str | None, audit_action: str,
           audit_extra: dict[str, Any] | None = None) -> tuple[TxView, Row]:
    """Take `amount` (> 0) from a locked member, consuming lots soonest-expiring
    first. Lots already past their expiry are expired first: their points are
    gone, whether or not the expiry job has run yet."""
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
    balance = _expire_lots(tenant_id, member, due, balance, now, actor)
    balance -= amount
    tx_id = _insert_tx(tenant_id=tenant_id, member_id=member.id, kind=kind, amount=-amount,
                       balance_after=balance, category=category, reason=reason, actor=actor,
                       now=now, idempotency_key=key)
    db.session.execute(insert(_alloc), [
        {"transaction_id": tx_id, "lot_id": lot_id, "amount": take} for lot_id, take in takes
    ])
    db.session.execute(
        update(_lots).where(_lots.c.id == bindparam("lot_id"))
        .values(remaining=_lots.c.remaining - bindparam("take")),
        [{"lot_id": lot_id, "take": take} for lot_id, take in takes],
    )
    row = db.session.execute(
        update(_members).where(_members.c.id == member.id)
        .values(total_points=_members.c.total_points - (amount + expired_points),
                updated_at=now, last_activity_at=now)
        .returning(*_members.c)
    ).one()
    assert row.total_points == balance, "ledger and balance diverged"
    data = {"transaction_id": tx_id, "points_amount": -amount, "category": category,
            "reason": reason}
    if expired_points:
        data["expired_first"] = expired_points
    data.update(audit_extra or {})
    audit.record(tenant_id, actor, audit_action, "member", member.user_id, data, at=now)
    return _view(tx_id, member.user_id, kind, -amount, balance, category, reason, now, actor,
                 key=key), row


@transactional
def spend(tenant_id: int, actor: Actor, *, user_id: Any, points_amount: Any, category: Any,
          reason: Any = None, idempotency_key: Any = None) -> Outcome:
    tenant = tenants.get(tenant_id)
    now = clock.now()
    errors = FieldErrors()
    user_id = check_user_id(errors, user_id)
    amount = check_amount(errors, points_amount, tenant.max_points_per_operation)
    category = check_category(errors, category)
    reason = check_reason(errors, reason)
    key = _check_key(errors, idempotency_key)
    _raise_validation(errors, tenant.max_points_per_operation)
    member = _lock_member(tenant_id, user_id)
    view, row = _debit(tenant_id, actor, member, amount=amount, kind="spend", category=category,
                       reason=reason, now=now, key=key, audit_action="points.spend")
    return Outcome(view, members.profile_of(tenant_id, row))


@transactional
def adjust(tenant_id: int, actor: Actor, *, user_id: Any, points_amount: Any, reason: Any,
           category: Any = None, idempotency_key: Any = None) -> Outcome:
    """A signed manual correction. A positive one is a new lot (with the tenant's
    default expiry) and counts toward lifetime points; a negative one consumes lots."""
    tenant = tenants.get_for_level_write(tenant_id)
    now = clock.now()
    errors = FieldErrors()
    user_id = check_user_id(errors, user_id)
    amount = check_amount(errors, points_amount, tenant.max_points_per_operation, signed=True)
    category = check_category(errors, category, required=False) or (
        None if "category" in errors else "manual")
    reason = check_reason(errors, reason, required=True)
    key = _check_key(errors, idempotency_key)
    _raise_validation(errors, tenant.max_points_per_operation, signed=True)
    if amount > 0:
        return _credit(tenant_id, actor, user_id=user_id, amount=amount, kind="adjust",
                       category=category, reason=reason,
                       expires_at=_default_expiry(tenant, now), now=now, key=key,
                       audit_action="points.adjust")
    member = _lock_member(tenant_id, user_id)
    view, row = _debit(tenant_id, actor, member, amount=-amount, kind="adjust",
                       category=category, reason=reason, now=now, key=key,
                       audit_action="points.adjust")
    return Outcome(view, members.profile_of(tenant_id, row))


# --------------------------------------------------------------------------- reversals

def get_transaction(tenant_id: int, transaction_id: Any) -> Row:
    """The tenant-scoped loader for ledger entries."""
    if not is_row_id(transaction_id):
        raise DomainError(NOT_FOUND)
    row = db.session.execute(
        select(_tx, _members.c.user_id).join(_members, _members.c.id == _tx.c.member_id)
        .where(_tx.c.id == transaction_id, _tx.c.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise DomainError(NOT_FOUND)
    return row


@transactional
def reverse(tenant_id: int, actor: Actor, transaction_id: Any, *, reason: Any,
            idempotency_key: Any = None) -> Outcome:
    """Undo a transaction. A credit's reversal takes back what is left of its lot;
    a debit's gives back exactly what it took, to the lots it took it from."""
    errors = FieldErrors()
    reason = check_reason(errors, reason, required=True)
    key = _check_key(errors, idempotency_key)
    errors.raise_if_any()
    tenants.get_for_level_write(tenant_id)  # before the member: a credit's reversal moves levels
    original = get_transaction(tenant_id, transaction_id)
    if not is_reversible_kind(original.kind):
        raise DomainError(NOT_REVERSIBLE, {"kind": original.kind})
    member = db.session.execute(
        select(_members).where(_members.c.id == original.member_id).with_for_update()
    ).one()
    if not member.is_points_enabled:
        raise DomainError(POINTS_DISABLED, {"user_id": member.user_id})
    existing = db.session.execute(
        select(_tx.c.id).where(_tx.c.reverses_id == original.id)
    ).scalar()
    if existing is not None:
        raise DomainError(ALREADY_REVERSED, {"reversal_id": existing})
    now = clock.now()
    common = dict(tenant_id=tenant_id, member_id=member.id, kind="reversal",
                  category=original.category, reason=reason, actor=actor, now=now,
                  reverses_id=original.id, idempotency_key=key)
    if original.amount > 0:
        lot = db.session.execute(
            select(_lots).where(_lots.c.transaction_id == original.id)
        ).one()
        take = lot.remaining
        if take == 0:
            raise DomainError(NOT_REVERSIBLE, {"kind": original.kind, "remaining_points": 0},
                              message=_("Nothing is left of these points to take back."))
        new_lifetime = _members.c.lifetime_points - take
        row = db.session.execute(
            update(_members).where(_members.c.id == member.id)
            .values(total_points=_members.c.total_points - take, lifetime_points=new_lifetime,
                    level_id=levels.level_subquery(new_lifetime), updated_at=now)
            .returning(*_members.c)
        ).one()
        tx_id = _insert_tx(amount=-take, balance_after=row.total_points, **common)
        db.session.execute(insert(_alloc).values(transaction_id=tx_id, lot_id=lot.id,
                                                 amount=take))
        db.session.execute(update(_lots).where(_lots.c.id == lot.id).values(remaining=0))
        amount = -take
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
            update(_members).where(_members.c.id == member.id)
            .values(total_points=_members.c.total_points + given, updated_at=now)
            .returning(*_members.c)
        ).one()
        tx_id = _insert_tx(amount=given, balance_after=row.total_points, **common)
        amount = given
    audit.record(tenant_id, actor, "points.reverse", "transaction", original.id,
                 {"reversal_id": tx_id, "points_amount": amount, "reason": reason,
                  "user_id": member.user_id}, at=now)
    view = _view(tx_id, member.user_id, "reversal", amount, row.total_points, original.category,
                 reason, now, actor, reverses_id=original.id, key=key)
    return Outcome(view, members.profile_of(tenant_id, row))


# --------------------------------------------------------------------------- batch earn

@dataclass
class EarnItem:
    user_id: Any
    points_amount: Any
    category: Any
    reason: Any = None
    expires_at: Any = None
    operation_id: Any = None


@transactional
def batch_earn(tenant_id: int, actor: Actor, items: list[EarnItem]) -> list[Outcome]:
    """Earn for up to 1000 members at once: all or nothing. Errors come back by index."""
    tenant = tenants.get_for_level_write(tenant_id)
    now = clock.now()
    if not isinstance(items, list) or not 1 <= len(items) <= BATCH_MAX:
        raise ValidationFailed({"operations": [_("Send from 1 to %(max)s operations.",
                                                 max=BATCH_MAX)]})
    cleaned: list[tuple[str, int, str, str, datetime | None, str | None]] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        errors = FieldErrors()
        user_id = check_user_id(errors, item.user_id)
        amount = check_amount(errors, item.points_amount, tenant.max_points_per_operation)
        category = check_category(errors, item.category)
        reason = check_reason(errors, item.reason)
        expiry = check_expires_at(errors, item.expires_at, now)
        key = _check_key(errors, item.operation_id)
        if errors:
            problems.append({"index": index, "field_errors": dict(errors)})
        cleaned.append((user_id, amount, category, reason,
                        expiry or _default_expiry(tenant, now), key))
    wanted = sorted({c[0] for c in cleaned if c[0] is not None})
    # Lock every member of the batch in id order: two batches never deadlock.
    rows = {r.user_id: r for r in db.session.execute(
        select(_members).where(_members.c.tenant_id == tenant_id,
                               _members.c.user_id.in_(wanted))
        .order_by(_members.c.id).with_for_update()
    ).all()} if wanted else {}
    for index, (user_id, *_rest) in enumerate(cleaned):
        if user_id is None or any(p["index"] == index for p in problems):
            continue
        row = rows.get(user_id)
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
    tx_params = []
    for user_id, amount, category, reason, expiry, key in cleaned:
        balances[user_id] += amount
        lifetimes[user_id] += amount
        tx_params.append(dict(
            tenant_id=tenant_id, member_id=rows[user_id].id, kind="earn", amount=amount,
            balance_after=balances[user_id], category=category, reason=reason,
            expires_at=expiry, reverses_id=None, idempotency_key=key,
            request_id=actor.request_id, actor_type=_ledger_actor_type(actor),
            actor_id=actor.id, actor_label=(actor.label or "")[:254], created_at=now,
        ))
    tx_ids = bulk.insert_rows(_tx, tx_params, with_ids=True)
    bulk.insert_rows(_lots, [
        dict(tenant_id=tenant_id, member_id=p["member_id"], transaction_id=tx_id,
             amount=p["amount"], remaining=p["amount"], expires_at=p["expires_at"],
             created_at=now)
        for p, tx_id in zip(tx_params, tx_ids, strict=True)
    ])
    level_list = levels.list_levels(tenant_id, fresh=True)
    db.session.execute(
        update(_members).where(_members.c.id == bindparam("member_id"))
        .values(total_points=bindparam("balance"), lifetime_points=bindparam("lifetime"),
                level_id=bindparam("level_id"), updated_at=now, last_activity_at=now),
        [{"member_id": rows[u].id, "balance": balances[u], "lifetime": lifetimes[u],
          "level_id": getattr(levels.level_for(level_list, lifetimes[u]), "id", None)}
         for u in rows],
    )
    audit.record(tenant_id, actor, "points.batch_earn", "batch", tx_ids[0],
                 {"operations": len(items), "members": len(rows),
                  "points_amount": sum(c[1] for c in cleaned),
                  "transaction_ids": [tx_ids[0], tx_ids[-1]]}, at=now)
    fresh = {r.user_id: r for r in db.session.execute(
        select(_members).where(_members.c.id.in_([r.id for r in rows.values()]))
    ).all()}
    profiles = {p.user_id: p for p in members.profiles(tenant_id, list(fresh.values()))}
    outcomes = []
    for p, tx_id, (user_id, amount, category, reason, expiry, key) in zip(
            tx_params, tx_ids, cleaned, strict=True):
        view = _view(tx_id, user_id, "earn", amount, p["balance_after"], category, reason, now,
                     actor, expires_at=expiry, key=key)
        outcomes.append(Outcome(view, profiles[user_id]))
    return outcomes


# --------------------------------------------------------------------------- expiry

def expire_due(now: datetime | None = None, tenant_id: int | None = None,
               batch_size: int = 500, progress: Any = None) -> ExpiryReport:
    """Expire every due lot, a batch of members per transaction, so millions of due
    lots never hold one long transaction. Safe to run twice at once: each batch
    locks its members first and re-reads their lots, so a lot expires exactly once."""
    now = now or clock.now()
    report = ExpiryReport()
    members_seen: set[int] = set()
    after: tuple[datetime, int] | None = None
    while True:
        # Find the next members with due lots (soonest first); the batch then takes
        # every due lot of those members, so each member is touched once.
        query = select(_lots.c.id, _lots.c.expires_at, _lots.c.member_id).where(
            _lots.c.remaining > 0, _lots.c.expires_at.is_not(None), _lots.c.expires_at <= now)
        if tenant_id is not None:
            query = query.where(_lots.c.tenant_id == tenant_id)
        if after is not None:
            query = query.where(tuple_(_lots.c.expires_at, _lots.c.id) > after)
        candidates = db.session.execute(
            query.order_by(_lots.c.expires_at, _lots.c.id).limit(batch_size)
        ).all()
        db.session.commit()  # end the read; each batch is its own write transaction
        if not candidates:
            break
        after = (candidates[-1].expires_at, candidates[-1].id)
        member_ids = sorted({c.member_id for c in candidates} - members_seen)
        if not member_ids:
            continue
        lots, points, touched = _expire_batch(member_ids, now)
        report.lots += lots
        report.points += points
        members_seen.update(member_ids)
        report.members += touched
        if progress is not None:
            progress(report)
    if progress is not None:
        progress(report)  # the final tally, also when there was nothing to do
    return report


def _expires_in_sql() -> bool:
    """PostgreSQL expires a batch in one statement (`expiry_sql`); other databases,
    and the tests that compare the two, take the generic path."""
    return bulk.is_postgres()


@transactional
def _expire_batch(member_ids: list[int], now: datetime) -> tuple[int, int, int]:
    """Expire every due lot of these members: (lots, points, members touched)."""
    locked = db.session.execute(
        select(_members.c.id, _members.c.tenant_id, _members.c.total_points)
        .where(bulk.id_in(_members.c.id, member_ids))
        .order_by(_members.c.id).with_for_update()
    ).all()
    actor = Actor.system("expiry")
    if _expires_in_sql():
        return expiry_sql.expire_members(
            member_ids, now, request_id=actor.request_id, actor_type=_ledger_actor_type(actor),
            actor_id=actor.id, actor_label=(actor.label or "")[:254])
    # Read the due lots under the locks: a concurrent run may have expired some already.
    lots = db.session.execute(
        select(_lots.c.id, _lots.c.member_id, _lots.c.remaining, _lots.c.expires_at,
               _lot_category())
        .where(bulk.id_in(_lots.c.member_id, member_ids), _lots.c.remaining > 0,
               _lots.c.expires_at.is_not(None), _lots.c.expires_at <= now)
        .order_by(_lots.c.member_id, _lots.c.expires_at, _lots.c.id)
    ).all()
    by_member: dict[int, list[Row]] = {}
    for lot in lots:
        by_member.setdefault(lot.member_id, []).append(lot)
    groups = [(m.tenant_id, m.id, m.total_points, by_member[m.id])
              for m in locked if m.id in by_member]
    taken = _write_expiries(groups, now, actor)
    bulk.add_to_column(_members, "total_points", {mid: -points for mid, points in taken.items()},
                       updated_at=now)
    return len(lots), sum(taken.values()), len(taken)


def history(tenant_id: int, user_id: str, *, cursor: str | None = None, page_size: int = 20,
            kind: str | None = None, category: str | None = None) -> members.Page:
    """A member's transactions, newest first, keyset-paged by id (stable while new
    entries arrive: they sort before the cursor)."""
    member = members.find_row(tenant_id, user_id)
    return history_rows(tenant_id, member.id, user_id, cursor=cursor, page_size=page_size,
                        kind=kind, category=category)[0]


def history_rows(tenant_id: int, member_id: int, user_id: str, *, cursor: str | None = None,
                 page_size: int = 20, kind: str | None = None, category: str | None = None,
                 extra: tuple[Any, ...] = ()) -> tuple[members.Page, list[Row]]:
    """A member already found: one page of `history`, and its rows with the `extra`
    columns read in the same statement (the portal asks which were reversed)."""
    errors = FieldErrors()
    if kind is not None and kind not in KINDS:
        errors.add("kind", _("Not a valid kind."))
    if category is not None and category not in CATEGORIES:
        errors.add("category", _("Not a valid category."))
    errors.raise_if_any()
    after = members.decode_cursor(cursor)
    statement = _history_statement(bool(kind), bool(category), after is not None, extra)
    params = {"h_tenant": tenant_id, "h_member": member_id, "h_limit": page_size + 1}
    if kind:
        params["h_kind"] = kind
    if category:
        params["h_category"] = category
    if after is not None:
        params["h_after"] = after
    rows = db.session.execute(statement, params).all()
    items = [
        TxView(r.id, user_id, r.kind, r.amount, r.balance_after, r.category, r.reason or "",
               r.expires_at, r.created_at, r.idempotency_key, r.reverses_id, r.actor_type,
               r.actor_label or "")
        for r in rows[:page_size]
    ]
    next_cursor = members.encode_cursor(rows[page_size - 1].id) if len(rows) > page_size else None
    return members.Page(items, next_cursor, page_size), rows[:page_size]


# What a TxView shows, and the statements of a page of history: one per
# combination of filters and extra columns, built on first use; each call is then
# a compiled-cache hit instead of a rebuild and a cache-key walk.
_HISTORY_COLUMNS = (_tx.c.id, _tx.c.kind, _tx.c.amount, _tx.c.balance_after, _tx.c.category,
                    _tx.c.reason, _tx.c.expires_at, _tx.c.created_at, _tx.c.idempotency_key,
                    _tx.c.reverses_id, _tx.c.actor_type, _tx.c.actor_label)
_history_statements: dict[tuple[Any, ...], Any] = caches.register({})


def _history_statement(kind: bool, category: bool, after: bool, extra: tuple[Any, ...]) -> Any:
    key = (kind, category, after, extra)
    statement = _history_statements.get(key)
    if statement is None:
        statement = select(*_HISTORY_COLUMNS, *extra).where(
            _tx.c.tenant_id == bindparam("h_tenant"), _tx.c.member_id == bindparam("h_member"))
        if kind:
            statement = statement.where(_tx.c.kind == bindparam("h_kind"))
        if category:
            statement = statement.where(_tx.c.category == bindparam("h_category"))
        if after:
            statement = statement.where(_tx.c.id < bindparam("h_after"))
        statement = _history_statements[key] = \
            statement.order_by(_tx.c.id.desc()).limit(bindparam("h_limit"))
    return statement
