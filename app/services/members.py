"""Members: create, find, search, and the profile every caller renders."""
from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Member, MemberNote, MemberTag, ProgrammeEvent, VipTag
from app.services import audit, clock, contact, crypto, levels, tenants
from app.services.context import Actor
from app.services.errors import MEMBER_EXISTS, MEMBER_NOT_FOUND, DomainError, ValidationFailed
from app.services.uow import transactional
from app.services.webhooks import events
from app.services.validation import (
    DISPLAY_NAME_MAX, FieldErrors, check_email, check_phone, check_text, check_user_id,
    is_storable_text,
)

MAX_PAGE_SIZE = 100
_members = Member.__table__


@dataclass(frozen=True)
class TagHolding:
    id: int  # the tag's catalogue id
    tag_name: str
    tag_type: str
    rank: int
    expires_at: datetime
    granted_at: datetime
    holding_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tag_name": self.tag_name, "tag_type": self.tag_type,
                "rank": self.rank, "expires_at": self.expires_at}


@dataclass
class Profile:
    id: int
    user_id: str
    display_name: str
    email: str | None
    phone: str | None
    total_points: int
    lifetime_points: int
    level: levels.LevelInfo | None
    next_level: levels.LevelInfo | None
    tags: list[TagHolding] = field(default_factory=list)
    is_points_enabled: bool = True
    created_at: datetime | None = None
    last_activity_at: datetime | None = None
    pending_points: int = 0  # awarded, held back until due: not in total_points
    # Whether the member has programme events and staff notes: read by get_profile,
    # None where not read (a list's profiles).
    has_events: bool | None = None
    has_notes: bool | None = None

    def as_dict(self, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """The profile as integrations see it (CONTRACT.md), or only `fields`."""
        full = {
            "user_id": self.user_id,
            "display_name": self.display_name,
            "email": self.email,
            "phone": self.phone,
            "total_points": self.total_points,
            "lifetime_points": self.lifetime_points,
            "pending_points": self.pending_points,
            "current_level": {"id": self.level.id, "level_name": self.level.level_name,
                              "min_points": self.level.min_points} if self.level else None,
            "tags": [t.as_dict() for t in self.tags],
            "is_points_enabled": self.is_points_enabled,
            "created_at": self.created_at,
        }
        if fields is None:
            return full
        return {name: full[name] for name in fields}


PROFILE_FIELDS = ("user_id", "display_name", "email", "phone", "total_points", "lifetime_points",
                  "pending_points", "current_level", "tags", "is_points_enabled", "created_at")
# Never in a webhook: integrations get the member's points, not their contact details.
CONTACT_FIELDS = ("email", "phone")
PUBLIC_PROFILE_FIELDS = tuple(f for f in PROFILE_FIELDS if f not in CONTACT_FIELDS)


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, field_name: str = "cursor") -> int | None:
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, value = raw.split(":", 1)
        number = int(value)
        # Ids are 64-bit: a larger number would overflow the driver (a 500), not page.
        if prefix != "v1" or not 0 <= number < 2**63:
            raise ValueError
        return number
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed({field_name: [_("This cursor is not valid.")]}) from None


def check_page_size(value: Any, default: int = 20) -> int:
    if value is None or value == "":
        return default
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if isinstance(value, bool) or size < 1 or size > MAX_PAGE_SIZE:
        raise ValidationFailed(
            {"page_size": [_("page_size must be a whole number from 1 to %(max)s.",
                             max=MAX_PAGE_SIZE)]},
            field_constraints={"page_size": {"min": 1, "max": MAX_PAGE_SIZE, "type": "integer"}},
        )
    return size


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member's columns as read (or just written): what services pass around."""

    id: int
    tenant_id: int
    user_id: str
    display_name: str
    email_encrypted: str | None
    email_hash: str | None
    phone_encrypted: str | None
    phone_hash: str | None
    total_points: int
    lifetime_points: int
    level_id: int | None
    is_points_enabled: bool
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None
    pending_points: int  # awarded, held back until due: never in total_points

    @classmethod
    def of(cls, source: Any) -> MemberRecord:
        """From a row of the members table (a Core row or a Member)."""
        return cls(*(getattr(source, name) for name in _RECORD_FIELDS))


_RECORD_FIELDS = tuple(MemberRecord.__dataclass_fields__)

# Built once: each call is a compiled-cache hit.
_LOCATE = select(_members).where(_members.c.tenant_id == bindparam("m_tenant"),
                                 _members.c.user_id == bindparam("m_user"))
_LOCATE_FOR_UPDATE = _LOCATE.with_for_update()


def locate(tenant_id: int, user_id: Any, *, lock: bool = False) -> MemberRecord:
    """The tenant-scoped loader of a member, fresh from the database: another
    tenant's member is simply not found. With `lock`, the member's row stays
    locked until the transaction ends."""
    return MemberRecord.of(_located(_LOCATE_FOR_UPDATE if lock else _LOCATE, tenant_id,
                                    user_id)[0])


def _located(statement: Any, tenant_id: int, user_id: Any, **params: Any) -> list[Any]:
    """The rows of `statement` (`_LOCATE` or built on it) for this tenant's member;
    MEMBER_NOT_FOUND when there are none."""
    if not is_storable_text(user_id):  # such an id was never stored: not found, not a 500
        raise DomainError(MEMBER_NOT_FOUND)
    rows = db.session.execute(statement, {"m_tenant": tenant_id, "m_user": user_id,
                                          **params}).all()
    if not rows:
        raise DomainError(MEMBER_NOT_FOUND)
    return rows


# Built once (an expanding IN): each call is a compiled-cache hit.
_holdings, _tags, _events = MemberTag.__table__, VipTag.__table__, ProgrammeEvent.__table__
_notes = MemberNote.__table__
_ACTIVE_TAGS = (
    select(_holdings.c.member_id, _holdings.c.id, _holdings.c.granted_at, _holdings.c.expires_at,
           _tags.c.id.label("tag_id"), _tags.c.tag_name, _tags.c.tag_type, _tags.c.rank)
    .join(_tags, _tags.c.id == _holdings.c.tag_id)
    .where(_holdings.c.member_id.in_(bindparam("ids", expanding=True)),
           _holdings.c.ended_at.is_(None),
           _holdings.c.expires_at > bindparam("now", type_=_holdings.c.expires_at.type))
    .order_by(_holdings.c.member_id, _tags.c.tag_type)
)


def active_tags(member_ids: list[int], now: datetime | None = None) -> dict[int, list[TagHolding]]:
    """Current VIP holdings of several members in one query."""
    if not member_ids:
        return {}
    rows = db.session.execute(_ACTIVE_TAGS, {"ids": member_ids, "now": now or clock.now()}).all()
    result: dict[int, list[TagHolding]] = {}
    for r in rows:
        result.setdefault(r.member_id, []).append(
            TagHolding(r.tag_id, r.tag_name, r.tag_type, r.rank, r.expires_at, r.granted_at, r.id)
        )
    return result


def _profile(row: MemberRecord, level_list: list[levels.LevelInfo], tags: list[TagHolding]) -> Profile:
    level = next((lv for lv in level_list if lv.id == row.level_id), None)
    return Profile(
        id=row.id, user_id=row.user_id, display_name=row.display_name or "",
        email=crypto.decrypt(row.email_encrypted), phone=crypto.decrypt(row.phone_encrypted),
        total_points=row.total_points, lifetime_points=row.lifetime_points, level=level,
        next_level=levels.next_level(level_list, row.lifetime_points), tags=tags,
        is_points_enabled=row.is_points_enabled, created_at=row.created_at,
        last_activity_at=row.last_activity_at, pending_points=row.pending_points,
    )


def _levels_for(tenant_id: int, rows: list[MemberRecord]) -> list[levels.LevelInfo]:
    """The tenant's levels (cached), read again when a member's level is not among them."""
    level_list = levels.list_levels(tenant_id)
    known = {lv.id for lv in level_list}
    if any(r.level_id is not None and r.level_id not in known for r in rows):
        level_list = levels.list_levels(tenant_id, fresh=True)  # this worker's cache is stale
    return level_list


def profiles(tenant_id: int, rows: list[MemberRecord]) -> list[Profile]:
    """Profiles of members, with levels (cached) and tags (one query)."""
    level_list = _levels_for(tenant_id, rows)
    tags = active_tags([r.id for r in rows])
    return [_profile(r, level_list, tags.get(r.id, [])) for r in rows]


def profile_with_tags(tenant_id: int, row: MemberRecord, tags: list[TagHolding]) -> Profile:
    """A member's profile from tags its caller read already (member_tags)."""
    return _profile(row, _levels_for(tenant_id, [row]), tags)


def profile_of(tenant_id: int, member: MemberRecord) -> Profile:
    return profiles(tenant_id, [member])[0]


# A member's profile in one statement: `_LOCATE` with its active VIP holdings (a
# row each, or one of NULLs) and whether it has programme events and staff notes
# (index probes: the member page reads them only then).
_PROFILE = (
    select(*_members.c, exists().where(_events.c.tenant_id == _members.c.tenant_id,
                                       _events.c.member_id == _members.c.id).label("has_events"),
           exists().where(_notes.c.tenant_id == _members.c.tenant_id,
                          _notes.c.member_id == _members.c.id).label("has_notes"),
           _holdings.c.id.label("holding_id"), _holdings.c.granted_at,
           _holdings.c.expires_at.label("holding_expires_at"), _tags.c.id.label("tag_id"),
           _tags.c.tag_name, _tags.c.tag_type, _tags.c.rank)
    .select_from(_members.outerjoin(_holdings, and_(
        _holdings.c.member_id == _members.c.id, _holdings.c.ended_at.is_(None),
        _holdings.c.expires_at > bindparam("now", type_=_holdings.c.expires_at.type)))
        .outerjoin(_tags, _tags.c.id == _holdings.c.tag_id))
    .where(_members.c.tenant_id == bindparam("m_tenant"),
           _members.c.user_id == bindparam("m_user"))
    .order_by(_tags.c.tag_type)
)


def get_profile(tenant_id: int, user_id: str) -> Profile:
    """`profile_of(tenant_id, locate(tenant_id, user_id))`, read in one statement,
    with `has_events` and `has_notes`."""
    rows = _located(_PROFILE, tenant_id, user_id, now=clock.now())
    member = MemberRecord.of(rows[0])
    tags = [TagHolding(r.tag_id, r.tag_name, r.tag_type, r.rank, r.holding_expires_at,
                       r.granted_at, r.holding_id) for r in rows if r.holding_id is not None]
    profile = _profile(member, _levels_for(tenant_id, [member]), tags)
    profile.has_events = bool(rows[0].has_events)
    profile.has_notes = bool(rows[0].has_notes)
    return profile


@transactional
def create(tenant_id: int, actor: Actor, *, user_id: Any, display_name: Any = None,
           email: Any = None, phone: Any = None) -> Profile:
    errors = FieldErrors()
    user_id = check_user_id(errors, user_id)
    display_name = check_text(errors, "display_name", display_name, DISPLAY_NAME_MAX) or ""
    email = check_email(errors, email)
    phone = check_phone(errors, phone)
    errors.raise_if_any()
    tenant = tenants.get_for_level_write(tenant_id)  # the starting level must not be changing
    try:
        locate(tenant_id, user_id)
    except DomainError:
        pass  # not there yet: create it
    else:
        raise DomainError(MEMBER_EXISTS, {"user_id": user_id})
    now = clock.now()
    level_list = levels.list_levels(tenant_id, fresh=True)
    start_level = levels.level_for(level_list, 0)
    member = Member(
        tenant_id=tenant_id, user_id=user_id, display_name=display_name,
        **contact.columns(tenant.default_country_code, email, phone),
        total_points=0, lifetime_points=0,
        level_id=start_level.id if start_level else None, is_points_enabled=True,
        created_at=now, updated_at=now,
    )
    db.session.add(member)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # A concurrent create of the same user_id won the race.
        raise DomainError(MEMBER_EXISTS, {"user_id": user_id}) from None
    audit.record(tenant_id, actor, "member.create", "member", user_id,
                 {"display_name": display_name, "email_set": bool(email),
                  "phone_set": bool(phone)})
    profile = profile_of(tenant_id, MemberRecord.of(member))
    events.member_created(tenant_id, profile)
    return profile


@transactional
def set_points_enabled(tenant_id: int, actor: Actor, user_id: str, enabled: bool) -> Profile:
    if not isinstance(enabled, bool):
        raise ValidationFailed({"is_points_enabled": [_("This must be true or false.")]})
    member = locate(tenant_id, user_id, lock=True)
    if member.is_points_enabled != enabled:
        member = MemberRecord.of(db.session.execute(
            update(_members).where(_members.c.id == member.id)
            .values(is_points_enabled=enabled, updated_at=clock.now())
            .returning(*_members.c)
        ).one())
        audit.record(tenant_id, actor, "member.points_enabled" if enabled
                     else "member.points_disabled", "member", user_id, {})
    return profile_of(tenant_id, member)


def _conditions(tenant_id: int, q: str | None, level_id: int | None,
                tag_id: int | None) -> list[Any]:
    """What a search asks of members. `q`: an email (exact, through the keyed
    hash), or a phone number (exact, normalised, through the keyed hash), or a
    user_id prefix, or part of the display name."""
    if q and "\x00" in q:  # PostgreSQL text cannot hold NUL
        raise ValidationFailed({"q": [_("This field cannot contain NUL characters.")]})
    where: list[Any] = [Member.tenant_id == tenant_id]
    q = q.strip() if q else q
    if q and "@" in q:
        where.append(or_(Member.email_hash.in_(crypto.email_hash_candidates(q)),
                         Member.user_id == q))
    elif q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found = [Member.user_id.like(f"{escaped}%", escape="\\"),
                 func.lower(Member.display_name).like(f"%{escaped.lower()}%", escape="\\")]
        phone_hashes = contact.phone_query_hashes(q, tenants.get(tenant_id).default_country_code)
        if phone_hashes:
            found.append(Member.phone_hash.in_(phone_hashes))
        where.append(or_(*found))
    if level_id is not None:
        where.append(Member.level_id == level_id)
    if tag_id is not None:
        where.append(exists().where(and_(
            MemberTag.member_id == Member.id, MemberTag.tag_id == tag_id,
            MemberTag.ended_at.is_(None), MemberTag.expires_at > clock.now(),
        )))
    return where


def count(tenant_id: int, *, q: str | None = None, level_id: int | None = None,
          tag_id: int | None = None) -> int:
    """How many members a search matches (all its pages)."""
    return db.session.execute(select(func.count()).select_from(Member).where(
        *_conditions(tenant_id, q, level_id, tag_id))).scalar_one()


def search(tenant_id: int, *, q: str | None = None, level_id: int | None = None,
           tag_id: int | None = None, cursor: str | None = None,
           page_size: int = 20) -> Page:
    """Members newest first, matching `_conditions`."""
    after = decode_cursor(cursor)
    query = select(Member).where(*_conditions(tenant_id, q, level_id, tag_id))
    if after is not None:
        query = query.where(Member.id < after)
    rows = [MemberRecord.of(m) for m in db.session.execute(
        query.order_by(Member.id.desc()).limit(page_size + 1)
    ).scalars()]
    next_cursor = encode_cursor(rows[page_size - 1].id) if len(rows) > page_size else None
    return Page(profiles(tenant_id, rows[:page_size]), next_cursor, page_size)
