"""Typed SQLAlchemy models. No business rules here: those live in app/services."""
from app.models.audit import AuditLog
from app.models.dashboard import DailyStat
from app.models.integration import (
    ApiClient, IdempotencyRecord, RefreshToken, SystemSetting, TokenFamily,
)
from app.models.ledger import CATEGORIES, KINDS, LotAllocation, PointLot, PointTransaction
from app.models.member import Level, Member
from app.models.staff import ROLES, StaffMembership, StaffUser
from app.models.tenant import Tenant
from app.models.vip import MemberTag, VipTag
from app.models.webhook import WebhookEndpoint, WebhookMessage

__all__ = [
    "ApiClient", "AuditLog", "CATEGORIES", "DailyStat", "IdempotencyRecord", "KINDS", "Level",
    "LotAllocation", "Member", "MemberTag", "PointLot", "PointTransaction", "ROLES",
    "RefreshToken", "StaffMembership", "StaffUser", "SystemSetting", "Tenant", "TokenFamily",
    "VipTag", "WebhookEndpoint", "WebhookMessage",
]
