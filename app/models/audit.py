from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime


class AuditLog(db.Model):
    """Who changed what, from where. Append-only (enforced by a trigger)."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_tenant_time", "tenant_id", "created_at", "id"),
        Index("ix_audit_logs_tenant_action", "tenant_id", "action", "id"),
        Index("ix_audit_logs_tenant_actor", "tenant_id", "actor_type", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Null for events outside any tenant (e.g. a failed sign-in of an unknown email).
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    actor_type: Mapped[str] = mapped_column(String(16))  # staff | api_client | system | anonymous
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(128), default="")
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
