"""The outbox: webhook messages written in the transaction of the change they
report, one row per subscribed endpoint.

A committed change therefore always has its messages (the worker finds them even
if this process dies right after the commit) and a rolled-back one has none.
Nothing is built unless an endpoint of the tenant subscribes: a tenant without
webhooks pays one indexed SELECT per operation.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Tenant, WebhookEndpoint, WebhookMessage
from app.database import is_postgres
from app.services import clock
from app.services.uow import on_commit

EVENT_TYPES = (
    "member.created", "points.earned", "points.spent", "points.adjusted", "points.reversed",
    "points.expired", "points.activated", "points.expiring_soon", "level.changed",
    "vip_tag.granted", "vip_tag.expired", "event.revoked", "ping",
)
ALL = "*"

_endpoints, _messages, _tenants = (WebhookEndpoint.__table__, WebhookMessage.__table__,
                                   Tenant.__table__)
_SUBSCRIBERS = (
    select(_endpoints.c.id, _endpoints.c.event_types, _tenants.c.slug)
    .join(_tenants, _tenants.c.id == _endpoints.c.tenant_id)
    .where(_endpoints.c.tenant_id == bindparam("s_tenant"),
           _endpoints.c.is_active.is_(True), _endpoints.c.deleted_at.is_(None))
)


@dataclass(frozen=True)
class Subscribers:
    """A tenant's live endpoints, read once per operation."""

    tenant_id: int
    slug: str
    endpoints: tuple[tuple[int, frozenset[str]], ...]

    def __bool__(self) -> bool:
        return bool(self.endpoints)

    def of(self, event_type: str) -> list[int]:
        return [eid for eid, types in self.endpoints if ALL in types or event_type in types]


def subscribers(tenant_id: int) -> Subscribers:
    rows = db.session.execute(_SUBSCRIBERS, {"s_tenant": tenant_id}).all()
    slug = rows[0].slug if rows else ""
    return Subscribers(tenant_id, slug, tuple(
        (r.id, frozenset(t for t in r.event_types.split(",") if t)) for r in rows))


def subscribers_if(tenant_id: int, listening: bool) -> Subscribers:
    """The tenant's endpoints, read only if the write's tenant row said it has
    live ones (`tenants.WriteTenant.listening`): most writes need no second read."""
    return subscribers(tenant_id) if listening else Subscribers(tenant_id, "", ())


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def body(message_id: str, event_type: str, slug: str, data: dict[str, Any],
         at: datetime) -> str:
    """The JSON text sent, signed and stored: the contract's envelope."""
    return json.dumps({"id": message_id, "type": event_type, "timestamp": clock.iso_z(at),
                       "tenant": slug, "data": data},
                      ensure_ascii=False, separators=(",", ":"), default=_json_value)


def _json_value(value: Any) -> Any:
    """What json cannot write itself: datetimes as ISO 8601 Z, dates as ISO dates,
    anything else (lazy translation strings) as its text."""
    if isinstance(value, datetime):
        return clock.iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write(subs: Subscribers, event_type: str, data: Callable[[], dict[str, Any]] | dict[str, Any],
          *, dedupe_key: str | None = None, at: datetime | None = None,
          endpoint_ids: list[int] | None = None) -> int:
    """Queue `event_type` for every endpoint of `subs` subscribed to it (or only
    `endpoint_ids`), in the caller's transaction. `data` may be a function, called
    only when someone listens. With `dedupe_key`, an endpoint gets the message at
    most once, however often (or concurrently) this runs. Returns how many rows."""
    targets = subs.of(event_type) if endpoint_ids is None else endpoint_ids
    if not targets:
        return 0
    payload = data() if callable(data) else data
    now = at or clock.now()
    rows = []
    for endpoint_id in targets:
        message_id = new_message_id()
        rows.append({
            "msg_id": message_id, "tenant_id": subs.tenant_id, "endpoint_id": endpoint_id,
            "event_type": event_type, "payload": body(message_id, event_type, subs.slug,
                                                      payload, now),
            "dedupe_key": dedupe_key, "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now,
        })
    if dedupe_key is None:
        db.session.execute(insert(_messages), rows)
    else:
        dialect_insert = pg_insert if is_postgres() else sqlite_insert
        db.session.execute(dialect_insert(_messages).on_conflict_do_nothing(
            index_elements=["endpoint_id", "dedupe_key"]), rows)
    on_commit(lambda: kick(targets))
    return len(rows)


def kick(endpoint_ids: list[int]) -> None:
    """Tell the worker at once; if this is lost (the process died, the queue is
    down), the worker's sweep finds the messages within a minute anyway."""
    from app.tasks import kick_delivery

    kick_delivery(endpoint_ids)
