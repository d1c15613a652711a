"""Integration credentials: created with a secret shown once and stored hashed."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import ApiClient, AuditLog, TokenFamily
from app.services import api_clients, clock, crypto
from tests.ledger_helpers import refused


def test_it_creates_a_client_with_a_hashed_secret(tenant, actor):
    issued = api_clients.create(tenant.id, actor, name="Shop backend",
                                permissions="can_earn_points, can_view_points",
                                rate_limit="20000 / hour")
    client = issued.client
    assert client.client_id.startswith("jf_") and len(issued.client_secret) >= 32
    assert client.permission_list == ["can_view_points", "can_earn_points"]
    assert client.rate_limit == "20000/hour"
    stored = db.session.execute(text("SELECT secret_hash FROM api_clients")).scalar_one()
    assert stored == crypto.token_hash(issued.client_secret) != issued.client_secret
    audit = db.session.execute(select(AuditLog).where(AuditLog.action == "api_client.create")
                               ).scalar_one()
    assert issued.client_secret not in str(audit.data)


@pytest.mark.parametrize("fields, bad", [
    ({"name": "", "permissions": "can_view_points"}, "name"),
    ({"name": "x", "permissions": ""}, "permissions"),
    ({"name": "x", "permissions": "can_manage_staff"}, "permissions"),
    ({"name": "x", "permissions": "can_view_points,root"}, "permissions"),
    ({"name": "x", "permissions": "can_view_points", "rate_limit": "lots"}, "rate_limit"),
    ({"name": "x", "permissions": "can_view_points", "rate_limit": "5/fortnight"}, "rate_limit"),
])
def test_it_validates_clients(tenant, actor, fields, bad):
    with refused("VALIDATION_ERROR") as info:
        api_clients.create(tenant.id, actor, **fields)
    assert list(info.value.details["field_errors"]) == [bad]


def test_revoking_a_client_revokes_its_token_families(tenant, actor):
    issued = api_clients.create(tenant.id, actor, name="x", permissions="can_view_points")
    db.session.add(TokenFamily(id="fam-1", api_client_id=issued.client.id, created_at=clock.now()))
    db.session.commit()
    api_clients.revoke(tenant.id, actor, issued.client.id)
    api_clients.revoke(tenant.id, actor, issued.client.id)  # twice: audited once
    db.session.expire_all()
    assert db.session.get(ApiClient, issued.client.id).revoked_at is not None
    assert db.session.get(TokenFamily, "fam-1").revoked_reason == "client_revoked"
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "api_client.revoke")
                              ).scalars().all().__len__() == 1


def test_clients_belong_to_their_tenant(tenant, other_tenant, actor):
    theirs = api_clients.create(other_tenant.id, actor, name="theirs",
                                permissions="can_view_points").client
    mine = api_clients.create(tenant.id, actor, name="mine", permissions="can_view_points").client
    assert [c.name for c in api_clients.list_clients(tenant.id)] == ["mine"]
    for bad in (theirs.id, str(mine.id), None, 10**6):
        with refused("NOT_FOUND"):
            api_clients.revoke(tenant.id, actor, bad)
    assert api_clients.get(tenant.id, mine.id).name == "mine"
