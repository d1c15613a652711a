from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime, same_tenant


class Level(db.Model):
    """A tier: members whose lifetime points reach `min_points` hold it."""

    __tablename__ = "levels"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "min_points"),
        UniqueConstraint("tenant_id", "level_name"),
        CheckConstraint("min_points >= 0", name="min_points_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    level_name: Mapped[str] = mapped_column(String(100))
    min_points: Mapped[int] = mapped_column(BigInteger)
    benefits: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(db.Model):
    """A tenant's end customer (the seed's TenantUserProfile).

    `total_points` is the balance and `lifetime_points` what counts for levels;
    both are kept here so no read has to sum the ledger.
    """

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint("total_points >= 0", name="balance_non_negative"),
        CheckConstraint("lifetime_points >= 0", name="lifetime_non_negative"),
        CheckConstraint("pending_points >= 0", name="pending_non_negative"),
        same_tenant(__tablename__, "level_id", "levels"),
        Index("ix_members_tenant_level", "tenant_id", "level_id"),
        Index("ix_members_tenant_email_hash", "tenant_id", "email_hash"),
        Index("ix_members_tenant_phone_hash", "tenant_id", "phone_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email_encrypted: Mapped[str | None] = mapped_column(Text)
    email_hash: Mapped[str | None] = mapped_column(String(64))
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    # Keyed hash of the number in international form (services/contact.py): exact lookup.
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    total_points: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_points: Mapped[int] = mapped_column(BigInteger, default=0)
    # Awarded but held back (pending awards): never in the balance, never spendable.
    pending_points: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    level_id: Mapped[int | None] = mapped_column(BigInteger)
    is_points_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MemberNote(db.Model):
    """Staff's internal note on a member: append-only (a trigger refuses changes),
    never shown to integrations."""

    __tablename__ = "member_notes"
    __table_args__ = (
        same_tenant(__tablename__, "member_id", "members"),
        Index("ix_member_notes_member", "tenant_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    member_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Who wrote it, as the audit log names them (the account may change its email later).
    author_label: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
