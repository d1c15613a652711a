"""Fixtures and helpers of the API tests (loaded by conftest's pytest_plugins).

Every test gets three integrations: `full` (all five point permissions in
`tenant`), `limited` (can_view_points only, same tenant) and `outsider` (all
permissions, in `other_tenant`), each with a real token from the token route.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, IdempotencyRecord, PointLot, PointTransaction
from app.services import api_clients, levels, ledger_check, permissions, vip
from app.services.context import Actor

ALL = ",".join(permissions.POINT_PERMISSIONS)
API_ACTOR = Actor(type="system", label="api-tests")
ERROR_KEYS = {"code", "message", "details", "request_id", "timestamp", "documentation_url"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    pk: int


@dataclass
class Api:
    """A test client that sends one integration's bearer token."""

    client: FlaskClient
    token: str | None
    refresh_token: str | None = None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.get(path, headers=self.headers(headers), **kwargs)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None,
             **kwargs: Any):
        if json is not None:
            kwargs["json"] = json
        return self.client.post(path, headers=self.headers(headers), **kwargs)


def make_credentials(tenant, perms: str = ALL, rate_limit: str | None = None) -> Credentials:
    issued = api_clients.create(tenant.id, API_ACTOR, name=f"client-{perms[:20]}",
                                permissions=perms, rate_limit=rate_limit)
    return Credentials(issued.client.client_id, issued.client_secret, issued.client.id)


def login(client: FlaskClient, creds: Credentials) -> Api:
    response = client.post("/api/v1/auth/token/", json={
        "client_id": creds.client_id, "client_secret": creds.client_secret})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    return Api(client, data["access_token"], data["refresh_token"])


@pytest.fixture
def credentials(tenant) -> Credentials:
    return make_credentials(tenant)


@pytest.fixture
def full(app: Flask, credentials) -> Api:
    return login(app.test_client(), credentials)


@pytest.fixture
def limited(app: Flask, tenant) -> Api:
    return login(app.test_client(), make_credentials(tenant, permissions.VIEW))


@pytest.fixture
def outsider(app: Flask, other_tenant) -> Api:
    return login(app.test_client(), make_credentials(other_tenant))


@pytest.fixture
def anonymous(app: Flask) -> Api:
    return Api(app.test_client(), None)


@pytest.fixture
def programme(tenant, other_tenant, make_member):
    """Levels, VIP tags and members in both tenants."""
    bronze = levels.create(tenant.id, API_ACTOR, level_name="Bronze", min_points=0,
                           benefits="welcome")
    silver_level = levels.create(tenant.id, API_ACTOR, level_name="Silver", min_points=1000,
                                 benefits="free shipping")
    silver = vip.create_tag(tenant.id, API_ACTOR, tag_name="VIP Silver", tag_type="vip", rank=1,
                            duration_days=30, points_price=500)
    gold = vip.create_tag(tenant.id, API_ACTOR, tag_name="VIP Gold", tag_type="vip", rank=2,
                          duration_days=30, points_price=None)
    other_tag = vip.create_tag(other_tenant.id, API_ACTOR, tag_name="Other", tag_type="vip",
                               rank=1, duration_days=30)
    make_member(tenant, "alice", display_name="Alice", email="alice@example.com")
    make_member(tenant, "bob", display_name="Bob")
    make_member(other_tenant, "carol", display_name="Carol")
    return {"bronze": bronze, "silver_level": silver_level, "silver": silver, "gold": gold,
            "other_tag": other_tag}


# --------------------------------------------------------------------------- assertions

def assert_success(response, status: int = 200, paged: bool = False) -> Any:
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/json"
    expected = {"success", "data", "page_info"} if paged else {"success", "data"}
    assert set(body) == expected, body
    assert body["success"] is True
    if paged:
        info = body["page_info"]
        assert set(info) == {"has_next", "next_cursor", "page_size"}
        assert isinstance(info["has_next"], bool)
        assert (info["next_cursor"] is None) == (not info["has_next"])
    return body["data"]


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    """The exact shape of CONTRACT.md's error envelope; returns `details`."""
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/json"
    assert set(body) == {"success", "error"}, body
    assert body["success"] is False
    error = body["error"]
    assert set(error) == ERROR_KEYS, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert ISO_Z.match(error["timestamp"]), error["timestamp"]
    assert error["documentation_url"].endswith(f"/docs/errors/{code}")
    assert "Traceback" not in response.get_data(as_text=True)
    return error["details"]


# --------------------------------------------------------------------------- database state

def ledger_state() -> tuple[int, int, int, int]:
    """Counts that any write would change: transactions, lots, idempotency keys, audit rows."""
    db.session.rollback()
    return tuple(db.session.execute(select(func.count()).select_from(model)).scalar_one()
                 for model in (PointTransaction, PointLot, IdempotencyRecord, AuditLog))


def assert_ledger_consistent() -> None:
    db.session.rollback()
    assert ledger_check.verify() == []
