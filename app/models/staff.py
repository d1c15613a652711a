from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, UTCDateTime

ROLES = ("owner", "admin", "support", "viewer")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(16))
    is_active_flag: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Copied into the session at sign-in; bumped to end every session at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    memberships: Mapped[list[StaffMembership]] = relationship(
        back_populates="staff", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_active_flag


class StaffMembership(db.Model):
    """A staff user's role in one tenant."""

    __tablename__ = "staff_memberships"
    __table_args__ = (
        UniqueConstraint("staff_id", "tenant_id"),
        CheckConstraint("role IN ('owner', 'admin', 'support', 'viewer')", name="role_valid"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    staff: Mapped[StaffUser] = relationship(back_populates="memberships")
    tenant = relationship("Tenant", lazy="joined")
