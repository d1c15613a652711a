"""Webhook endpoints of a tenant: create (the secret shown once), list with
health, disable, delete. Every change is audited."""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import WebhookEndpoint, WebhookMessage
from app.services import audit, clock, crypto
from app.services.context import Actor
from app.services.errors import NOT_FOUND, DomainError, ValidationFailed
from app.services.members import Page, check_page_size, decode_cursor, encode_cursor
from app.services.uow import on_commit, transactional
from app.services.validation import FieldErrors, check_text, is_row_id
from app.services.webhooks import delivery, events, urls
from app.services.webhooks.outbox import ALL, EVENT_TYPES, kick

DESCRIPTION_MAX = 200
SUBSCRIBABLE = tuple(t for t in EVENT_TYPES if t != "ping")
_messages = WebhookMessage.__table__


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    created_at: datetime
    secret: str | None = None  # only right after creation

    def as_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "url": self.url, "description": self.description,
                "event_types": self.event_types, "is_active": self.is_active,
                "created_at": self.created_at}
        if self.secret is not None:
            data["secret"] = self.secret
        return data


@dataclass(frozen=True)
class Health:
    last_delivery_at: datetime | None
    last_status: str | None
    failures_24h: int
    pending: int


def _view(endpoint: WebhookEndpoint, secret: str | None = None) -> EndpointView:
    return EndpointView(endpoint.id, endpoint.url, endpoint.description,
                        endpoint.event_type_list, endpoint.is_active, endpoint.created_at, secret)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _strict() -> bool:
    return current_app.config.get("ENV_NAME") == "production"


def _check_event_types(errors: FieldErrors, value: Any) -> list[str]:
    if not isinstance(value, list) or not value or \
            not all(isinstance(t, str) for t in value):
        errors.add("event_types", _("Choose at least one event type."))
        return []
    if value == [ALL]:
        return [ALL]
    unknown = [t for t in value if t not in SUBSCRIBABLE]
    if unknown:
        errors.add("event_types", _("Unknown event types: %(types)s.", types=", ".join(unknown)))
    return sorted(set(value))


def _check_url(errors: FieldErrors, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.add("url", _("Enter the URL to send events to."))
        return ""
    url = value.strip()
    try:
        urls.resolve(url, strict=_strict()) if _strict() else urls.parse(url, strict=False)
    except urls.UnsafeURL:
        if _strict():
            errors.add("url", _("Use an https URL of a public server."))
        else:
            errors.add("url", _("Use an http or https URL."))
    return url


@transactional
def create(tenant_id: int, actor: Actor, *, url: Any, event_types: Any,
           description: Any = None) -> EndpointView:
    errors = FieldErrors()
    url = _check_url(errors, url)
    types = _check_event_types(errors, event_types)
    description = check_text(errors, "description", description, DESCRIPTION_MAX) or ""
    errors.raise_if_any()
    secret = new_secret()
    endpoint = WebhookEndpoint(tenant_id=tenant_id, url=url, description=description,
                               event_types=",".join(types),
                               secret_encrypted=crypto.encrypt(secret), is_active=True,
                               created_at=clock.now())
    db.session.add(endpoint)
    db.session.flush()
    audit.record(tenant_id, actor, "webhook.create", "webhook_endpoint", endpoint.id,
                 {"url": url, "event_types": types, "description": description})
    return _view(endpoint, secret)


def get(tenant_id: int, endpoint_id: Any) -> WebhookEndpoint:
    """The tenant-scoped loader: another tenant's endpoint, or a deleted one, is
    not found."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) if is_row_id(endpoint_id) else None
    if endpoint is None or endpoint.tenant_id != tenant_id or endpoint.deleted_at is not None:
        raise DomainError(NOT_FOUND)
    return endpoint


def get_view(tenant_id: int, endpoint_id: Any) -> EndpointView:
    return _view(get(tenant_id, endpoint_id))


def list_endpoints(tenant_id: int) -> list[EndpointView]:
    rows = db.session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id,
                                      WebhookEndpoint.deleted_at.is_(None))
        .order_by(WebhookEndpoint.id)
    ).scalars().all()
    return [_view(e) for e in rows]


def health(tenant_id: int, endpoint_ids: list[int]) -> dict[int, Health]:
    """Per endpoint: the last attempt, failed attempts of the last 24 hours (by
    messages whose latest attempt failed), and what waits."""
    if not endpoint_ids:
        return {}
    since = clock.now() - timedelta(hours=24)
    m = _messages
    rows = db.session.execute(
        select(m.c.endpoint_id, func.max(m.c.last_attempt_at),
               func.count().filter(m.c.last_attempt_at >= since, m.c.status != "delivered",
                                   m.c.attempts > 0),
               func.count().filter(m.c.status == "pending"))
        .where(m.c.tenant_id == tenant_id, m.c.endpoint_id.in_(endpoint_ids))
        .group_by(m.c.endpoint_id)
    ).all()
    result = {eid: Health(None, None, 0, 0) for eid in endpoint_ids}
    for eid, last_at, failures, pending in rows:
        last_status = None
        if last_at is not None:
            last_status = db.session.execute(
                select(m.c.status).where(m.c.endpoint_id == eid, m.c.last_attempt_at == last_at)
                .limit(1)).scalar()
        result[eid] = Health(last_at, last_status, int(failures), int(pending))
    return result


@transactional
def disable(tenant_id: int, actor: Actor, endpoint_id: Any) -> EndpointView:
    """Stop sending to it; its messages wait until it is enabled again."""
    endpoint = get(tenant_id, endpoint_id)
    if endpoint.is_active:
        endpoint.is_active = False
        audit.record(tenant_id, actor, "webhook.disable", "webhook_endpoint", endpoint.id, {})
    return _view(endpoint)


@transactional
def enable(tenant_id: int, actor: Actor, endpoint_id: Any) -> EndpointView:
    endpoint = get(tenant_id, endpoint_id)
    if not endpoint.is_active:
        endpoint.is_active = True
        audit.record(tenant_id, actor, "webhook.enable", "webhook_endpoint", endpoint.id, {})
    return _view(endpoint)


@transactional
def delete(tenant_id: int, actor: Actor, endpoint_id: Any) -> None:
    """Nothing more is sent to it: its waiting messages fail. The row stays (the
    deliveries it had are history) but no list shows it."""
    endpoint = get(tenant_id, endpoint_id)
    now = clock.now()
    endpoint.deleted_at = now
    endpoint.is_active = False
    db.session.execute(
        update(_messages).where(_messages.c.endpoint_id == endpoint.id,
                                _messages.c.status == "pending")
        .values(status="failed", next_attempt_at=None, last_error="endpoint deleted"))
    audit.record(tenant_id, actor, "webhook.delete", "webhook_endpoint", endpoint.id,
                 {"url": endpoint.url})


@transactional
def send_test(tenant_id: int, actor: Actor, endpoint_id: Any) -> None:
    endpoint = get(tenant_id, endpoint_id)
    if not endpoint.is_active:
        raise ValidationFailed({"endpoint": [_("This endpoint is disabled.")]})
    events.ping(tenant_id, endpoint.id)
    audit.record(tenant_id, actor, "webhook.ping", "webhook_endpoint", endpoint.id, {})


@transactional
def send_again(tenant_id: int, actor: Actor, endpoint_id: Any, msg_id: Any) -> None:
    endpoint = get(tenant_id, endpoint_id)
    if not isinstance(msg_id, str) or not delivery.send_again(tenant_id, endpoint.id, msg_id):
        raise DomainError(NOT_FOUND)
    audit.record(tenant_id, actor, "webhook.resend", "webhook_endpoint", endpoint.id,
                 {"message_id": msg_id})
    on_commit(lambda: kick([endpoint.id]))


@dataclass(frozen=True)
class Delivery:
    id: str
    type: str
    created_at: datetime
    status: str
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime | None
    last_latency_ms: int | None
    last_response: str | None
    last_error: str | None
    payload: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "created_at": self.created_at,
                "status": self.status, "attempts": self.attempts,
                "last_status_code": self.last_status_code,
                "next_attempt_at": self.next_attempt_at}


def deliveries(tenant_id: int, endpoint_id: Any, *, cursor: str | None = None,
               page_size: Any = 20, status: str | None = None) -> Page:
    """An endpoint's messages, newest first, keyset-paged."""
    endpoint = get(tenant_id, endpoint_id)
    size = check_page_size(page_size)
    after = decode_cursor(cursor)
    m = _messages
    query = select(m).where(m.c.endpoint_id == endpoint.id)
    if status in ("pending", "delivered", "failed"):
        query = query.where(m.c.status == status)
    if after is not None:
        query = query.where(m.c.id < after)
    rows = db.session.execute(query.order_by(m.c.id.desc()).limit(size + 1)).all()
    items = [Delivery(r.msg_id, r.event_type, r.created_at, r.status, r.attempts,
                      r.last_status_code, r.next_attempt_at, r.last_latency_ms, r.last_response,
                      r.last_error, r.payload) for r in rows[:size]]
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return Page(items, next_cursor, size)
