"""The scheduled work, as plain functions the worker's periodic tasks and the
CLI both call. Each is safe to run twice at once (two consumers, or the CLI and
the scheduler): expiry locks members and re-reads their lots, notices are unique
per lot and endpoint, the roll-up keeps days already stored."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from app.extensions import db
from app.models import Member, PointLot, SystemSetting, Tenant, WebhookMessage
from app.services import clock, dashboard, idempotency, members, vip
from app.services.ledger import ExpiryReport, expire_due
from app.services.uow import transactional
from app.services.webhooks import events, outbox

HEARTBEAT_KEY = "worker.heartbeat"
_lots, _members, _messages = PointLot.__table__, Member.__table__, WebhookMessage.__table__


def expire_points(now: datetime | None = None) -> tuple[ExpiryReport, int]:
    """Due lots and due VIP tags: (the lots' report, how many tags ended)."""
    return expire_due(now), vip.expire_tags(now)


def activate_pending(now: datetime | None = None) -> int:
    """Pending awards whose time has come become earns (points.activated)."""
    from app.services import programme

    return programme.activate_due(now=now).awards


MESSAGES_KEPT = timedelta(days=30)


def purge_idempotency() -> int:
    return idempotency.purge()


@transactional
def purge_webhook_messages(now: datetime | None = None) -> int:
    """Delivered and failed messages older than 30 days (the deliveries list
    shows a month); pending ones stay whatever their age."""
    cutoff = (now or clock.now()) - MESSAGES_KEPT
    return db.session.execute(
        delete(_messages).where(_messages.c.status != "pending",
                                _messages.c.created_at < cutoff)).rowcount or 0


def roll_up_dashboards(now: datetime | None = None) -> int:
    """Every tenant's closed days (hourly: each tenant's midnight is caught within
    the hour, and a day already stored is left alone)."""
    tenant_ids = db.session.execute(select(Tenant.id).order_by(Tenant.id)).scalars().all()
    db.session.commit()
    return sum(dashboard.roll_up(tenant_id, now) for tenant_id in tenant_ids)


def expiring_soon_notices(now: datetime | None = None) -> int:
    """points.expiring_soon: one notice per lot (and endpoint) due within the
    tenant's notice days; never twice for one lot."""
    now = now or clock.now()
    tenants = db.session.execute(select(Tenant.id, Tenant.expiry_notice_days)).all()
    db.session.commit()
    return sum(_notices_of(t.id, now, now + timedelta(days=t.expiry_notice_days))
               for t in tenants)


def notice_key(lot_id: int) -> str:
    return f"lot:{lot_id}:expiring_soon"


@transactional
def _notices_of(tenant_id: int, now: datetime, horizon: datetime) -> int:
    subs = outbox.subscribers(tenant_id)
    if not subs.of("points.expiring_soon"):
        return 0
    lots = db.session.execute(
        select(_lots.c.id, _lots.c.member_id, _lots.c.remaining, _lots.c.expires_at)
        .where(_lots.c.tenant_id == tenant_id, _lots.c.remaining > 0,
               _lots.c.expires_at > now, _lots.c.expires_at <= horizon)
        .order_by(_lots.c.expires_at, _lots.c.id)
    ).all()
    sent = set(db.session.execute(
        select(_messages.c.dedupe_key).where(
            _messages.c.tenant_id == tenant_id,
            _messages.c.dedupe_key.in_([notice_key(lot.id) for lot in lots]))
    ).scalars()) if lots else set()
    lots = [lot for lot in lots if notice_key(lot.id) not in sent]
    if not lots:
        return 0
    rows = db.session.execute(
        select(_members).where(_members.c.id.in_({lot.member_id for lot in lots}))).all()
    profiles = {p.id: p for p in members.profiles(tenant_id, list(rows))}
    written = 0
    for lot in lots:
        written += outbox.write(subs, "points.expiring_soon", {
            "profile": events.profile_data(profiles[lot.member_id]),
            "points": lot.remaining, "expires_at": lot.expires_at,
        }, dedupe_key=notice_key(lot.id), at=now)
    return written


@transactional
def beat(now: datetime | None = None) -> None:
    """The worker is alive (health reports the last beat)."""
    db.session.merge(SystemSetting(key=HEARTBEAT_KEY, value=clock.iso_z(now or clock.now()),
                                   updated_at=now or clock.now()))


def last_heartbeat() -> datetime | None:
    row: Any = db.session.execute(
        select(SystemSetting.updated_at).where(SystemSetting.key == HEARTBEAT_KEY)).scalar()
    return row
