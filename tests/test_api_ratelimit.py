"""Rate limits: anonymous, per client, points operations (with a client's own
override), 429 envelopes with Retry-After, Redis storage and its outage."""
from __future__ import annotations

import os
import uuid

import pytest
import redis
from flask import Flask

from app import config, create_app
from app.extensions import db, limiter
from tests.api_fixtures import Api, assert_error, assert_success, login, make_credentials
from tests.conftest import PASSWORD

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
EARN_BODY = {"user_id": "alice", "points_amount": 1, "category": "login"}


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    return client


@pytest.fixture
def start_app():
    """Builds an application from a config and pushes its context; every one is
    popped, and its engine disposed, at the end of the test."""
    created = []

    def start(cfg: config.Config) -> Flask:
        # The extension object is shared by every app of the process: start clean.
        limiter._storage_dead = False
        app = create_app(cfg)
        ctx = app.app_context()
        ctx.push()
        created.append(ctx)
        return app

    yield start
    for ctx in reversed(created):
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def make_limited_app(database_url, start_app):
    """An application with rate limiting on (the test configuration turns it off)."""

    def make(storage: str = "memory://", prefix: str | None = None, **limits: str):
        cfg = config.TestingConfig(database_url)
        cfg.RATELIMIT_ENABLED = True
        cfg.RATELIMIT_STORAGE_URI = storage
        cfg.RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5,
                                         "key_prefix": prefix or f"jifen-test-{uuid.uuid4().hex}"}
        cfg.RATELIMIT_ANONYMOUS = limits.get("anonymous", "1000/hour")
        cfg.RATELIMIT_AUTHENTICATED = limits.get("authenticated", "1000/hour")
        cfg.RATELIMIT_POINTS = limits.get("points", "1000/hour")
        return start_app(cfg)

    return make


def _token_request(client):
    return client.post("/api/v1/auth/token/", json={"client_id": "jf_x", "client_secret": "y"})


def test_it_limits_anonymous_requests_per_address(make_limited_app):
    app = make_limited_app(anonymous="3/hour")
    client = app.test_client()
    for _ in range(3):
        assert _token_request(client).status_code == 401
    response = _token_request(client)
    details = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert 0 < details["retry_after"] <= 3600
    assert response.headers["Retry-After"] == str(details["retry_after"])
    # Another address has its own allowance.
    other = client.post("/api/v1/auth/token/", json={"client_id": "a", "client_secret": "b"},
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401


def test_it_limits_each_client_across_routes(make_limited_app, tenant, programme):
    app = make_limited_app(authenticated="4/hour")
    first = login(app.test_client(), make_credentials(tenant))
    second = login(app.test_client(), make_credentials(tenant))
    for path in ("/api/v1/vip/tags/", "/api/v1/points/user-levels/", "/api/v1/vip/tags/",
                 "/api/v1/points/profiles/alice/"):
        assert first.get(path).status_code == 200
    assert_error(first.get("/api/v1/points/profiles/"), 429, "RATE_LIMIT_EXCEEDED")
    assert second.get("/api/v1/vip/tags/").status_code == 200


def test_points_operations_have_their_own_limit(make_limited_app, tenant, programme):
    app = make_limited_app(authenticated="100/hour", points="2/hour")
    api = login(app.test_client(), make_credentials(tenant))
    for _ in range(2):
        assert_success(api.post("/api/v1/points/earn/", json=EARN_BODY), 201)
    details = assert_error(api.post("/api/v1/points/spend/", json={
        **EARN_BODY, "category": "payment"}), 429, "RATE_LIMIT_EXCEEDED")
    assert details["retry_after"] > 0
    assert api.get("/api/v1/vip/tags/").status_code == 200  # reads are not points operations


def test_a_clients_own_limit_replaces_the_points_limit(make_limited_app, tenant, programme):
    app = make_limited_app(points="1/hour")
    api = login(app.test_client(), make_credentials(tenant, rate_limit="3/hour"))
    for _ in range(3):
        assert_success(api.post("/api/v1/points/earn/", json=EARN_BODY), 201)
    assert_error(api.post("/api/v1/points/earn/", json=EARN_BODY), 429, "RATE_LIMIT_EXCEEDED")
    standard = login(app.test_client(), make_credentials(tenant))
    assert_success(standard.post("/api/v1/points/earn/", json=EARN_BODY), 201)
    assert_error(standard.post("/api/v1/points/earn/", json=EARN_BODY), 429,
                 "RATE_LIMIT_EXCEEDED")


def test_a_rejected_request_changes_nothing(make_limited_app, tenant, programme):
    from tests.api_fixtures import ledger_state

    app = make_limited_app(points="1/hour")
    api = login(app.test_client(), make_credentials(tenant))
    assert_success(api.post("/api/v1/points/earn/", json=EARN_BODY), 201)
    before = ledger_state()
    assert_error(api.post("/api/v1/points/earn/", json=EARN_BODY,
                          headers={"Idempotency-Key": "limited"}), 429, "RATE_LIMIT_EXCEEDED")
    assert ledger_state() == before


# --------------------------------------------------------------------------- the environment
# These applications are configured the way a deployment is: load_config() reads
# the environment (JIFEN_ENV=development, so nothing of TestingConfig applies).

@pytest.fixture
def app_from_env(monkeypatch, database_url, start_app):

    def make(**env: str):
        for name in list(os.environ):
            if name.startswith(("RATELIMIT_", "REDIS_", "SENTRY_", "PROXY_FIX_", "LOGIN_")) \
                    or name in ("FORCE_HTTPS", "ACCESS_TOKEN_TTL_SECONDS"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("JIFEN_ENV", "development")
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("SECRET_KEY", "a-secret-for-this-test-only")
        monkeypatch.setenv("FIELD_ENCRYPTION_KEY", config.TestingConfig()._dev_field_key())
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        app = start_app(config.load_config())
        assert app.config["ENV_NAME"] == "development"
        return app

    return make


def _protected(client, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/v1/points/profiles/", headers=headers)


def test_rate_limiting_can_be_switched_off(app_from_env):
    client = app_from_env(RATELIMIT_ENABLED="false").test_client()
    for _ in range(60):
        assert _token_request(client).status_code == 401
        assert _protected(client).status_code == 401
        assert _protected(client, "forged").status_code == 401


def test_the_seed_anonymous_limit_counts_every_unauthenticated_request(app_from_env, tenant):
    """100 an hour per address, whatever route: token-less, forged-token and
    token requests share it, and the 101st is refused before its token is looked at."""
    app = app_from_env()
    assert app.config["RATELIMIT_ANONYMOUS"] == "100/hour"
    client = app.test_client()
    creds = make_credentials(tenant)
    statuses = []
    for i in range(100):
        kind = i % 4
        if kind == 0:
            statuses.append(_protected(client).status_code)
        elif kind == 1:
            statuses.append(_protected(client, f"forged-{i}").status_code)
        elif kind == 2:
            statuses.append(client.post("/api/v1/points/earn/", json=EARN_BODY).status_code)
        else:
            statuses.append(_token_request(client).status_code)
    assert statuses == [401] * 100
    for response in (_protected(client), _protected(client, "forged"), _token_request(client),
                     client.post("/api/v1/auth/refresh/", json={"refresh_token": "x"}),
                     client.post("/api/v1/auth/token/", json={
                         "client_id": creds.client_id, "client_secret": creds.client_secret})):
        details = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
        assert 0 < details["retry_after"] <= 3600
        assert response.headers["Retry-After"] == str(details["retry_after"])
    # Another address has its own allowance, and a valid token from it is not anonymous.
    other = {"REMOTE_ADDR": "10.0.0.9"}
    assert client.get("/api/v1/points/profiles/", environ_base=other).status_code == 401
    token = client.post("/api/v1/auth/token/", environ_base=other, json={
        "client_id": creds.client_id, "client_secret": creds.client_secret}).get_json()
    access = token["data"]["access_token"]
    assert client.get("/api/v1/points/profiles/", environ_base=other,
                      headers={"Authorization": f"Bearer {access}"}).status_code == 200


def test_the_seed_client_limits_are_enforced(app_from_env, tenant, programme):
    """500 points operations and 1000 requests an hour per client; every points
    operation is also a request. Refused writes (a 422 here) count: the limit
    is on attempts."""
    app = app_from_env()
    assert (app.config["RATELIMIT_AUTHENTICATED"], app.config["RATELIMIT_POINTS"]) == \
        ("1000/hour", "500/hour")
    api = login(app.test_client(), make_credentials(tenant))
    refused = {**EARN_BODY, "points_amount": 0}
    for _ in range(500):
        assert api.post("/api/v1/points/earn/", json=refused).status_code == 422
    details = assert_error(api.post("/api/v1/points/spend/", json=refused), 429,
                           "RATE_LIMIT_EXCEEDED")
    assert details["limit"] == "500 per 1 hour"
    # 500 requests so far: the one the points limit refused stopped there. Reads
    # are not points operations.
    for _ in range(500):
        assert api.get("/api/v1/vip/tags/").status_code == 200
    details = assert_error(api.get("/api/v1/vip/tags/"), 429, "RATE_LIMIT_EXCEEDED")
    assert details["limit"] == "1000 per 1 hour"


def test_switching_rate_limits_off_keeps_the_sign_in_lockout(app_from_env, tenant, make_staff,
                                                              fast_passwords):
    from tests.webtools import Portal

    app = app_from_env(RATELIMIT_ENABLED="false")
    user = make_staff(tenant, "owner")
    portal = Portal(app.test_client())
    statuses = [portal.login(user.email, "wrong password").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert portal.login(user.email, PASSWORD).status_code == 429
    assert _token_request(app.test_client()).status_code == 401  # the API is not limited


@pytest.mark.redis
def test_limits_are_counted_in_redis(make_limited_app, tenant, programme):
    store = redis_or_skip()
    prefix = f"jifen-test-{uuid.uuid4().hex}"
    app = make_limited_app(storage=REDIS_URL, prefix=prefix, points="2/hour")
    api = login(app.test_client(), make_credentials(tenant))
    try:
        for _ in range(2):
            assert_success(api.post("/api/v1/points/earn/", json=EARN_BODY), 201)
        assert_error(api.post("/api/v1/points/earn/", json=EARN_BODY), 429,
                     "RATE_LIMIT_EXCEEDED")
        keys = [k.decode() for k in store.keys(f"{prefix}*")]
        assert any("api-points" in k for k in keys), keys
        # Another process on the same Redis sees the same count for this client.
        again = make_limited_app(storage=REDIS_URL, prefix=prefix, points="2/hour")
        twin = Api(again.test_client(), api.token)
        assert_error(twin.post("/api/v1/points/earn/", json=EARN_BODY), 429,
                     "RATE_LIMIT_EXCEEDED")
        assert twin.get("/api/v1/vip/tags/").status_code == 200
    finally:
        for key in store.keys(f"{prefix}*"):
            store.delete(key)


def test_a_redis_outage_falls_back_to_memory_instead_of_failing(make_limited_app, tenant,
                                                               programme):
    # Nothing listens on port 1: every Redis call fails at once.
    app = make_limited_app(storage="redis://127.0.0.1:1/0", points="2/hour")
    api = login(app.test_client(), make_credentials(tenant))
    for _ in range(2):
        assert_success(api.post("/api/v1/points/earn/", json=EARN_BODY), 201)
    # Still limited, now by the in-process counters.
    assert_error(api.post("/api/v1/points/earn/", json=EARN_BODY), 429, "RATE_LIMIT_EXCEEDED")
    assert api.get("/api/v1/vip/tags/").status_code == 200


def test_the_lockout_holds_when_its_storage_is_away(database_url, tenant, make_staff,
                                                  fast_passwords):
    from tests.webtools import Portal

    cfg = config.TestingConfig(database_url)
    cfg.RATELIMIT_STORAGE_URI = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app = create_app(cfg)
    user = make_staff(tenant, "owner")
    portal = Portal(app.test_client())
    statuses = [portal.login(user.email, "wrong password").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
