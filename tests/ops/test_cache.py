"""Levels and the VIP catalogue cached in Redis, invalidated by their services;
balances never cached; Redis outages never break a request."""
from __future__ import annotations

import secrets
import threading

import pytest
import redis as redis_lib

from app import config as app_config
from app.extensions import cache
from app.ops.cache import ResilientRedisCache
from app.services import cache_invalidation, ledger, levels, members, uow, vip

pytestmark = pytest.mark.redis


def redis_app(make_app, database_url, monkeypatch, url: str):
    monkeypatch.setenv("REDIS_URL", url)
    config = app_config.TestingConfig(database_url)
    config.CACHE_KEY_PREFIX = f"jifen-test-{secrets.token_hex(4)}:"
    return make_app(config)


@pytest.fixture
def cached(make_app, database_url, monkeypatch, redis_url, tenant):
    application = redis_app(make_app, database_url, monkeypatch, redis_url)
    client = redis_lib.Redis.from_url(redis_url)
    prefix = application.config["CACHE_KEY_PREFIX"]
    with application.app_context():
        yield application, client, prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


def keys(client, prefix: str) -> set[str]:
    return {k.decode()[len(prefix):] for k in client.scan_iter(match=prefix + "*")}


def current_key(name: str, tenant_id: int) -> str:
    """The key of the tenant's catalogue version now (cache_invalidation.tenant_key)."""
    return f"{name}:{tenant_id}:v{cache_invalidation.catalogue_version(tenant_id)}"


def test_it_uses_the_resilient_redis_cache(cached):
    application, _, _ = cached
    assert isinstance(application.extensions["cache"][cache], ResilientRedisCache)


def test_levels_are_cached_and_invalidated_on_change(cached, tenant, actor):
    _, client, prefix = cached
    levels.create(tenant.id, actor, level_name="Silver", min_points=100)
    assert [lv.level_name for lv in levels.list_levels(tenant.id)] == ["Silver"]
    assert current_key("levels", tenant.id) in keys(client, prefix)
    gold = levels.create(tenant.id, actor, level_name="Gold", min_points=1000)
    assert current_key("levels", tenant.id) not in keys(client, prefix)  # a new version
    assert [lv.level_name for lv in levels.list_levels(tenant.id)] == ["Silver", "Gold"]
    levels.update_level(tenant.id, actor, gold.id, level_name="Platinum", min_points=2000)
    assert [lv.level_name for lv in levels.list_levels(tenant.id)] == ["Silver", "Platinum"]
    levels.delete(tenant.id, actor, gold.id)
    assert [lv.level_name for lv in levels.list_levels(tenant.id)] == ["Silver"]


def test_the_vip_catalogue_is_cached_and_invalidated_on_change(cached, tenant, actor):
    _, client, prefix = cached
    vip.create_tag(tenant.id, actor, tag_name="Silver VIP", tag_type="vip", rank=1,
                   duration_days=30)
    assert [t.tag_name for t in vip.list_tags(tenant.id)] == ["Silver VIP"]
    assert current_key("vip_tags", tenant.id) in keys(client, prefix)
    gold = vip.create_tag(tenant.id, actor, tag_name="Gold VIP", tag_type="vip", rank=2,
                          duration_days=30)
    assert [t.tag_name for t in vip.list_tags(tenant.id)] == ["Silver VIP", "Gold VIP"]
    vip.update_tag(tenant.id, actor, gold.id, tag_name="Gold VIP+", tag_type="vip", rank=2,
                   duration_days=60)
    assert [t.tag_name for t in vip.list_tags(tenant.id)] == ["Silver VIP", "Gold VIP+"]


def test_a_balance_is_never_cached(cached, tenant, make_member, actor):
    _, client, prefix = cached
    levels.create(tenant.id, actor, level_name="Silver", min_points=100)
    make_member(tenant, "alice")
    for amount in (60, 50):
        ledger.earn(tenant.id, actor, user_id="alice", points_amount=amount, category="login")
        profile = members.get_profile(tenant.id, "alice")
    assert profile.total_points == 110
    assert profile.level.level_name == "Silver"
    ledger.spend(tenant.id, actor, user_id="alice", points_amount=100, category="payment")
    assert members.get_profile(tenant.id, "alice").total_points == 10
    assert keys(client, prefix) == {current_key("levels", tenant.id)}  # nothing about members


def test_a_reader_between_invalidation_and_commit_cannot_leave_levels_stale(cached, tenant,
                                                                           actor):
    application, _, _ = cached
    levels.create(tenant.id, actor, level_name="Silver", min_points=100)
    levels.list_levels(tenant.id)

    def another_worker_reads() -> None:
        with application.app_context():
            levels.list_levels(tenant.id)  # sees the committed rows: Silver alone

    with uow.atomic():
        levels.create(tenant.id, actor, level_name="Gold", min_points=1000)
        reader = threading.Thread(target=another_worker_reads)
        reader.start()
        reader.join(10)
    assert [lv.level_name for lv in levels.list_levels(tenant.id)] == ["Silver", "Gold"]


def test_redis_down_never_breaks_a_request_and_invalidations_are_redone(
        make_app, database_url, monkeypatch, private_redis, tenant, actor):
    application = redis_app(make_app, database_url, monkeypatch, private_redis.url)
    with application.app_context():
        levels.create(tenant.id, actor, level_name="Silver", min_points=100)
        key = application.config["CACHE_KEY_PREFIX"] + current_key("levels", tenant.id)
        assert len(levels.list_levels(tenant.id)) == 1
        stale = redis_lib.Redis.from_url(private_redis.url).get(key)
        assert stale is not None  # cached in Redis
        private_redis.stop()
        # Reads fall back to the database; writes still work.
        levels.create(tenant.id, actor, level_name="Gold", min_points=1000)
        assert [lv.level_name for lv in levels.list_levels(tenant.id)] == ["Silver", "Gold"]
        assert application.test_client().get("/core/health/").get_json()["status"] == "degraded"
        # Redis comes back still holding the entry from before the outage (as a
        # persistent Redis would): the queued invalidation removes it first.
        private_redis.start()
        redis_lib.Redis.from_url(private_redis.url).set(key, stale)
        assert [lv.level_name for lv in levels.list_levels(tenant.id)] == ["Silver", "Gold"]
