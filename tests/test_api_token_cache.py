"""The per-process memory of verified access tokens (api_auth._verified) and the
token check's read outside a transaction: neither may let a revoked, expired,
re-keyed or altered token through, nor mix up tenants."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from psycopg.pq import TransactionStatus

from app.extensions import db
from app.services import api_auth, api_clients, clock, levels
from tests.api_fixtures import (
    API_ACTOR, Api, assert_error, assert_success, login, make_credentials,
)

REFRESH = "/api/v1/auth/refresh/"
LEVELS = "/api/v1/points/user-levels/"


def _remembered(token: str) -> api_auth._Verified | None:
    return api_auth._verified.get(token)


def test_a_verified_token_is_remembered_with_what_it_says(full, tenant, credentials):
    assert_success(full.get(LEVELS))
    entry = _remembered(full.token)
    assert entry is not None
    assert (entry.tenant_id, entry.client_pk) == (tenant.id, credentials.pk)
    assert "can_view_points" in entry.permissions


def test_revoking_the_client_refuses_a_remembered_token_on_the_next_request(full, tenant,
                                                                          credentials):
    assert_success(full.get(LEVELS))
    assert _remembered(full.token) is not None
    api_clients.revoke(tenant.id, API_ACTOR, credentials.pk)
    assert_error(full.get(LEVELS), 401, "INVALID_TOKEN")


def test_a_reused_refresh_token_refuses_the_remembered_access_tokens_of_its_family(
        client, credentials):
    api = login(client, credentials)
    assert_success(api.get(LEVELS))
    rotated = assert_success(client.post(REFRESH, json={"refresh_token": api.refresh_token}))
    newest = Api(client, rotated["access_token"])
    assert_success(newest.get(LEVELS))
    assert _remembered(api.token) is not None and _remembered(newest.token) is not None
    assert_error(client.post(REFRESH, json={"refresh_token": api.refresh_token}),
                 401, "INVALID_TOKEN")  # reuse: the family is revoked
    assert_error(api.get(LEVELS), 401, "INVALID_TOKEN")
    assert_error(newest.get(LEVELS), 401, "INVALID_TOKEN")


def test_tokens_of_two_tenants_each_keep_their_own_tenant(client, tenant, other_tenant, actor):
    levels.create(tenant.id, actor, level_name="Acme gold", min_points=10)
    levels.create(other_tenant.id, actor, level_name="Globex silver", min_points=20)
    acme = login(client, make_credentials(tenant))
    globex = login(client, make_credentials(other_tenant))
    for _ in range(2):  # the second round is served from the remembered tokens
        assert [lv["level_name"] for lv in assert_success(acme.get(LEVELS))] == ["Acme gold"]
        assert [lv["level_name"] for lv in assert_success(globex.get(LEVELS))] == \
            ["Globex silver"]
    assert _remembered(acme.token).tenant_id == tenant.id
    assert _remembered(globex.token).tenant_id == other_tenant.id


def test_an_altered_token_with_a_remembered_signature_is_refused(full, other_tenant):
    assert_success(full.get(LEVELS))
    header, payload, signature = full.token.split(".")
    claims = jwt.decode(full.token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "tid": other_tenant.id}, "k" * 32, algorithm="HS256").split(".")[1]
    altered = f"{header}.{forged}.{signature}"
    assert_error(Api(full.client, altered).get(LEVELS), 401, "INVALID_TOKEN")
    assert _remembered(altered) is None


def test_a_remembered_token_does_not_outlive_a_new_secret_key(app, full):
    assert_success(full.get(LEVELS))
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] + "-rotated"
    assert_error(full.get(LEVELS), 401, "INVALID_TOKEN")


def test_a_remembered_token_still_expires(client, credentials):
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    with clock.frozen(start):
        api = login(client, credentials)
        assert_success(api.get(LEVELS))
    with clock.frozen(start + timedelta(minutes=15)):
        details = assert_error(api.get(LEVELS), 401, "INVALID_TOKEN")
    assert details["token_expired"] is True


def test_the_memory_is_bounded(monkeypatch, client, credentials):
    monkeypatch.setattr(api_auth, "VERIFIED_MAX", 3)
    tokens = [login(client, credentials) for _ in range(5)]
    for api in tokens:
        assert_success(api.get(LEVELS))
        assert len(api_auth._verified) <= 3
    assert_success(tokens[0].get(LEVELS))  # forgotten, so verified again


def test_on_postgresql_the_check_leaves_no_transaction_open(app, full):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the read outside a transaction is PostgreSQL's")
    assert_success(full.get(LEVELS))  # warm the levels cache
    db.session.remove()  # as at the start of a request: no transaction open
    with app.test_request_context(headers={"Authorization": f"Bearer {full.token}"}):
        principal = api_auth.authenticate(full.token)
        raw = db.session.connection().connection.dbapi_connection
        assert principal.tenant_id == _remembered(full.token).tenant_id
        assert raw.info.transaction_status == TransactionStatus.IDLE
        assert raw.autocommit is False  # the request's next statement begins a transaction
        db.session.execute(db.text("SELECT 1"))
        assert raw.info.transaction_status == TransactionStatus.INTRANS
        db.session.remove()
