"""Rate limits: anonymous, per client, points operations (with a client's own
override), 429 envelopes with Retry-After, Redis storage and its outage."""
from __future__ import annotations

import os
import uuid

import pytest
import redis

from app import config, create_app
from app.extensions import db, limiter
from tests.api_fixtures import Api, assert_error, assert_success, login, make_credentials

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
def make_limited_app(database_url):
    """An application with rate limiting on (the test configuration turns it off)."""
    created = []

    def make(storage: str = "memory://", prefix: str | None = None, **limits: str):
        cfg = config.TestingConfig(database_url)
        cfg.RATELIMIT_ENABLED = True
        cfg.RATELIMIT_STORAGE_URI = storage
        cfg.RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5,
                                         "key_prefix": prefix or f"jifen-test-{uuid.uuid4().hex}"}
        cfg.RATELIMIT_ANONYMOUS = limits.get("anonymous", "1000/hour")
        cfg.RATELIMIT_AUTHENTICATED = limits.get("authenticated", "1000/hour")
        cfg.RATELIMIT_POINTS = limits.get("points", "1000/hour")
        # The extension object is shared by every app of the process: start clean.
        limiter._storage_dead = False
        app = create_app(cfg)
        ctx = app.app_context()
        ctx.push()
        created.append(ctx)
        return app

    yield make
    for ctx in reversed(created):
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


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


def test_rate_limiting_can_be_switched_off(client):
    # The test configuration has RATELIMIT_ENABLED=false, as load tests do.
    for _ in range(150):
        assert _token_request(client).status_code == 401


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
