"""What an irreversible action would do, in the numbers its confirmation page
states before the click: deleting a level or a VIP tag, removing a person's
access, revoking an API client. Each loads its object through the same
tenant-scoped loader the action uses (another tenant's id is NOT_FOUND) and
reads only; the action decides again when it runs. (A reversal's preview lives
with the reversal: ledger.preview_reversal.)"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ApiClient, Level, Member, MemberTag, StaffMembership, StaffUser, TokenFamily, VipTag,
)
from app.services import api_clients, clock, levels, staff, vip


@dataclass(frozen=True)
class LevelDeletion:
    level: Level
    members: int             # members at the level now
    falls_to: Level | None   # the level they move to (None: no level)


def level_deletion(tenant_id: int, level_id: object) -> LevelDeletion:
    level = levels.get(tenant_id, level_id)
    count = db.session.execute(
        select(func.count()).select_from(Member)
        .where(Member.tenant_id == tenant_id, Member.level_id == level.id)
    ).scalar_one()
    # Members at this level reached it and not the next: without it, they hold
    # the highest level below it (what levels.delete's recomputation gives them).
    below = db.session.execute(
        select(Level).where(Level.tenant_id == tenant_id, Level.min_points < level.min_points)
        .order_by(Level.min_points.desc()).limit(1)
    ).scalar_one_or_none()
    return LevelDeletion(level, count, below)


@dataclass(frozen=True)
class TagDeletion:
    tag: VipTag
    ever_held: int     # holdings, ended or not: any means the tag is retired, not deleted
    held_now: int      # members holding it now; they keep it until it ends

    @property
    def retires(self) -> bool:
        return self.ever_held > 0


def tag_deletion(tenant_id: int, tag_id: object) -> TagDeletion:
    tag = vip.get_tag(tenant_id, tag_id)
    ever, now = db.session.execute(
        select(func.count(),
               func.count().filter(MemberTag.ended_at.is_(None),
                                   MemberTag.expires_at > clock.now()))
        .where(MemberTag.tenant_id == tenant_id, MemberTag.tag_id == tag.id)
    ).one()
    return TagDeletion(tag, ever, now or 0)


@dataclass(frozen=True)
class AccessRemoval:
    user: StaffUser
    membership: StaffMembership
    last_owner: bool   # then the removal is refused: a tenant keeps one owner


def access_removal(tenant_id: int, staff_id: object) -> AccessRemoval:
    membership = staff.membership_of(tenant_id, staff_id)
    user = db.session.get(StaffUser, membership.staff_id)
    last_owner = membership.role == "owner" and not staff.owners_left(tenant_id, user.id)
    return AccessRemoval(user, membership, last_owner)


@dataclass(frozen=True)
class ClientRevocation:
    client: ApiClient
    live_token_families: int   # sign-ins whose tokens stop working at once


def client_revocation(tenant_id: int, client_pk: object) -> ClientRevocation:
    client = api_clients.get(tenant_id, client_pk)
    live = db.session.execute(
        select(func.count()).select_from(TokenFamily)
        .where(TokenFamily.api_client_id == client.id, TokenFamily.revoked_at.is_(None))
    ).scalar_one()
    return ClientRevocation(client, live)
