"""Ending a staff user's portal sessions, and the password change that does it.

A session is a signed cookie: nothing on the server can delete it. So the
account carries a `session_version` that every session copied at sign-in;
bumping it makes every cookie issued before it worthless (the portal's user
loader compares the two on each request)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update

from app.extensions import db
from app.models import StaffUser
from app.services import audit, crypto, staff
from app.services.context import Actor
from app.services.errors import NOT_FOUND, DomainError
from app.services.uow import transactional
from app.services.validation import FieldErrors


@transactional
def end_all(staff_id: int) -> int:
    """End every session of this staff user; returns the new version (for the
    session that should carry on, if any)."""
    db.session.flush()  # the reload below must not drop a change made before (a new password)
    db.session.execute(update(StaffUser).where(StaffUser.id == staff_id)
                       .values(session_version=StaffUser.session_version + 1))
    user = db.session.get(StaffUser, staff_id, populate_existing=True)
    if user is None:
        raise DomainError(NOT_FOUND)
    return user.session_version


@transactional
def change_password(staff_id: int, actor: Actor, *, current: Any, new: Any,
                    confirm: Any) -> int:
    """Set a new password after checking the current one; every session of the
    account ends (a stolen cookie with it). Returns the new session version."""
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        raise DomainError(NOT_FOUND)
    errors = FieldErrors()
    if not isinstance(current, str) or not current or \
            not crypto.verify_password(user.password_hash, current):
        errors.add("current_password", _("This is not your current password."))
    password = staff.check_password(errors, new, "new_password")
    if password is not None and new != confirm:
        errors.add("confirm_password", _("The two new passwords differ."))
    errors.raise_if_any()
    user.password_hash = crypto.hash_password(password)
    for role in staff.roles_of(staff_id) or [None]:
        audit.record(role.tenant_id if role else None, actor, "staff.password", "staff",
                     staff_id, {})
    return end_all(staff_id)

