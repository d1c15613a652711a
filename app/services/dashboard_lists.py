"""The dashboard's lists, each one bounded query: members per level, tags and
points about to expire, the latest transactions, the points each rule awarded.
The figures around them (the daily sums, the roll-up, the cached page) are in
dashboard."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_

from app.extensions import db
from app.models import Member, MemberTag, PointLot, PointTransaction, VipTag
from app.services import levels
from app.services.members import Page, decode_cursor, encode_cursor

EXPIRING_POINTS_DAYS = 30
EXPIRING_TAGS_DAYS = 7
LIST_LIMIT = 10

_tx = PointTransaction.__table__
_members = Member.__table__
_lots = PointLot.__table__
_holdings = MemberTag.__table__


@dataclass(frozen=True)
class LevelCount:
    level_name: str | None  # None: members below every level
    min_points: int | None
    members: int


@dataclass(frozen=True)
class ExpiringTag:
    user_id: str
    display_name: str
    tag_name: str
    expires_at: datetime


@dataclass(frozen=True)
class ExpiringLot:
    user_id: str
    display_name: str
    points: int
    expires_at: datetime


@dataclass(frozen=True)
class RecentTransaction:
    id: int
    user_id: str
    display_name: str
    kind: str
    points_amount: int
    category: str
    reason: str
    actor_label: str
    created_at: datetime



@dataclass(frozen=True)
class RuleTotal:
    rule_id: int
    name: str
    points: int


def awarded_by_rule(tenant_id: int, since: datetime) -> list[RuleTotal]:
    """Points each earning rule awarded since `since` (what refunds took back excluded),
    largest first."""
    from app.models import EarningRule, EventAward

    awards, rules = EventAward.__table__, EarningRule.__table__
    rows = db.session.execute(
        select(awards.c.rule_id, rules.c.name,
               func.sum(awards.c.points - awards.c.revoked_points).label("points"))
        .join(rules, rules.c.id == awards.c.rule_id)
        .where(awards.c.tenant_id == tenant_id, awards.c.created_at >= since)
        .group_by(awards.c.rule_id, rules.c.name)
        .order_by(func.sum(awards.c.points - awards.c.revoked_points).desc())).all()
    return [RuleTotal(r.rule_id, r.name, int(r.points or 0)) for r in rows]



def members_by_level(tenant_id: int) -> dict[int | None, tuple[int, int]]:
    """Members and their points per level (None: below every level), in one pass:
    the member count, the liability and the distribution all come from it."""
    return {level_id: (int(n), int(points or 0)) for level_id, n, points in db.session.execute(
        select(_members.c.level_id, func.count(), func.sum(_members.c.total_points))
        .where(_members.c.tenant_id == tenant_id).group_by(_members.c.level_id)
    )}


def level_distribution(tenant_id: int,
                       by_level: dict[int | None, tuple[int, int]] | None = None
                       ) -> list[LevelCount]:
    counts = {level_id: n for level_id, (n, _points) in
              (by_level if by_level is not None else members_by_level(tenant_id)).items()}
    result = [LevelCount(lv.level_name, lv.min_points, int(counts.get(lv.id, 0)))
              for lv in levels.list_levels(tenant_id)]
    if counts.get(None):
        result.insert(0, LevelCount(None, None, int(counts[None])))
    return result


def _open_tags_due(tenant_id: int, now: datetime) -> Any:
    return (_holdings.c.tenant_id == tenant_id, _holdings.c.ended_at.is_(None),
            _holdings.c.expires_at > now,
            _holdings.c.expires_at <= now + timedelta(days=EXPIRING_TAGS_DAYS))


def expiring_tags(tenant_id: int, now: datetime) -> list[ExpiringTag]:
    rows = db.session.execute(
        select(_members.c.user_id, _members.c.display_name, VipTag.tag_name,
               _holdings.c.expires_at)
        .join(_members, _members.c.id == _holdings.c.member_id)
        .join(VipTag, VipTag.id == _holdings.c.tag_id)
        .where(*_open_tags_due(tenant_id, now))
        .order_by(_holdings.c.expires_at).limit(LIST_LIMIT)
    ).all()
    return [ExpiringTag(r.user_id, r.display_name or "", r.tag_name, r.expires_at) for r in rows]


def expiring_tags_count(tenant_id: int, now: datetime) -> int:
    return int(db.session.execute(
        select(func.count()).select_from(_holdings).where(*_open_tags_due(tenant_id, now))
    ).scalar_one())


def expiring_lots(tenant_id: int, now: datetime) -> list[ExpiringLot]:
    rows = db.session.execute(
        select(_members.c.user_id, _members.c.display_name, _lots.c.remaining,
               _lots.c.expires_at)
        .join(_members, _members.c.id == _lots.c.member_id)
        .where(_lots.c.tenant_id == tenant_id, _lots.c.remaining > 0, _lots.c.expires_at > now,
               _lots.c.expires_at <= now + timedelta(days=EXPIRING_POINTS_DAYS))
        .order_by(_lots.c.expires_at, _lots.c.id).limit(LIST_LIMIT)
    ).all()
    return [ExpiringLot(r.user_id, r.display_name or "", int(r.remaining), r.expires_at)
            for r in rows]


def expiring_lots_page(tenant_id: int, now: datetime, *, cursor: str | None = None,
                       page_size: int = 50) -> Page:
    """Every lot with points left that expires within EXPIRING_POINTS_DAYS, soonest
    first, keyset-paged on (expires_at, lot id) through ix_point_lots_due. The
    cursor names the last lot shown; a lot's expiry never changes, so the next
    page starts right after it even if it has been spent meanwhile."""
    after = decode_cursor(cursor)
    query = (
        select(_lots.c.id, _members.c.user_id, _members.c.display_name, _lots.c.remaining,
               _lots.c.expires_at)
        .join(_members, _members.c.id == _lots.c.member_id)
        .where(_lots.c.tenant_id == tenant_id, _lots.c.remaining > 0, _lots.c.expires_at > now,
               _lots.c.expires_at <= now + timedelta(days=EXPIRING_POINTS_DAYS))
    )
    if after is not None:
        last = (select(_lots.c.expires_at)
                .where(_lots.c.tenant_id == tenant_id, _lots.c.id == after).scalar_subquery())
        query = query.where(tuple_(_lots.c.expires_at, _lots.c.id) > tuple_(last, after))
    rows = db.session.execute(
        query.order_by(_lots.c.expires_at, _lots.c.id).limit(page_size + 1)).all()
    next_cursor = encode_cursor(rows[page_size - 1].id) if len(rows) > page_size else None
    return Page([ExpiringLot(r.user_id, r.display_name or "", int(r.remaining), r.expires_at)
                 for r in rows[:page_size]], next_cursor, page_size)


def latest(tenant_id: int, limit: int = LIST_LIMIT) -> list[RecentTransaction]:
    rows = db.session.execute(
        select(_tx.c.id, _tx.c.kind, _tx.c.amount, _tx.c.category, _tx.c.reason,
               _tx.c.actor_label, _tx.c.created_at, _members.c.user_id, _members.c.display_name)
        .join(_members, _members.c.id == _tx.c.member_id)
        .where(_tx.c.tenant_id == tenant_id)
        .order_by(_tx.c.created_at.desc(), _tx.c.id.desc()).limit(limit)
    ).all()
    return [RecentTransaction(r.id, r.user_id, r.display_name or "", r.kind, int(r.amount),
                              r.category, r.reason or "", r.actor_label or "", r.created_at)
            for r in rows]
