"""Every route tried by a full-permission client, a limited one, another
tenant's client and nobody: 403 for a missing permission, 404 for another
tenant's objects (exactly like a missing one), 401 without a token."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.services import ledger, permissions
from tests.api_fixtures import (
    API_ACTOR, assert_error, assert_success, ledger_state, login, make_credentials,
)


@dataclass
class Route:
    method: str
    path: str  # {tx} and {tag} are filled in per test
    permission: str
    body: dict[str, Any] | None = None
    status: int = 200
    foreign_code: str | None = None  # what another tenant's client gets

    def call(self, api, ctx: dict[str, Any]):
        path = self.path.format(**ctx)
        if self.method == "GET":
            return api.get(path)
        body = {k: (v.format(**ctx) if isinstance(v, str) and "{" in v else v)
                for k, v in (self.body or {}).items()}
        if "tag_id" in body:
            body["tag_id"] = ctx["tag"]
        return api.post(path, json=body)


ROUTES = [
    Route("GET", "/api/v1/points/user-levels/", permissions.VIEW),
    Route("GET", "/api/v1/points/profiles/", permissions.VIEW),
    Route("POST", "/api/v1/points/profiles/", permissions.MANAGE, {"user_id": "newbie"}, 201),
    Route("GET", "/api/v1/points/profiles/alice/", permissions.VIEW,
          foreign_code="MEMBER_NOT_FOUND"),
    Route("GET", "/api/v1/points/profiles/alice/transactions/", permissions.VIEW,
          foreign_code="MEMBER_NOT_FOUND"),
    Route("POST", "/api/v1/points/earn/", permissions.EARN,
          {"user_id": "alice", "points_amount": 5, "category": "login"}, 201,
          "MEMBER_NOT_FOUND"),
    Route("POST", "/api/v1/points/spend/", permissions.SPEND,
          {"user_id": "alice", "points_amount": 5, "category": "payment"}, 201,
          "MEMBER_NOT_FOUND"),
    Route("POST", "/api/v1/points/adjust/", permissions.ADJUST,
          {"user_id": "alice", "points_amount": -5, "reason": "fix"}, 201, "MEMBER_NOT_FOUND"),
    Route("POST", "/api/v1/points/batch-earn/", permissions.EARN,
          {"operations": [{"user_id": "alice", "points_amount": 5, "category": "login"}]}, 201),
    Route("POST", "/api/v1/points/transactions/{tx}/reverse/", permissions.ADJUST,
          {"reason": "undo"}, 201, "NOT_FOUND"),
    Route("GET", "/api/v1/vip/tags/", permissions.VIEW),
    Route("POST", "/api/v1/points/profiles/alice/vip-tags/", permissions.ADJUST,
          {"tag_id": 0}, 201, "NOT_FOUND"),  # our tag is unknown to them
]
IDS = [f"{r.method} {r.path}" for r in ROUTES]


@pytest.fixture
def ctx(tenant, programme):
    tx = ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=100,
                     category="login").transaction
    return {"tx": tx.id, "tag": programme["silver"].id}


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_a_full_permission_client_may(full, ctx, route):
    assert_success(route.call(full, ctx), route.status, paged=route.path.endswith(
        ("profiles/", "transactions/")) and route.method == "GET")


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_a_limited_client_is_refused_what_it_lacks(limited, ctx, route):
    before = ledger_state()
    response = route.call(limited, ctx)
    if route.permission == permissions.VIEW:
        assert response.status_code == 200
        return
    details = assert_error(response, 403, "INSUFFICIENT_PERMISSIONS")
    assert details == {"required_permissions": [route.permission],
                       "user_permissions": [permissions.VIEW],
                       "missing_permissions": [route.permission]}
    assert ledger_state() == before


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_a_client_without_view_cannot_read(app, tenant, ctx, route):
    earner = login(app.test_client(), make_credentials(tenant, permissions.EARN))
    response = route.call(earner, ctx)
    if route.permission == permissions.EARN:
        assert response.status_code == 201
    else:
        details = assert_error(response, 403, "INSUFFICIENT_PERMISSIONS")
        assert details["missing_permissions"] == [route.permission]


@pytest.mark.parametrize("route", [r for r in ROUTES if r.foreign_code], ids=lambda r: r.path)
def test_another_tenants_client_finds_nothing_of_ours(outsider, ctx, route):
    before = ledger_state()
    foreign = route.call(outsider, ctx)
    assert_error(foreign, 404, route.foreign_code)
    # ...exactly as if it did not exist at all.
    missing_ctx = {"tx": ctx["tx"] + 10_000, "tag": ctx["tag"]}
    missing = Route(route.method, route.path.replace("alice", "nobody"), route.permission,
                    {k: ("nobody" if v == "alice" else v) for k, v in (route.body or {}).items()},
                    ).call(outsider, missing_ctx)
    assert missing.status_code == 404
    a, b = foreign.get_json()["error"], missing.get_json()["error"]
    assert (a["code"], a["message"], a["details"]) == (b["code"], b["message"], b["details"])
    assert ledger_state() == before


def test_another_tenants_lists_hold_only_its_own(outsider, ctx):
    for path in ("/api/v1/points/profiles/", "/api/v1/vip/tags/"):
        names = [item.get("user_id") or item.get("tag_name")
                 for item in assert_success(outsider.get(path), paged=path.endswith("profiles/"))]
        assert "alice" not in names and "VIP Silver" not in names
    batch = outsider.post("/api/v1/points/batch-earn/", json={"operations": [
        {"user_id": "alice", "points_amount": 5, "category": "login"}]})
    details = assert_error(batch, 422, "VALIDATION_ERROR")
    assert details["validation_errors"][0]["field_errors"]["user_id"]


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_nobody_gets_in_without_a_token(anonymous, ctx, route):
    before = ledger_state()
    assert_error(route.call(anonymous, ctx), 401, "AUTHENTICATION_REQUIRED")
    assert ledger_state() == before
