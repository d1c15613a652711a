from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String,
    UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime, same_tenant


class VipTag(db.Model):
    """An entry of a tenant's VIP catalogue."""

    __tablename__ = "vip_tags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "tag_name"),
        CheckConstraint("duration_days > 0", name="duration_positive"),
        CheckConstraint("points_price IS NULL OR points_price > 0", name="price_positive"),
        CheckConstraint("rank >= 0", name="rank_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    tag_name: Mapped[str] = mapped_column(String(100))
    tag_type: Mapped[str] = mapped_column(String(50))
    rank: Mapped[int] = mapped_column(Integer)
    duration_days: Mapped[int] = mapped_column(Integer)
    points_price: Mapped[int | None] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberTag(db.Model):
    """A member's holding of a VIP tag. Current while `ended_at` is null and
    `expires_at` is in the future; the database allows one open holding per type."""

    __tablename__ = "member_tags"
    __table_args__ = (
        same_tenant(__tablename__, "member_id", "members"),
        same_tenant(__tablename__, "tag_id", "vip_tags"),
        Index(
            "ix_member_tags_one_open_per_type", "member_id", "tag_type", unique=True,
            postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL"),
        ),
        Index(
            "ix_member_tags_open_expiry", "tenant_id", "expires_at",
            postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL"),
        ),
        CheckConstraint("expires_at > granted_at", name="expires_after_grant"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    member_id: Mapped[int] = mapped_column(BigInteger)
    tag_id: Mapped[int] = mapped_column(BigInteger)
    tag_type: Mapped[str] = mapped_column(String(50))  # copied from the tag for the unique index
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # expired | upgraded | replaced: why the holding ended.
    end_reason: Mapped[str | None] = mapped_column(String(16))
    payment_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("point_transactions.id"))
