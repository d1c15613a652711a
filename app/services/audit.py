"""The audit trail: one append-only row per change and per sign-in attempt."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from app.extensions import db
from app.models import AuditLog
from app.services import clock
from app.services.context import Actor
from app.services.uow import on_commit

log = logging.getLogger("jifen.events")
_audit = AuditLog.__table__
_INSERT = insert(_audit)  # built once: each call is a compiled-cache hit


def record(tenant_id: int | None, actor: Actor, action: str, target_type: str = "",
           target_id: str | int = "", data: dict[str, Any] | None = None,
           at: datetime | None = None) -> None:
    """Add an audit row to the current transaction (call it inside a service)."""
    when = at or clock.now()
    db.session.execute(_INSERT, {
        "tenant_id": tenant_id, "actor_type": actor.type, "actor_id": actor.id,
        "actor_label": (actor.label or "")[:254], "action": action, "target_type": target_type,
        "target_id": str(target_id)[:128], "ip": (actor.ip or None) and actor.ip[:64],
        "user_agent": (actor.user_agent or None) and actor.user_agent[:512],
        "request_id": actor.request_id, "data": data or {}, "created_at": when,
    })
    # The event is logged once it has happened: a rolled-back change (a refused
    # write, a batch preview) leaves an audit row nowhere and a log line nowhere.
    extra = {"event": action, "tenant_id": tenant_id, "actor_type": actor.type,
             "actor_id": actor.id, "target_type": target_type, "target_id": str(target_id),
             "request_id": actor.request_id}
    on_commit(lambda: log.info("business_event", extra=extra))
