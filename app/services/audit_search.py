"""Reading the audit trail: filter by actor, action, target and time, newest first,
keyset-paged by id (the indexes lead with tenant_id)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog
from app.services.errors import ValidationFailed
from app.services.members import Page, decode_cursor, encode_cursor

_audit = AuditLog.__table__
MAX_PAGE_SIZE = 100
# Every action the services record, for the filter's suggestions.
KNOWN_ACTIONS = (
    "auth.login", "auth.login_failed", "points.earn", "points.spend", "points.adjust",
    "points.reverse", "points.batch_earn", "member.create", "member.points_enabled",
    "member.points_disabled", "vip_tag.grant", "vip_tag.remove", "vip_tag.create",
    "vip_tag.update", "vip_tag.delete", "vip_tag.retire", "level.create", "level.update",
    "level.delete", "staff.add", "staff.role", "staff.deactivate", "api_client.create",
    "api_client.revoke", "tenant.create", "tenant.settings", "export.members",
)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor_type: str
    actor_label: str
    action: str
    target_type: str
    target_id: str
    ip: str | None
    user_agent: str | None
    request_id: str | None
    data: dict[str, Any]
    created_at: datetime


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(tenant_id: int, *, actor: str | None = None, action: str | None = None,
           target_type: str | None = None, target_id: str | None = None,
           since: datetime | None = None, until: datetime | None = None,
           cursor: str | None = None, page_size: int = 50) -> Page:
    """`actor`: the start of the actor's label (an email, a client name), any case;
    `action`: an action, or the start of one ("points."); `until` is exclusive."""
    if since is not None and until is not None and since >= until:
        raise ValidationFailed({"date_to": [_("The end must be after the start.")]})
    with_nul = [name for name, value in (("actor", actor), ("action", action),
                                         ("target_type", target_type), ("target_id", target_id))
                if value and "\x00" in value]
    if with_nul:  # PostgreSQL text cannot hold NUL
        raise ValidationFailed({name: [_("This field cannot contain NUL characters.")]
                                for name in with_nul})
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    after = decode_cursor(cursor)
    query = select(_audit).where(_audit.c.tenant_id == tenant_id)
    if actor:
        query = query.where(func.lower(_audit.c.actor_label).like(
            _like_prefix(actor.strip().lower()), escape="\\"))
    if action:
        query = query.where(_audit.c.action.like(_like_prefix(action.strip()), escape="\\"))
    if target_type:
        query = query.where(_audit.c.target_type == target_type)
    if target_id:
        query = query.where(_audit.c.target_id == target_id.strip())
    if since is not None:
        query = query.where(_audit.c.created_at >= since)
    if until is not None:
        query = query.where(_audit.c.created_at < until)
    if after is not None:
        query = query.where(_audit.c.id < after)
    rows = db.session.execute(query.order_by(_audit.c.id.desc()).limit(page_size + 1)).all()
    items = [AuditEntry(r.id, r.actor_type, r.actor_label or "", r.action, r.target_type or "",
                        r.target_id or "", r.ip, r.user_agent, r.request_id, r.data or {},
                        r.created_at) for r in rows[:page_size]]
    next_cursor = encode_cursor(rows[page_size - 1].id) if len(rows) > page_size else None
    return Page(items, next_cursor, page_size)
