"""Token routes, the bearer-token check, expiry, rotation and reuse detection."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import jwt
import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import AuditLog, RefreshToken, TokenFamily
from app.services import api_clients, clock
from tests.api_fixtures import (
    API_ACTOR, Api, assert_error, assert_success, login, make_credentials,
)

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/refresh/"
LEVELS = "/api/v1/points/user-levels/"


def _audit_actions() -> list[str]:
    db.session.rollback()
    return list(db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


def test_it_issues_a_token_pair(client, credentials):
    response = client.post(TOKEN, json={"client_id": credentials.client_id,
                                        "client_secret": credentials.client_secret})
    data = assert_success(response)
    assert set(data) == {"access_token", "token_type", "expires_in", "refresh_token",
                         "refresh_expires_in"}
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 15 * 60
    assert data["refresh_expires_in"] == 30 * 24 * 3600
    assert response.headers["Cache-Control"] == "no-store"
    stored = db.session.execute(select(RefreshToken.token_hash)).scalars().all()
    assert data["refresh_token"] not in stored  # only its hash is kept
    assert "api.token_issue" in _audit_actions()


def test_it_puts_tenant_client_permissions_and_family_in_the_token(app, client, credentials,
                                                                   tenant):
    api = login(client, credentials)
    claims = jwt.decode(api.token, options={"verify_signature": False})
    assert claims["tid"] == tenant.id
    assert claims["sub"] == str(credentials.pk)
    assert claims["perms"] == ["can_view_points", "can_earn_points", "can_spend_points",
                               "can_adjust_points", "can_manage_points"]
    assert db.session.get(TokenFamily, claims["fam"]) is not None
    assert claims["exp"] - claims["iat"] == 900


@pytest.mark.parametrize("body", [
    {"client_id": "jf_unknown", "client_secret": "whatever"},
    {"client_id": "__ID__", "client_secret": "wrong"},
])
def test_it_refuses_wrong_credentials(client, credentials, body):
    body = {k: (credentials.client_id if v == "__ID__" else v) for k, v in body.items()}
    details = assert_error(client.post(TOKEN, json=body), 401, "INVALID_CLIENT")
    assert details == {}
    assert _audit_actions()[-1] == "api.token_denied"


def test_it_refuses_a_revoked_client(client, credentials, tenant):
    api = login(client, credentials)
    api_clients.revoke(tenant.id, API_ACTOR, credentials.pk)
    assert_error(client.post(TOKEN, json={"client_id": credentials.client_id,
                                          "client_secret": credentials.client_secret}),
                 401, "INVALID_CLIENT")
    # Access tokens issued before the revocation die with it.
    assert_error(api.get(LEVELS), 401, "INVALID_TOKEN")


@pytest.mark.parametrize("body", [{}, {"client_id": "x"}, {"client_id": 1, "client_secret": "s"},
                                  {"client_id": "x", "client_secret": None}])
def test_it_validates_the_token_request(client, body):
    assert_error(client.post(TOKEN, json=body), 422, "VALIDATION_ERROR")


def test_it_refuses_unknown_keys_in_the_token_request(client, credentials):
    details = assert_error(client.post(TOKEN, json={
        "client_id": credentials.client_id, "client_secret": credentials.client_secret,
        "grant_type": "client_credentials"}), 422, "VALIDATION_ERROR")
    assert "grant_type" in details["field_errors"]


def test_it_refuses_a_token_request_that_is_not_json(client):
    assert_error(client.post(TOKEN, data="client_id=a&client_secret=b",
                             content_type="application/x-www-form-urlencoded"),
                 400, "BAD_REQUEST")


def test_it_requires_a_token(client):
    response = client.get(LEVELS)
    assert_error(response, 401, "AUTHENTICATION_REQUIRED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token"])
def test_it_requires_a_bearer_token(client, header):
    assert_error(client.get(LEVELS, headers={"Authorization": header}), 401,
                 "AUTHENTICATION_REQUIRED")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_it_refuses_an_invalid_token(client, token):
    response = client.get(LEVELS, headers={"Authorization": f"Bearer {token}"})
    details = assert_error(response, 401, "INVALID_TOKEN")
    assert details == {"token_expired": False, "expiry_time": None,
                       "refresh_token_available": False}
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_it_refuses_a_token_signed_with_another_key(client, full):
    claims = jwt.decode(full.token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "tid": claims["tid"] + 1},
                        "another-key-that-is-long-enough-for-hs256", algorithm="HS256")
    assert_error(Api(client, forged).get(LEVELS), 401, "INVALID_TOKEN")


def test_it_refuses_a_token_whose_tenant_was_altered(app, client, full, other_tenant):
    # Even correctly signed, a token naming another tenant than its client's is refused.
    from app.services.api_auth import _signing_key

    claims = jwt.decode(full.token, options={"verify_signature": False})
    altered = jwt.encode({**claims, "tid": other_tenant.id}, _signing_key(), algorithm="HS256")
    assert_error(Api(client, altered).get(LEVELS), 401, "INVALID_TOKEN")


def test_it_refuses_an_expired_token_and_says_so(client, credentials):
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    with clock.frozen(start):
        api = login(client, credentials)
        assert_success(api.get(LEVELS))
    with clock.frozen(start + timedelta(minutes=14, seconds=59)):
        assert_success(api.get(LEVELS))
    with clock.frozen(start + timedelta(minutes=15)):
        details = assert_error(api.get(LEVELS), 401, "INVALID_TOKEN")
    assert details == {"token_expired": True, "expiry_time": "2030-01-01T12:15:00.000000Z",
                       "refresh_token_available": True}
    with clock.frozen(start + timedelta(minutes=16)):
        fresh = client.post(REFRESH, json={"refresh_token": api.refresh_token})
        assert_success(Api(client, assert_success(fresh)["access_token"]).get(LEVELS))


def test_it_honours_the_configured_lifetime(app, client, credentials):
    app.config["ACCESS_TOKEN_TTL_SECONDS"] = 60
    data = assert_success(client.post(TOKEN, json={
        "client_id": credentials.client_id, "client_secret": credentials.client_secret}))
    assert data["expires_in"] == 60


def test_it_rotates_refresh_tokens(client, credentials):
    api = login(client, credentials)
    first = assert_success(client.post(REFRESH, json={"refresh_token": api.refresh_token}))
    assert first["refresh_token"] != api.refresh_token
    second = assert_success(client.post(REFRESH, json={"refresh_token": first["refresh_token"]}))
    assert_success(Api(client, second["access_token"]).get(LEVELS))
    families = db.session.execute(select(TokenFamily)).scalars().all()
    assert len(families) == 1 and families[0].revoked_at is None


def test_the_alias_refreshes_too(client, credentials):
    api = login(client, credentials)
    data = assert_success(client.post("/api/auth/refresh/",
                                      json={"refresh_token": api.refresh_token}))
    assert_success(Api(client, data["access_token"]).get(LEVELS))


def test_reusing_a_dead_refresh_token_revokes_the_whole_family(client, credentials):
    api = login(client, credentials)
    rotated = assert_success(client.post(REFRESH, json={"refresh_token": api.refresh_token}))
    newest = Api(client, rotated["access_token"], rotated["refresh_token"])
    assert_success(newest.get(LEVELS))

    details = assert_error(client.post(REFRESH, json={"refresh_token": api.refresh_token}),
                           401, "INVALID_TOKEN")
    assert details["refresh_token_available"] is False
    # Every token of the chain is dead now: the old access token, the newest
    # access token and the newest refresh token.
    assert_error(api.get(LEVELS), 401, "INVALID_TOKEN")
    assert_error(newest.get(LEVELS), 401, "INVALID_TOKEN")
    assert_error(client.post(REFRESH, json={"refresh_token": newest.refresh_token}), 401,
                 "INVALID_TOKEN")
    family = db.session.execute(select(TokenFamily)).scalar_one()
    assert family.revoked_at is not None and family.revoked_reason == "refresh_token_reuse"
    assert "api.refresh_token_reuse" in _audit_actions()
    # Other grants of the same client are untouched.
    assert_success(login(client, credentials).get(LEVELS))


def test_it_refuses_an_unknown_or_expired_refresh_token(client, credentials):
    assert_error(client.post(REFRESH, json={"refresh_token": "jfr_nope"}), 401, "INVALID_TOKEN")
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with clock.frozen(start):
        api = login(client, credentials)
    with clock.frozen(start + timedelta(days=31)):
        details = assert_error(client.post(REFRESH, json={"refresh_token": api.refresh_token}),
                               401, "INVALID_TOKEN")
    assert details["token_expired"] is True
    assert details["expiry_time"] == "2030-01-31T00:00:00.000000Z"


def test_an_access_token_is_not_a_refresh_token(client, full):
    assert_error(client.post(REFRESH, json={"refresh_token": full.token}), 401, "INVALID_TOKEN")


def test_a_refresh_token_is_not_an_access_token(client, full):
    assert_error(Api(client, full.refresh_token).get(LEVELS), 401, "INVALID_TOKEN")


def test_checking_a_token_costs_one_query(app, full):
    full.get(LEVELS)  # warm the levels cache
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert_success(full.get(LEVELS))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements


def test_a_client_in_another_tenant_gets_its_own_tenant(client, other_tenant, tenant):
    creds = make_credentials(other_tenant)
    claims = jwt.decode(login(client, creds).token, options={"verify_signature": False})
    assert claims["tid"] == other_tenant.id != tenant.id


def test_the_api_opens_no_portal_session_even_with_the_portal_cookie(app, people):
    """A browser signed in to the portal sends its cookie to the API too: the API
    does not read it (its requests are authenticated by their token alone), nor
    do the health and metrics endpoints."""
    from flask import request

    name = app.config["SESSION_COOKIE_NAME"]
    cookie = f"{name}={people['owner'].client._client.get_cookie(name).value}"
    for path, opened_signed_in in (("/", True), ("/t/acme/members/", True),
                                   ("/api/v1/points/user-levels/", False),
                                   ("/core/health/live/", False), ("/metrics", False)):
        with app.test_request_context(path, headers={"Cookie": cookie}):
            session = app.session_interface.open_session(app, request)
            assert ("_user_id" in session) is opened_signed_in, path
