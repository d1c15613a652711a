"""The points ledger: append-only transactions, the lots they create, and the
allocations that say which lots a debit consumed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, ForeignKey, Index, String, text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime, same_tenant

KINDS = ("earn", "spend", "adjust", "expire", "reversal")
CATEGORIES = (
    "login", "license", "referral", "community", "payment", "manual", "vip_upgrade",
    "feature_unlock",
)
ACTOR_TYPES = ("staff", "api_client", "system")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PointTransaction(db.Model):
    """One change of a member's points. Never updated, never deleted (a trigger
    in the migration refuses both)."""

    __tablename__ = "point_transactions"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind_valid"),
        CheckConstraint(_in("category", CATEGORIES), name="category_valid"),
        CheckConstraint(_in("actor_type", ACTOR_TYPES), name="actor_type_valid"),
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_non_negative"),
        CheckConstraint(
            "(kind = 'earn' AND amount > 0) OR (kind IN ('spend', 'expire') AND amount < 0)"
            " OR kind IN ('adjust', 'reversal')",
            name="amount_sign",
        ),
        CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_has_target"
        ),
        same_tenant(__tablename__, "member_id", "members"),
        # A member's history, newest first; the id is the cursor.
        Index("ix_point_transactions_member_history", "tenant_id", "member_id", "id"),
        Index("ix_point_transactions_tenant_created", "tenant_id", "created_at"),
        # At most one reversal of a transaction, decided by the database.
        Index("ix_point_transactions_reverses_id", "reverses_id", unique=True),
        # The portal's find-a-transaction box (services/lookup.py): by key or request id.
        Index("ix_point_transactions_tenant_key", "tenant_id", "idempotency_key",
              postgresql_where=text("idempotency_key IS NOT NULL"),
              sqlite_where=text("idempotency_key IS NOT NULL")),
        Index("ix_point_transactions_tenant_request", "tenant_id", "request_id",
              postgresql_where=text("request_id IS NOT NULL"),
              sqlite_where=text("request_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    member_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("point_transactions.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(128))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PointLot(db.Model):
    """Points a credit added, and how many of them are left to spend or expire."""

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0", name="remaining_non_negative"),
        CheckConstraint("remaining <= amount", name="remaining_within_amount"),
        same_tenant(__tablename__, "member_id", "members"),
        # Consumption order: soonest expiry first, never-expiring last.
        Index(
            "ix_point_lots_member_open", "member_id", "expires_at", "id",
            postgresql_where=text("remaining > 0"), sqlite_where=text("remaining > 0"),
        ),
        # The expiry job's scan of due lots.
        Index(
            "ix_point_lots_due", "expires_at", "id",
            postgresql_where=text("remaining > 0 AND expires_at IS NOT NULL"),
            sqlite_where=text("remaining > 0 AND expires_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    member_id: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("point_transactions.id"), unique=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LotAllocation(db.Model):
    """How much of a lot a debit (spend, negative adjust, expiry, reversal of a
    credit) took; a reversal of a debit gives the same amounts back."""

    __tablename__ = "lot_allocations"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("point_transactions.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
