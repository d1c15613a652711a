"""Levels (tiers). A member's level always follows its lifetime points: every
change of lifetime points, and every change of the levels, re-derives it in the
same transaction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, select, update

from app.database import is_postgres
from app.extensions import cache, db
from app.models import Level, Member
from app.services import audit, clock, tenants
from app.services.cache_invalidation import catalogue_changed, tenant_key
from app.services.context import Actor
from app.services.errors import NOT_FOUND, DomainError
from app.services.uow import transactional
from app.services.validation import FieldErrors, check_positive_int, check_text, is_row_id

MAX_MIN_POINTS = 10**15
LEVEL_NAME_MAX = 100
BENEFITS_MAX = 2000
_levels = Level.__table__
_members = Member.__table__


@dataclass(frozen=True)
class LevelInfo:
    id: int
    level_name: str
    min_points: int
    benefits: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "level_name": self.level_name, "min_points": self.min_points,
                "benefits": self.benefits}


def _cache_key(tenant_id: int) -> str:
    return tenant_key(tenant_id, "levels")


def list_levels(tenant_id: int, fresh: bool = False) -> list[LevelInfo]:
    """The tenant's levels by threshold, from the cache when it has them.

    `fresh` reads the database (and refreshes the cache): a write that stores a
    level id needs the levels as committed now, not as of this request's start.
    The cache is keyed by the tenant's catalogue version, so a change made by
    another process is never served from here (cache_invalidation)."""
    cached = None if fresh else cache.get(_cache_key(tenant_id))
    if cached is not None:
        return [LevelInfo(*row) for row in cached]
    rows = db.session.execute(
        select(_levels.c.id, _levels.c.level_name, _levels.c.min_points, _levels.c.benefits)
        .where(_levels.c.tenant_id == tenant_id).order_by(_levels.c.min_points)
    ).all()
    result = [LevelInfo(r.id, r.level_name, r.min_points, r.benefits or "") for r in rows]
    cache.set(_cache_key(tenant_id), [tuple(vars(i).values()) for i in result], timeout=300)
    return result


def invalidate(tenant_id: int) -> None:
    """Every process's cached levels of this tenant are stale once this commits."""
    catalogue_changed(tenant_id)


def level_for(levels: list[LevelInfo], lifetime: int) -> LevelInfo | None:
    current = None
    for level in levels:  # sorted by min_points
        if level.min_points <= lifetime:
            current = level
    return current


def next_level(levels: list[LevelInfo], lifetime: int) -> LevelInfo | None:
    for level in levels:
        if level.min_points > lifetime:
            return level
    return None


def level_subquery(lifetime_expr: ColumnElement) -> Any:
    """SQL for "the highest level whose threshold `lifetime_expr` reaches", evaluated
    inside the UPDATE that changes the lifetime points, so no race can leave a
    member on a stale level."""
    return (
        select(_levels.c.id)
        .where(and_(_levels.c.tenant_id == _members.c.tenant_id,
                    _levels.c.min_points <= lifetime_expr))
        .order_by(_levels.c.min_points.desc())
        .limit(1)
        .scalar_subquery()
    )


def _hold_levels(tenant_id: int) -> None:
    """Level changes queue behind writes that derive levels, and those behind them
    (see tenants.get_for_level_write)."""
    if is_postgres():
        db.session.execute(select(func.pg_advisory_xact_lock(tenants.levels_lock_key(tenant_id))))


def _recompute_members(tenant_id: int) -> None:
    from app.services.webhooks import events  # events reads levels: imported when used

    before = events.levels_before(tenant_id)
    db.session.execute(
        update(_members).where(_members.c.tenant_id == tenant_id)
        .values(level_id=level_subquery(_members.c.lifetime_points))
    )
    events.levels_recomputed(tenant_id, before)


def get(tenant_id: int, level_id: Any) -> Level:
    level = db.session.get(Level, level_id) if is_row_id(level_id) else None
    if level is None or level.tenant_id != tenant_id:
        raise DomainError(NOT_FOUND)
    return level


def _validate(tenant_id: int, level_name: Any, min_points: Any, benefits: Any,
              exclude_id: int | None = None) -> tuple[str, int, str]:
    errors = FieldErrors()
    name = check_text(errors, "level_name", level_name, LEVEL_NAME_MAX, required=True)
    threshold = check_positive_int(errors, "min_points", min_points, MAX_MIN_POINTS, minimum=0)
    benefits = check_text(errors, "benefits", benefits, BENEFITS_MAX) or ""
    if not errors:
        for other in list_levels_uncached(tenant_id):
            if other.id == exclude_id:
                continue
            if other.level_name == name:
                errors.add("level_name", _("Another level already has this name."))
            if other.min_points == threshold:
                errors.add("min_points", _("Another level already starts at this many points."))
    errors.raise_if_any()
    return name, threshold, benefits


def list_levels_uncached(tenant_id: int) -> list[Level]:
    return list(db.session.execute(
        select(Level).where(Level.tenant_id == tenant_id).order_by(Level.min_points)
    ).scalars())


@transactional
def create(tenant_id: int, actor: Actor, *, level_name: Any, min_points: Any,
           benefits: Any = "") -> Level:
    _hold_levels(tenant_id)
    name, threshold, benefits = _validate(tenant_id, level_name, min_points, benefits)
    now = clock.now()
    level = Level(tenant_id=tenant_id, level_name=name, min_points=threshold, benefits=benefits,
                  created_at=now, updated_at=now)
    db.session.add(level)
    db.session.flush()
    _recompute_members(tenant_id)
    audit.record(tenant_id, actor, "level.create", "level", level.id,
                 {"level_name": name, "min_points": threshold})
    invalidate(tenant_id)
    return level


@transactional
def update_level(tenant_id: int, actor: Actor, level_id: Any, *, level_name: Any,
                 min_points: Any, benefits: Any = "") -> Level:
    _hold_levels(tenant_id)
    level = get(tenant_id, level_id)
    name, threshold, benefits = _validate(tenant_id, level_name, min_points, benefits,
                                          exclude_id=level.id)
    before = {"level_name": level.level_name, "min_points": level.min_points}
    level.level_name, level.min_points, level.benefits = name, threshold, benefits
    level.updated_at = clock.now()
    db.session.flush()
    _recompute_members(tenant_id)
    audit.record(tenant_id, actor, "level.update", "level", level.id,
                 {"before": before, "after": {"level_name": name, "min_points": threshold}})
    invalidate(tenant_id)
    return level


@transactional
def delete(tenant_id: int, actor: Actor, level_id: Any) -> None:
    _hold_levels(tenant_id)
    level = get(tenant_id, level_id)
    snapshot = {"level_name": level.level_name, "min_points": level.min_points}
    # Members leave the level first (they fall to the next one down), then it goes.
    db.session.execute(
        update(_members).where(_members.c.tenant_id == tenant_id)
        .where(_members.c.level_id == level.id).values(level_id=None)
    )
    db.session.delete(level)
    db.session.flush()
    _recompute_members(tenant_id)
    audit.record(tenant_id, actor, "level.delete", "level", level_id, snapshot)
    invalidate(tenant_id)
