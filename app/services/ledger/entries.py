"""Ledger entries: the one row builder, the statements that insert entries and
lots, and the values callers get back."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select

from app.extensions import db
from app.models import Member, PointLot, PointTransaction
from app.models.ledger import LotAllocation
from app.services import members
from app.services.context import Actor
from app.services.errors import POINTS_DISABLED, DomainError

tx_table = PointTransaction.__table__
lots_table = PointLot.__table__
allocations_table = LotAllocation.__table__
members_table = Member.__table__

NOT_REVERSIBLE_KINDS = ("expire", "reversal")
ACTOR_LABEL_MAX = 254


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
    is_reversed: bool = False  # read with a member's history; not part of the API's entry

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


def require_points_enabled(member: members.MemberRecord) -> None:
    if not member.is_points_enabled:
        raise DomainError(POINTS_DISABLED, {"user_id": member.user_id})


def ledger_actor_type(actor: Actor) -> str:
    return actor.type if actor.type in ("staff", "api_client") else "system"


def ledger_row(*, tenant_id: int, member_id: int, kind: str, amount: int, balance_after: int,
               category: str, reason: str, actor: Actor, now: datetime,
               expires_at: datetime | None = None, reverses_id: int | None = None,
               idempotency_key: str | None = None) -> dict[str, Any]:
    """The columns of one ledger entry: every way of writing entries builds them here."""
    return {
        "tenant_id": tenant_id, "member_id": member_id, "kind": kind, "amount": amount,
        "balance_after": balance_after, "category": category, "reason": reason,
        "expires_at": expires_at, "reverses_id": reverses_id,
        "idempotency_key": idempotency_key, "request_id": actor.request_id,
        "actor_type": ledger_actor_type(actor), "actor_id": actor.id,
        "actor_label": (actor.label or "")[:ACTOR_LABEL_MAX], "created_at": now,
    }


def view_of(tx_id: int, user_id: str, row: dict[str, Any], actor: Actor) -> TxView:
    """The TxView of an entry just written from `row` (a ledger_row)."""
    return TxView(tx_id, user_id, row["kind"], row["amount"], row["balance_after"],
                  row["category"], row["reason"], row["expires_at"], row["created_at"],
                  row["idempotency_key"], row["reverses_id"], row["actor_type"],
                  actor.label or "")


def default_expiry(default_expiry_days: int | None, now: datetime) -> datetime | None:
    if default_expiry_days:
        return now + timedelta(days=default_expiry_days)
    return None


# The single-entry statements are built once with bind parameters (prefixed: a
# bindparam may not share a column's name), so executing one is a compiled-cache
# lookup, not a rebuild.
_TX_COLUMNS = ("tenant_id", "member_id", "kind", "amount", "balance_after", "category", "reason",
               "expires_at", "reverses_id", "idempotency_key", "request_id", "actor_type",
               "actor_id", "actor_label", "created_at")
_TX_VALUES = insert(tx_table).values({name: bindparam(f"tx_{name}", type_=tx_table.c[name].type)
                                      for name in _TX_COLUMNS})
_INSERT_TX = _TX_VALUES.returning(tx_table.c.id)
_INSERT_LOT = insert(lots_table)


def returning_credit_entry(statement: Any) -> Any:
    """An INSERT of a credit's entry, returning what its lot copies."""
    tx = tx_table
    return statement.returning(tx.c.id, tx.c.tenant_id, tx.c.member_id, tx.c.amount,
                               tx.c.expires_at, tx.c.created_at)


def lot_of_credit_entry(entry: Any) -> Any:
    """PostgreSQL: the CTE inserting the lot of a credit entry's CTE (returning_credit_entry)."""
    return insert(lots_table).from_select(
        ["tenant_id", "member_id", "transaction_id", "amount", "remaining", "expires_at",
         "created_at"],
        select(entry.c.tenant_id, entry.c.member_id, entry.c.id, entry.c.amount,
               entry.c.amount, entry.c.expires_at, entry.c.created_at),
    ).cte("credit_lot")




def _bound(row: dict[str, Any]) -> dict[str, Any]:
    return {f"tx_{name}": value for name, value in row.items()}


def insert_entry(row: dict[str, Any]) -> int:
    """Insert one ledger entry (a ledger_row); its id."""
    return db.session.execute(_INSERT_TX, _bound(row)).scalar_one()


def insert_credit(row: dict[str, Any]) -> int:
    """Insert a credit's entry and the lot it opens; the entry's id. The generic
    path (SQLite; PostgreSQL writes both inside credit_statement's one statement)."""
    tx_id = insert_entry(row)
    db.session.execute(_INSERT_LOT, {
        "tenant_id": row["tenant_id"], "member_id": row["member_id"], "transaction_id": tx_id,
        "amount": row["amount"], "remaining": row["amount"], "expires_at": row["expires_at"],
        "created_at": row["created_at"]})
    return tx_id
