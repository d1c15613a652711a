"""Daily totals of the ledger, per tenant, for the dashboard.

The ledger is append-only and a transaction's `created_at` is set when it is
inserted, so a day that has closed never changes: it is summed once into a row
here, and the dashboard reads these rows instead of the ledger. Only the open
day is summed live.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime

AMOUNT_COLUMNS = ("earned", "spent", "expired", "adjusted_in", "adjusted_out", "reversed_in",
                  "reversed_out")


class DailyStat(db.Model):
    __tablename__ = "dashboard_daily_stats"
    __table_args__ = tuple(
        CheckConstraint(f"{name} >= 0", name=f"{name}_non_negative")
        for name in AMOUNT_COLUMNS + ("transactions",)
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # a UTC calendar day
    # Points, all as positive numbers: what earns added, what spends took, ...
    earned: Mapped[int] = mapped_column(BigInteger, default=0)
    spent: Mapped[int] = mapped_column(BigInteger, default=0)
    expired: Mapped[int] = mapped_column(BigInteger, default=0)
    adjusted_in: Mapped[int] = mapped_column(BigInteger, default=0)
    adjusted_out: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_in: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_out: Mapped[int] = mapped_column(BigInteger, default=0)
    transactions: Mapped[int] = mapped_column(BigInteger, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
