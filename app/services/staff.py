"""Staff users: accounts, per-tenant roles, sign-in."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import lazyload

from app.extensions import db
from app.models import ROLES, StaffMembership, StaffUser, Tenant
from app.services import audit, clock, crypto, sessions
from app.services.context import Actor
from app.services.tenants import TenantRecord
from app.services.errors import NOT_FOUND, DomainError, ValidationFailed
from app.services.uow import transactional
from app.services.validation import FieldErrors, check_email, check_text, is_row_id

PASSWORD_MIN = 8
PASSWORD_MAX = 256
# The most common passwords of public breach lists (lower-cased): refused outright.
COMMON_PASSWORDS = frozenset(
    line.strip() for line in
    (Path(__file__).with_name("common_passwords.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
)


@dataclass(frozen=True)
class Role:
    """A staff user's role in one tenant, with the tenant's settings as read."""

    tenant: TenantRecord
    role: str

    @property
    def tenant_id(self) -> int:
        return self.tenant.id

    @property
    def tenant_slug(self) -> str:
        return self.tenant.slug

    @property
    def tenant_name(self) -> str:
        return self.tenant.name


def check_password(errors: FieldErrors, password: Any, field: str = "password") -> str | None:
    if not isinstance(password, str) or not password:
        errors.add(field, _("This field is required."))
        return None
    if len(password) < PASSWORD_MIN:
        errors.add(field, _("Use at least %(min)s characters.", min=PASSWORD_MIN))
    elif len(password) > PASSWORD_MAX:
        errors.add(field, _("Use at most %(max)s characters.", max=PASSWORD_MAX))
    elif password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        errors.add(field, _("This password is too common; choose another."))
    else:
        return password
    return None


def find_by_email(email: str) -> StaffUser | None:
    return db.session.execute(
        select(StaffUser).where(StaffUser.email == crypto.normalise_email(email))
    ).scalar_one_or_none()


# Built once: each call is a compiled-cache hit.
_tenants, _memberships = Tenant.__table__, StaffMembership.__table__
_ROLES = (
    select(_tenants, _memberships.c.role.label("staff_role"))
    .join(_memberships, _memberships.c.tenant_id == _tenants.c.id)
    .where(_memberships.c.staff_id == bindparam("staff_id"), _memberships.c.is_active.is_(True))
    .order_by(_tenants.c.name)
)


def roles_of(staff_id: int) -> list[Role]:
    """The user's active roles, by tenant name, each with its tenant's settings: a
    tenant page's access check and its header's switcher in one query."""
    rows = db.session.execute(_ROLES, {"staff_id": staff_id}).all()
    return [Role(TenantRecord.of(row), row.staff_role) for row in rows]


def role_in(staff_id: int, tenant_id: int) -> str | None:
    return db.session.execute(
        select(StaffMembership.role).where(StaffMembership.staff_id == staff_id,
                                           StaffMembership.tenant_id == tenant_id,
                                           StaffMembership.is_active.is_(True))
    ).scalar_one_or_none()


@transactional
def create_or_add_role(tenant_id: int, actor: Actor, *, email: Any, role: Any,
                       password: Any = None, display_name: Any = "") -> StaffUser:
    """Create a staff user with a role in the tenant, or give an existing user
    a role in this tenant (their password is then left alone)."""
    errors = FieldErrors()
    email = check_email(errors, email) if email else errors.add("email", _("This field is required."))
    if role not in ROLES:
        errors.add("role", _("Choose one of: %(roles)s.", roles=", ".join(ROLES)))
    display_name = check_text(errors, "display_name", display_name, 200) or ""
    user = find_by_email(email) if email else None
    if user is None:
        password = check_password(errors, password)
    errors.raise_if_any()
    now = clock.now()
    if user is None:
        user = StaffUser(email=crypto.normalise_email(email),
                         password_hash=crypto.hash_password(password),
                         display_name=display_name, is_active_flag=True, created_at=now)
        db.session.add(user)
        db.session.flush()
    existing = db.session.execute(
        select(StaffMembership).where(StaffMembership.staff_id == user.id,
                                      StaffMembership.tenant_id == tenant_id)
    ).scalar_one_or_none()
    if existing is not None and existing.is_active:
        raise ValidationFailed({"email": [_("This person already has a role in this tenant.")]})
    if existing is not None:
        existing.role, existing.is_active = role, True
    else:
        db.session.add(StaffMembership(staff_id=user.id, tenant_id=tenant_id, role=role,
                                       is_active=True, created_at=now))
    audit.record(tenant_id, actor, "staff.add", "staff", user.id,
                 {"email": user.email, "role": role})
    return user


def membership_of(tenant_id: int, staff_id: Any) -> StaffMembership:
    membership = db.session.execute(
        select(StaffMembership).where(StaffMembership.staff_id == staff_id,
                                      StaffMembership.tenant_id == tenant_id)
    ).scalar_one_or_none() if is_row_id(staff_id) else None
    if membership is None:
        raise DomainError(NOT_FOUND)
    return membership


def owners_left(tenant_id: int, excluding_staff_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(StaffMembership).where(
            StaffMembership.tenant_id == tenant_id, StaffMembership.role == "owner",
            StaffMembership.is_active.is_(True), StaffMembership.staff_id != excluding_staff_id)
    ).scalar_one()


@transactional
def change_role(tenant_id: int, actor: Actor, staff_id: Any, role: Any) -> None:
    membership = membership_of(tenant_id, staff_id)
    if role not in ROLES:
        raise ValidationFailed({"role": [_("Choose one of: %(roles)s.", roles=", ".join(ROLES))]})
    if membership.role == "owner" and role != "owner" and not owners_left(tenant_id, staff_id):
        raise ValidationFailed({"role": [_("A tenant needs at least one owner.")]})
    before = membership.role
    membership.role = role
    audit.record(tenant_id, actor, "staff.role", "staff", staff_id,
                 {"before": before, "after": role})


@transactional
def deactivate(tenant_id: int, actor: Actor, staff_id: Any) -> None:
    """Remove a staff user's access to this tenant."""
    membership = membership_of(tenant_id, staff_id)
    if membership.role == "owner" and not owners_left(tenant_id, staff_id):
        raise ValidationFailed({"role": [_("A tenant needs at least one owner.")]})
    membership.is_active = False
    audit.record(tenant_id, actor, "staff.deactivate", "staff", staff_id, {})
    # A cookie of theirs (captured, or a forgotten browser) must not outlive the access.
    sessions.end_all(membership.staff_id)


def list_staff(tenant_id: int) -> list[tuple[StaffUser, StaffMembership]]:
    return list(db.session.execute(
        select(StaffUser, StaffMembership)
        .join(StaffMembership, StaffMembership.staff_id == StaffUser.id)
        .where(StaffMembership.tenant_id == tenant_id).order_by(StaffUser.email)
    ).tuples())


@transactional
def authenticate(email: Any, password: Any, actor: Actor) -> StaffUser | None:
    """Check a sign-in; every attempt is audited, success or not."""
    # PostgreSQL text cannot hold NUL: such an address is simply unknown.
    user = find_by_email(email) if isinstance(email, str) and email and "\x00" not in email \
        else None
    ok = False
    if user is None:
        crypto.dummy_verify()
    else:
        ok = isinstance(password, str) and crypto.verify_password(user.password_hash, password) \
            and user.is_active
    label = crypto.normalise_email(email).replace("\x00", "\ufffd") \
        if isinstance(email, str) else ""
    tenant_ids = [r.tenant_id for r in roles_of(user.id)] if user is not None else []
    for tenant_id in tenant_ids or [None]:
        audit.record(tenant_id, Actor(type="staff" if user else "anonymous",
                                      id=user.id if user else None, label=label[:254],
                                      ip=actor.ip, user_agent=actor.user_agent,
                                      request_id=actor.request_id),
                     "auth.login" if ok else "auth.login_failed", "staff",
                     user.id if user else "", {})
    if ok:
        user.last_login_at = clock.now()
        return user
    return None


@transactional
def set_locale(staff_id: int, locale: str | None) -> None:
    user = db.session.get(StaffUser, staff_id)
    if user is not None:
        user.locale = locale


def load_signed_in(staff_id: str) -> StaffUser | None:
    """The user a session names (Flask-Login's user loader), without the
    memberships the model loads eagerly by default: a tenant page asks for
    exactly what it needs (roles_of, role_in), other pages none."""
    if not staff_id.isdigit():
        return None
    return db.session.get(StaffUser, int(staff_id), options=[lazyload(StaffUser.memberships)])
