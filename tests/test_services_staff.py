"""Staff users: accounts, per-tenant roles, sign-in."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, StaffUser
from app.services import permissions, staff
from app.services.context import Actor
from tests.conftest import PASSWORD
from tests.ledger_helpers import refused

VISITOR = Actor(type="anonymous", ip="10.0.0.9", user_agent="browser", request_id="req-login")


def test_it_creates_a_staff_user_with_a_hashed_password(tenant, make_staff):
    user = make_staff(tenant, "admin", email="Boss@Acme.test")
    assert user.email == "boss@acme.test" and PASSWORD not in user.password_hash
    assert staff.role_in(user.id, tenant.id) == "admin"
    assert [r.tenant_slug for r in staff.roles_of(user.id)] == ["acme"]


def test_an_existing_user_gets_a_role_in_another_tenant(tenant, other_tenant, make_staff, actor):
    user = make_staff(tenant, "owner", email="ann@x.test")
    again = staff.create_or_add_role(other_tenant.id, actor, email="ANN@x.test", role="viewer")
    assert again.id == user.id
    assert {r.tenant_slug: r.role for r in staff.roles_of(user.id)} == {
        "acme": "owner", "globex": "viewer"}
    with refused("VALIDATION_ERROR") as info:
        staff.create_or_add_role(other_tenant.id, actor, email="ann@x.test", role="admin")
    assert list(info.value.details["field_errors"]) == ["email"]


def test_roles_give_each_active_tenants_settings_and_role_by_name(tenant, other_tenant,
                                                                   make_staff, actor):
    user = make_staff(other_tenant, "owner", email="ann@x.test")
    staff.create_or_add_role(tenant.id, actor, email="ann@x.test", role="viewer")
    found = staff.roles_of(user.id)
    assert [(r.tenant.slug, r.tenant.name, r.role) for r in found] == [
        ("acme", "Acme Rewards", "viewer"), ("globex", "Globex Loyalty", "owner")]
    acme = found[0].tenant
    assert (acme.id, acme.max_points_per_operation) == (tenant.id, tenant.max_points_per_operation)
    make_staff(tenant, "owner")  # acme keeps an owner when ann leaves
    staff.deactivate(tenant.id, actor, user.id)
    assert [r.tenant_slug for r in staff.roles_of(user.id)] == ["globex"]


@pytest.mark.parametrize("fields, bad", [
    ({"email": "", "role": "admin", "password": PASSWORD}, "email"),
    ({"email": "nope", "role": "admin", "password": PASSWORD}, "email"),
    ({"email": "a\x00@b.test", "role": "admin", "password": PASSWORD}, "email"),
    ({"email": "a@b.test", "role": "root", "password": PASSWORD}, "role"),
    ({"email": "a@b.test", "role": "admin", "password": "short"}, "password"),
    ({"email": "a@b.test", "role": "admin", "password": "password123"}, "password"),
    ({"email": "a@b.test", "role": "admin", "password": "aaaaaaaaaaaa"}, "password"),
    ({"email": "a@b.test", "role": "admin", "password": None}, "password"),
])
def test_it_validates_staff(tenant, actor, fields, bad):
    with refused("VALIDATION_ERROR") as info:
        staff.create_or_add_role(tenant.id, actor, **fields)
    assert list(info.value.details["field_errors"]) == [bad]


def test_a_tenant_keeps_at_least_one_owner(tenant, make_staff, actor):
    owner = make_staff(tenant, "owner")
    with refused("VALIDATION_ERROR"):
        staff.change_role(tenant.id, actor, owner.id, "admin")
    with refused("VALIDATION_ERROR"):
        staff.deactivate(tenant.id, actor, owner.id)
    second = make_staff(tenant, "owner", email="two@acme.test")
    staff.change_role(tenant.id, actor, owner.id, "admin")
    assert staff.role_in(owner.id, tenant.id) == "admin"
    with refused("VALIDATION_ERROR"):
        staff.deactivate(tenant.id, actor, second.id)


def test_deactivated_staff_lose_the_tenant_and_may_be_added_back(tenant, make_staff, actor):
    make_staff(tenant, "owner")
    helper = make_staff(tenant, "support")
    staff.deactivate(tenant.id, actor, helper.id)
    assert staff.role_in(helper.id, tenant.id) is None and staff.roles_of(helper.id) == []
    staff.create_or_add_role(tenant.id, actor, email=helper.email, role="viewer")
    assert staff.role_in(helper.id, tenant.id) == "viewer"


def test_roles_are_managed_within_their_tenant_only(tenant, other_tenant, make_staff, actor):
    theirs = make_staff(other_tenant, "support")
    with refused("NOT_FOUND"):
        staff.change_role(tenant.id, actor, theirs.id, "viewer")
    with refused("NOT_FOUND"):
        staff.deactivate(tenant.id, actor, theirs.id)
    assert [u.email for u, _m in staff.list_staff(tenant.id)] == []
    assert staff.role_in(theirs.id, other_tenant.id) == "support"


def test_every_sign_in_attempt_is_audited(tenant, make_staff):
    user = make_staff(tenant, "admin")
    assert staff.authenticate(user.email, PASSWORD, VISITOR).id == user.id
    assert staff.authenticate(user.email, "wrong password!", VISITOR) is None
    assert staff.authenticate("ghost@acme.test", PASSWORD, VISITOR) is None
    rows = db.session.execute(select(AuditLog).where(AuditLog.action.like("auth.%"))
                              .order_by(AuditLog.id)).scalars().all()
    assert [(r.action, r.tenant_id, r.ip, r.request_id) for r in rows] == [
        ("auth.login", tenant.id, "10.0.0.9", "req-login"),
        ("auth.login_failed", tenant.id, "10.0.0.9", "req-login"),
        ("auth.login_failed", None, "10.0.0.9", "req-login")]
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).last_login_at is not None


def test_role_permissions_follow_the_seed():
    assert permissions.for_role("support") == {"can_view_points", "can_earn_points",
                                               "can_adjust_points"}
    assert permissions.for_role("viewer") == {"can_view_points"}
    assert "can_spend_points" in permissions.for_role("admin")
    assert "can_manage_staff" in permissions.for_role("owner")
    assert "can_manage_staff" not in permissions.for_role("admin")
    with pytest.raises(Exception) as info:
        permissions.require(permissions.for_role("viewer"), "can_earn_points")
    assert info.value.details["missing_permissions"] == ["can_earn_points"]


def test_a_session_loads_its_user_without_the_memberships(tenant, make_staff):
    from sqlalchemy import inspect

    user = make_staff(tenant, "support")
    db.session.expunge_all()
    loaded = staff.load_signed_in(str(user.id))
    assert loaded.id == user.id
    assert "memberships" in inspect(loaded).unloaded
    assert staff.load_signed_in("abc") is None and staff.load_signed_in("") is None
    assert staff.load_signed_in(str(user.id + 1000)) is None
