from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime

DEFAULT_MAX_POINTS_PER_OPERATION = 10000


class Tenant(db.Model):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("max_points_per_operation > 0", name="max_points_positive"),
        CheckConstraint(
            "default_expiry_days IS NULL OR default_expiry_days > 0", name="expiry_days_positive"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    max_points_per_operation: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_MAX_POINTS_PER_OPERATION,
        server_default=str(DEFAULT_MAX_POINTS_PER_OPERATION),
    )
    # None: earned points never expire unless the earn says so.
    default_expiry_days: Mapped[int | None] = mapped_column(Integer)
    # How many days before points expire the member's lots are announced
    # (the points.expiring_soon webhook).
    expiry_notice_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    # IANA name: the tenant's day, week and month (rule limits) and the portal's times.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Calling code (digits, no +) that numbers written without one are read with.
    default_country_code: Mapped[str] = mapped_column(String(3), default="86",
                                                      server_default="86")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped with every change of the levels or the VIP catalogue: the key of
    # every process's cached copy of them.
    catalogue_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
