"""VIP tags: the tenant's catalogue, grants with conflict resolution, expiry.

A member holds at most one current tag of a type (the database enforces one
open holding per type). Granting a second one is a `VIP_TAG_CONFLICT` unless
the caller chose a resolution:
- upgrade_existing: only to a higher rank; the new tag keeps the later expiry;
- extend_existing: keep the current tag, longer by the requested tag's duration;
- replace_existing: end the current tag now and grant the requested one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from app.extensions import cache, db
from app.models import MemberTag, VipTag
from app.services import audit, clock, members
from app.services import ledger
from app.services.cache_invalidation import catalogue_changed, tenant_key
from app.services.context import Actor
from app.services.errors import NOT_FOUND, POINTS_DISABLED, VIP_TAG_CONFLICT, DomainError
from app.services.uow import transactional
from app.services.webhooks import events
from app.services.validation import FieldErrors, check_positive_int, check_text, is_row_id

UPGRADE, EXTEND, REPLACE = "upgrade_existing", "extend_existing", "replace_existing"
RESOLUTIONS = (UPGRADE, EXTEND, REPLACE)
MAX_DURATION_DAYS = 36500
MAX_PRICE = 10**9
MAX_RANK = 1000
TAG_NAME_MAX = 100
TAG_TYPE_MAX = 50

_holdings = MemberTag.__table__
_tags = VipTag.__table__


@dataclass(frozen=True)
class TagInfo:
    id: int
    tag_name: str
    tag_type: str
    rank: int
    duration_days: int
    points_price: int | None
    is_active: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tag_name": self.tag_name, "tag_type": self.tag_type,
                "rank": self.rank, "duration_days": self.duration_days,
                "points_price": self.points_price}


# --------------------------------------------------------------------------- catalogue

def _cache_key(tenant_id: int) -> str:
    return tenant_key(tenant_id, "vip_tags")  # a change made by any process is seen at once


def list_tags(tenant_id: int, include_inactive: bool = False) -> list[TagInfo]:
    cached = cache.get(_cache_key(tenant_id))
    if cached is None:
        rows = db.session.execute(
            select(VipTag).where(VipTag.tenant_id == tenant_id)
            .order_by(VipTag.tag_type, VipTag.rank, VipTag.id)
        ).scalars()
        cached = [(t.id, t.tag_name, t.tag_type, t.rank, t.duration_days, t.points_price,
                   t.is_active) for t in rows]
        cache.set(_cache_key(tenant_id), cached, timeout=300)
    tags = [TagInfo(*row) for row in cached]
    return tags if include_inactive else [t for t in tags if t.is_active]


def invalidate(tenant_id: int) -> None:
    catalogue_changed(tenant_id)


def get_tag(tenant_id: int, tag_id: Any) -> VipTag:
    if not is_row_id(tag_id):
        raise DomainError(NOT_FOUND)
    tag = db.session.get(VipTag, tag_id)
    if tag is None or tag.tenant_id != tenant_id:
        raise DomainError(NOT_FOUND)
    return tag


def _validate_tag(tenant_id: int, data: dict[str, Any], exclude_id: int | None = None) -> dict:
    errors = FieldErrors()
    clean = {
        "tag_name": check_text(errors, "tag_name", data.get("tag_name"), TAG_NAME_MAX,
                               required=True),
        "tag_type": check_text(errors, "tag_type", data.get("tag_type"), TAG_TYPE_MAX,
                               required=True),
        "rank": check_positive_int(errors, "rank", data.get("rank"), MAX_RANK, minimum=0),
        "duration_days": check_positive_int(errors, "duration_days", data.get("duration_days"),
                                            MAX_DURATION_DAYS),
        "points_price": check_positive_int(errors, "points_price", data.get("points_price"),
                                           MAX_PRICE, required=False),
    }
    if clean["tag_name"] and db.session.execute(
        select(VipTag.id).where(VipTag.tenant_id == tenant_id,
                                VipTag.tag_name == clean["tag_name"],
                                VipTag.id != (exclude_id or 0))
    ).first():
        errors.add("tag_name", _("Another tag already has this name."))
    errors.raise_if_any()
    return clean


@transactional
def create_tag(tenant_id: int, actor: Actor, **data: Any) -> VipTag:
    clean = _validate_tag(tenant_id, data)
    now = clock.now()
    tag = VipTag(tenant_id=tenant_id, created_at=now, updated_at=now, is_active=True, **clean)
    db.session.add(tag)
    db.session.flush()
    audit.record(tenant_id, actor, "vip_tag.create", "vip_tag", tag.id, clean)
    invalidate(tenant_id)
    return tag


@transactional
def update_tag(tenant_id: int, actor: Actor, tag_id: Any, **data: Any) -> VipTag:
    tag = get_tag(tenant_id, tag_id)
    clean = _validate_tag(tenant_id, data, exclude_id=tag.id)
    if clean["tag_type"] != tag.tag_type and _holders(tag.id):
        raise DomainError("VALIDATION_ERROR", {"field_errors": {"tag_type": [
            _("Members hold this tag: its type cannot change.")]}})
    before = {k: getattr(tag, k) for k in clean}
    for key, value in clean.items():
        setattr(tag, key, value)
    tag.updated_at = clock.now()
    audit.record(tenant_id, actor, "vip_tag.update", "vip_tag", tag.id,
                 {"before": before, "after": clean})
    invalidate(tenant_id)
    return tag


def _holders(tag_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(_holdings).where(_holdings.c.tag_id == tag_id)
    ).scalar_one()


@transactional
def delete_tag(tenant_id: int, actor: Actor, tag_id: Any) -> str:
    """Delete a tag nobody ever held; retire (hide from new grants) one that was held.
    Returns "deleted" or "retired"."""
    tag = get_tag(tenant_id, tag_id)
    snapshot = {"tag_name": tag.tag_name, "tag_type": tag.tag_type}
    if _holders(tag.id):
        tag.is_active = False
        tag.updated_at = clock.now()
        outcome = "retired"
    else:
        db.session.delete(tag)
        outcome = "deleted"
    audit.record(tenant_id, actor, f"vip_tag.{'retire' if outcome == 'retired' else 'delete'}",
                 "vip_tag", tag_id, snapshot)
    invalidate(tenant_id)
    return outcome


# --------------------------------------------------------------------------- grants

def resolution_options(existing_rank: int, requested_rank: int) -> list[str]:
    options = [UPGRADE] if requested_rank > existing_rank else []
    return options + [EXTEND, REPLACE]


@dataclass
class ConflictPreview:
    """What each resolution would do, for the portal's conflict form."""

    existing: members.TagHolding
    requested: TagInfo
    options: dict[str, dict[str, Any]]


def _end_expired(member_id: int, now: datetime) -> None:
    db.session.execute(
        update(_holdings).where(_holdings.c.member_id == member_id,
                                _holdings.c.ended_at.is_(None), _holdings.c.expires_at <= now)
        .values(ended_at=_holdings.c.expires_at, end_reason="expired")
    )


def _open_holding(member_id: int, tag_type: str) -> Any:
    return db.session.execute(
        select(_holdings, VipTag.tag_name, VipTag.rank)
        .join(VipTag, VipTag.id == _holdings.c.tag_id)
        .where(_holdings.c.member_id == member_id, _holdings.c.tag_type == tag_type,
               _holdings.c.ended_at.is_(None))
    ).first()


# Holdings never run past this: repeated extensions would otherwise overflow the calendar.
LATEST_EXPIRY = datetime(9000, 1, 1, tzinfo=UTC)


def _plus_days(start: datetime, days: int) -> datetime | None:
    if start >= LATEST_EXPIRY - timedelta(days=days):
        return None
    return start + timedelta(days=days)


def plan(existing: Any, tag: Any, now: datetime) -> dict[str, dict[str, Any]]:
    """The outcome of each valid resolution: which tag the member ends with, until when.
    A resolution that would run past LATEST_EXPIRY is left out."""
    fresh = _plus_days(now, tag.duration_days)
    extended = _plus_days(existing.expires_at, tag.duration_days)
    plans = {
        UPGRADE: {"tag_name": tag.tag_name,
                  "expires_at": fresh and max(existing.expires_at, fresh)},
        EXTEND: {"tag_name": existing.tag_name, "expires_at": extended},
        REPLACE: {"tag_name": tag.tag_name, "expires_at": fresh},
    }
    return {k: plans[k] for k in resolution_options(existing.rank, tag.rank)
            if plans[k]["expires_at"] is not None}


def preview_conflict(tenant_id: int, user_id: str, tag_id: Any) -> ConflictPreview | None:
    member = members.locate(tenant_id, user_id)
    tag = get_tag(tenant_id, tag_id)
    now = clock.now()
    existing = _open_holding(member.id, tag.tag_type)
    if existing is None or existing.expires_at <= now:
        return None
    holding = members.TagHolding(existing.tag_id, existing.tag_name, tag.tag_type, existing.rank,
                                 existing.expires_at, existing.granted_at, existing.id)
    info = TagInfo(tag.id, tag.tag_name, tag.tag_type, tag.rank, tag.duration_days,
                   tag.points_price, tag.is_active)
    return ConflictPreview(holding, info, plan(existing, tag, now))


@transactional
def grant(tenant_id: int, actor: Actor, *, user_id: Any, tag_id: Any, resolution: Any = None,
          pay_with_points: Any = False, idempotency_key: Any = None) -> list[members.TagHolding]:
    errors = FieldErrors()
    if not isinstance(tag_id, int) or isinstance(tag_id, bool):
        errors.add("tag_id", _("Choose a tag."))
    if resolution is not None and resolution not in RESOLUTIONS:
        errors.add("resolution", _("Choose one of: %(options)s.", options=", ".join(RESOLUTIONS)))
    if not isinstance(pay_with_points, bool):
        errors.add("pay_with_points", _("This must be true or false."))
    errors.raise_if_any()
    tag = get_tag(tenant_id, tag_id)
    if not tag.is_active:
        raise DomainError(NOT_FOUND)
    member = members.locate(tenant_id, user_id, lock=True)
    if pay_with_points and tag.points_price is None:
        raise DomainError("VALIDATION_ERROR", {"field_errors": {"pay_with_points": [
            _("This tag has no points price.")]}})
    if pay_with_points and not member.is_points_enabled:
        raise DomainError(POINTS_DISABLED, {"user_id": user_id})

    now = clock.now()
    _end_expired(member.id, now)
    existing = _open_holding(member.id, tag.tag_type)
    options: list[str] = []
    if existing is not None:
        options = resolution_options(existing.rank, tag.rank)
        if resolution is None:
            raise DomainError(VIP_TAG_CONFLICT, {
                "existing_tag": {"id": existing.tag_id, "tag_name": existing.tag_name,
                                 "expires_at": existing.expires_at},
                "requested_tag": {"id": tag.id, "tag_name": tag.tag_name},
                "resolution_options": options,
            })
        if resolution not in options:
            raise DomainError("VALIDATION_ERROR", {
                "field_errors": {"resolution": [
                    _("Upgrading needs a tag of a higher rank than the current one.")]},
                "resolution_options": options,
            })

    target = plan(existing, tag, now).get(resolution) if existing is not None else None
    if existing is not None and target is None:
        raise DomainError("VALIDATION_ERROR", {"field_errors": {"resolution": [
            _("This would keep the tag beyond the latest date we can store.")]}})

    payment_id = None
    if pay_with_points:
        view, _row = ledger.debit(
            tenant_id, actor, member, amount=tag.points_price, kind="spend",
            category="vip_upgrade", reason=tag.tag_name, now=now, idempotency_key=idempotency_key,
            audit_action="points.spend", audit_extra={"vip_tag_id": tag.id})
        payment_id = view.id

    applied = resolution if existing is not None else "grant"
    if existing is None:
        _insert_holding(tenant_id, member.id, tag, now,
                        now + timedelta(days=tag.duration_days), payment_id)
    elif resolution == EXTEND:
        db.session.execute(update(_holdings).where(_holdings.c.id == existing.id)
                           .values(expires_at=target["expires_at"]))
    else:
        expires = target["expires_at"]
        db.session.execute(update(_holdings).where(_holdings.c.id == existing.id).values(
            ended_at=now, end_reason="upgraded" if resolution == UPGRADE else "replaced"))
        _insert_holding(tenant_id, member.id, tag, now, expires, payment_id)
    audit.record(tenant_id, actor, "vip_tag.grant", "member", user_id, {
        "tag_id": tag.id, "tag_name": tag.tag_name, "resolution": applied,
        "existing_tag_id": existing.tag_id if existing is not None else None,
        "paid_points": tag.points_price if pay_with_points else 0,
        "payment_transaction_id": payment_id,
    }, at=now)
    holdings = members.active_tags([member.id], now).get(member.id, [])
    events.tag_granted(tenant_id, user_id, holdings, tag.id)
    return holdings


def _insert_holding(tenant_id: int, member_id: int, tag: Any, now: datetime,
                    expires_at: datetime, payment_id: int | None) -> None:
    db.session.execute(insert(_holdings).values(
        tenant_id=tenant_id, member_id=member_id, tag_id=tag.id, tag_type=tag.tag_type,
        granted_at=now, expires_at=expires_at, payment_transaction_id=payment_id,
    ))


@transactional
def end_holding(tenant_id: int, actor: Actor, user_id: str, holding_id: Any) -> None:
    """End a member's tag now (a support agent's "remove")."""
    member = members.locate(tenant_id, user_id)
    if not is_row_id(holding_id):
        raise DomainError(NOT_FOUND)
    now = clock.now()
    result = db.session.execute(
        update(_holdings).where(_holdings.c.id == holding_id,
                                _holdings.c.member_id == member.id,
                                _holdings.c.ended_at.is_(None))
        .values(ended_at=now, end_reason="removed")
    )
    if result.rowcount != 1:
        raise DomainError(NOT_FOUND)
    audit.record(tenant_id, actor, "vip_tag.remove", "member", user_id,
                 {"holding_id": holding_id}, at=now)


@transactional
def expire_tags(now: datetime | None = None, tenant_id: int | None = None) -> int:
    """Close holdings whose time is up; returns how many."""
    now = now or clock.now()
    due = [_holdings.c.ended_at.is_(None), _holdings.c.expires_at <= now]
    if tenant_id is not None:
        due.append(_holdings.c.tenant_id == tenant_id)
    closing = db.session.execute(
        select(_holdings.c.id, _holdings.c.tenant_id, _holdings.c.member_id,
               _holdings.c.expires_at, _holdings.c.tag_id, _tags.c.tag_name, _tags.c.tag_type,
               _tags.c.rank)
        .join(_tags, _tags.c.id == _holdings.c.tag_id).where(*due)).all()
    result = db.session.execute(update(_holdings).where(*due).values(
        ended_at=_holdings.c.expires_at, end_reason="expired"))
    events.tags_expired(closing)
    return result.rowcount or 0
