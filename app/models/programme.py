"""The programme: earning rules, the events integrations report, the awards the
rules gave for them, pending awards (outside the balance until due) and
revocations (refunds)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer,
    Numeric, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime, same_tenant

AWARD_TYPES = ("fixed", "per_amount", "multiplier")
LIMIT_PERIODS = ("day", "week", "month", "lifetime")
AWARD_STATUSES = ("available", "pending", "cancelled")
# Money: up to ten digits before the point, two after.
Money = Numeric(12, 2)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EarningRule(db.Model):
    """How a tenant turns one kind of event into points. Editing a rule changes
    later events only: each award keeps a snapshot of the values it applied."""

    __tablename__ = "earning_rules"
    __table_args__ = (
        CheckConstraint(_in("award_type", AWARD_TYPES), name="award_type_valid"),
        CheckConstraint(
            "(award_type = 'fixed' AND points > 0)"
            " OR (award_type = 'per_amount' AND points > 0 AND per > 0)"
            " OR (award_type = 'multiplier' AND factor >= 1)", name="award_complete"),
        CheckConstraint("limit_period IS NULL OR " + _in("limit_period", LIMIT_PERIODS),
                        name="limit_period_valid"),
        CheckConstraint("(limit_count IS NULL) = (limit_period IS NULL)", name="limit_whole"),
        CheckConstraint("pending_days >= 0", name="pending_days_non_negative"),
        UniqueConstraint("tenant_id", "id"),
        Index("ix_earning_rules_tenant_event_type", "tenant_id", "event_type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    award_type: Mapped[str] = mapped_column(String(16))
    points: Mapped[int | None] = mapped_column(BigInteger)
    per: Mapped[Decimal | None] = mapped_column(Money)
    factor: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    min_amount: Mapped[Decimal | None] = mapped_column(Money)
    level_ids: Mapped[list[int] | None] = mapped_column(JSON)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    limit_count: Mapped[int | None] = mapped_column(Integer)
    limit_period: Mapped[str | None] = mapped_column(String(16))
    max_points: Mapped[int | None] = mapped_column(BigInteger)
    expires_in_days: Mapped[int | None] = mapped_column(Integer)
    pending_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgrammeEvent(db.Model):
    """What a member did, as an integration reported it; recorded once forever."""

    __tablename__ = "programme_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),
        CheckConstraint("refunded_amount >= 0", name="refunded_non_negative"),
        same_tenant(__tablename__, "member_id", "members"),
        # A member's recent events, newest first.
        Index("ix_programme_events_member", "tenant_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    member_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=0, server_default="0")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    points_awarded: Mapped[int] = mapped_column(BigInteger)
    # What identifies the request body, and the first answer, replayed to a repeat.
    fingerprint: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventAward(db.Model):
    """What one rule awarded for one event, with the rule's values as applied."""

    __tablename__ = "event_awards"
    __table_args__ = (
        CheckConstraint(_in("status", AWARD_STATUSES), name="status_valid"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("revoked_points >= 0 AND revoked_points <= points",
                        name="revoked_within_points"),
        # Limits count a member's awards of a rule in a period.
        Index("ix_event_awards_limit", "member_id", "rule_id", "occurred_at"),
        Index("ix_event_awards_rule", "tenant_id", "rule_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("programme_events.id"), index=True)
    member_id: Mapped[int] = mapped_column(BigInteger)
    rule_id: Mapped[int] = mapped_column(ForeignKey("earning_rules.id"))
    rule_name: Mapped[str] = mapped_column(String(120))
    rule_values: Mapped[dict[str, Any]] = mapped_column(JSON)
    points: Mapped[int] = mapped_column(BigInteger)
    # Cancelled while pending, taken back, or not recovered (already spent).
    revoked_points: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("point_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PendingAward(db.Model):
    """Points of an award held back until `available_at`: not in the balance, not
    spendable. Settled once: activated into an earn, or cancelled by a revoke."""

    __tablename__ = "pending_awards"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_non_negative"),
        same_tenant(__tablename__, "member_id", "members"),
        # The activation job's scan of due awards.
        Index("ix_pending_awards_due", "available_at", "id",
              postgresql_where=text("settled_at IS NULL"), sqlite_where=text("settled_at IS NULL")),
        Index("ix_pending_awards_member", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    member_id: Mapped[int] = mapped_column(BigInteger)
    award_id: Mapped[int] = mapped_column(ForeignKey("event_awards.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)  # still pending
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Revocation(db.Model):
    """A refund or return against an event, and what it took back."""

    __tablename__ = "revocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("programme_events.id"), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Money)  # None: the whole event
    reason: Mapped[str] = mapped_column(String(500))
    taken_back: Mapped[int] = mapped_column(BigInteger)
    cancelled_pending: Mapped[int] = mapped_column(BigInteger)
    not_recovered: Mapped[int] = mapped_column(BigInteger)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
