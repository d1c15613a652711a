"""Typed SQLAlchemy models. No business rules here: those live in app/services."""
from app.models.audit import AuditLog
from app.models.dashboard import DailyStat
from app.models.integration import (
    ApiClient, IdempotencyRecord, RefreshToken, SystemSetting, TokenFamily,
)
from app.models.ledger import CATEGORIES, KINDS, LotAllocation, PointLot, PointTransaction
from app.models.member import Level, Member, MemberNote
from app.models.programme import (
    EarningRule, EventAward, PendingAward, ProgrammeEvent, Revocation,
)
from app.models.staff import ROLES, StaffMembership, StaffUser
from app.models.tenant import Tenant
from app.models.vip import MemberTag, VipTag
from app.models.webhook import WebhookEndpoint, WebhookMessage

__all__ = [
    "ApiClient", "AuditLog", "CATEGORIES", "DailyStat", "EarningRule", "EventAward",
    "IdempotencyRecord", "KINDS", "Level", "LotAllocation", "Member", "MemberNote", "MemberTag",
    "PendingAward", "PointLot", "PointTransaction", "ProgrammeEvent", "ROLES", "RefreshToken",
    "Revocation", "StaffMembership", "StaffUser", "SystemSetting", "Tenant", "TokenFamily",
    "VipTag", "WebhookEndpoint", "WebhookMessage",
]
