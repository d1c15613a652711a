"""A member's active VIP tags joined to a statement that writes the member (the
one-statement earn and event on PostgreSQL), so the answer's profile needs no
second read: the columns, the join and reading the rows back."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_

from app.models import MemberTag, VipTag
from app.services.members import MemberRecord, TagHolding

_holdings, _tags = MemberTag.__table__, VipTag.__table__

# The tag columns of a statement that joins a member's active tags (join_active_tags)
TAG_COLUMNS = (_holdings.c.id.label("h_id"), _holdings.c.granted_at.label("h_granted_at"),
               _holdings.c.expires_at.label("h_expires_at"), _tags.c.id.label("tag_id"),
               _tags.c.tag_name, _tags.c.tag_type, _tags.c.rank.label("tag_rank"))
TAG_ORDER = _tags.c.tag_type


def join_active_tags(source: Any, member: Any, now: Any) -> Any:
    """`source` LEFT JOIN the active tags of `member` (a selectable with the members
    table's columns) at `now`; order the rows by tag_type, as active_tags does."""
    return source.outerjoin(_holdings.join(_tags, _tags.c.id == _holdings.c.tag_id), and_(
        _holdings.c.member_id == member.c.id, _holdings.c.ended_at.is_(None),
        _holdings.c.expires_at > now))


def written_with_tags(rows: list[Any]) -> tuple[MemberRecord, list[TagHolding]]:
    """The member and its tags from the rows of a statement that writes a member and
    joins its tags (join_active_tags, TAG_COLUMNS)."""
    tags = [TagHolding(r.tag_id, r.tag_name, r.tag_type, r.tag_rank, r.h_expires_at,
                       r.h_granted_at, r.h_id) for r in rows if r.tag_id is not None]
    return MemberRecord.of(rows[0]), tags
