"""A member's card in the portal: editing the name and contact details, and the
staff's internal notes (append-only, never shown to integrations)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import Member, MemberNote
from app.services import audit, clock, contact, crypto, members, tenants
from app.services.context import Actor
from app.services.uow import transactional
from app.services.validation import (
    DISPLAY_NAME_MAX, FieldErrors, check_email, check_phone, check_text,
)

NOTE_MAX = 2000
NOTES_SHOWN = 50
_members = Member.__table__
_notes = MemberNote.__table__


@dataclass(frozen=True)
class Note:
    id: int
    author: str
    body: str
    created_at: datetime


@transactional
def update_details(tenant_id: int, actor: Actor, user_id: str, *, display_name: Any,
                   email: Any, phone: Any) -> members.Profile:
    """Replace the display name, email and phone (empty clears one), with the
    same rules as the API's profile create."""
    errors = FieldErrors()
    display_name = check_text(errors, "display_name", display_name, DISPLAY_NAME_MAX) or ""
    email = check_email(errors, email)
    phone = check_phone(errors, phone)
    errors.raise_if_any()
    member = members.locate(tenant_id, user_id, lock=True)
    old_email = crypto.decrypt(member.email_encrypted)
    old_phone = crypto.decrypt(member.phone_encrypted)
    changed = {
        "display_name": display_name != (member.display_name or ""),
        "email": email != old_email, "phone": phone != old_phone,
    }
    if not any(changed.values()):
        return members.profile_of(tenant_id, member)
    values: dict[str, Any] = {"display_name": display_name, "updated_at": clock.now()}
    country_code = tenants.get(tenant_id).default_country_code
    values.update(contact.columns(country_code, email, phone))
    member = members.MemberRecord.of(db.session.execute(
        update(_members).where(_members.c.id == member.id).values(**values)
        .returning(*_members.c)).one())
    data: dict[str, Any] = {"changed": sorted(k for k, v in changed.items() if v)}
    if changed["display_name"]:
        data["display_name"] = display_name  # contact details are never written in clear
    audit.record(tenant_id, actor, "member.update", "member", user_id, data)
    return members.profile_of(tenant_id, member)


@transactional
def add_note(tenant_id: int, actor: Actor, user_id: str, body: Any) -> Note:
    errors = FieldErrors()
    body = check_text(errors, "body", body, NOTE_MAX, required=True)
    errors.raise_if_any()
    member = members.locate(tenant_id, user_id)
    now = clock.now()
    note_id = db.session.execute(insert(_notes).values(
        tenant_id=tenant_id, member_id=member.id, author_id=actor.id,
        author_label=actor.label[:254], body=body, created_at=now,
    ).returning(_notes.c.id)).scalar_one()
    audit.record(tenant_id, actor, "member.note", "member", user_id,
                 {"note_id": note_id, "length": len(body)})
    return Note(note_id, actor.label, body, now)


def notes(tenant_id: int, member_id: int, limit: int = NOTES_SHOWN) -> list[Note]:
    """The member's notes, newest first (`member_id` from a tenant-scoped loader)."""
    rows = db.session.execute(
        select(_notes.c.id, _notes.c.author_label, _notes.c.body, _notes.c.created_at)
        .where(_notes.c.tenant_id == tenant_id, _notes.c.member_id == member_id)
        .order_by(_notes.c.id.desc()).limit(limit)).all()
    return [Note(r.id, r.author_label, r.body, r.created_at) for r in rows]
