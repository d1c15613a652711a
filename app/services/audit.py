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
_audit = table = AuditLog.__table__
_INSERT = insert(_audit)  # built once: each call is a compiled-cache hit


def values(tenant_id: int | None, actor: Actor, action: str, target_type: str = "",
           target_id: str | int = "", data: dict[str, Any] | None = None,
           at: datetime | None = None) -> dict[str, Any]:
    """The columns of one audit row (`record` inserts them; a write that inserts its
    audit row within a larger statement builds them here too, then calls `logged`)."""
    return {
        "tenant_id": tenant_id, "actor_type": actor.type, "actor_id": actor.id,
        "actor_label": (actor.label or "")[:254], "action": action, "target_type": target_type,
        "target_id": str(target_id)[:128], "ip": (actor.ip or None) and actor.ip[:64],
        "user_agent": (actor.user_agent or None) and actor.user_agent[:512],
        "request_id": actor.request_id, "data": data or {}, "created_at": at or clock.now(),
    }


def record(tenant_id: int | None, actor: Actor, action: str, target_type: str = "",
           target_id: str | int = "", data: dict[str, Any] | None = None,
           at: datetime | None = None) -> None:
    """Add an audit row to the current transaction (call it inside a service)."""
    insert_row(values(tenant_id, actor, action, target_type, target_id, data, at))


def insert_row(row: dict[str, Any]) -> None:
    """Add an audit row built by `values` to the current transaction."""
    db.session.execute(_INSERT, row)
    logged(row)


def logged(row: dict[str, Any]) -> None:
    """Log the business event of an audit row once its transaction has committed: a
    rolled-back change (a refused write, a batch preview) leaves an audit row
    nowhere and a log line nowhere."""
    extra = {"event": row["action"], "tenant_id": row["tenant_id"],
             "actor_type": row["actor_type"], "actor_id": row["actor_id"],
             "target_type": row["target_type"], "target_id": row["target_id"],
             "request_id": row["request_id"]}
    on_commit(lambda: log.info("business_event", extra=extra))
