"""Without Redis every process caches a tenant's levels and VIP catalogue in its
own memory: a change made through one must be seen by the others at once (the
caches are keyed by the tenant's catalogue version, read with the tenant).
Two applications on one database stand for two gunicorn workers."""
from __future__ import annotations

import pytest

from app import create_app
from app import config as app_config
from app.extensions import db
from app.services import levels, vip
from tests.conftest import PASSWORD
from tests.webtools import Portal, text


@pytest.fixture
def other_worker(database_url):
    application = create_app(app_config.TestingConfig(database_url))
    yield application
    with application.app_context():
        db.engine.dispose()


def _in_request(application, read):
    with application.test_request_context():
        try:
            return read()
        finally:
            db.session.remove()


def test_a_change_through_one_worker_is_seen_by_the_other_at_once(app, other_worker, tenant,
                                                                  actor):
    def tags():
        return [t.tag_name for t in vip.list_tags(tenant.id)]

    def level_names():
        return [lv.level_name for lv in levels.list_levels(tenant.id)]

    assert app.config["CACHE_TYPE"] == "SimpleCache"  # each worker its own cache
    assert _in_request(other_worker, tags) == [] and _in_request(other_worker, level_names) == []
    _in_request(app, lambda: vip.create_tag(tenant.id, actor, tag_name="Gold", tag_type="vip",
                                            rank=2, duration_days=30))
    _in_request(app, lambda: levels.create(tenant.id, actor, level_name="Silver",
                                           min_points=100))
    assert _in_request(other_worker, tags) == ["Gold"]
    assert _in_request(other_worker, level_names) == ["Silver"]


def test_the_other_workers_grant_form_offers_a_new_tag_at_once(app, other_worker, people,
                                                               tenant, make_member):
    make_member(tenant, "alice")
    first = people["owner"]  # signed in through `app`
    second = Portal(other_worker.test_client())
    second.login("owner@acme.test", PASSWORD)
    assert "Platinum" not in text(second.get("/t/acme/members/alice/"))  # cached, without it
    created = first.post("/t/acme/vip-tags/", {"tag_name": "Platinum", "tag_type": "vip",
                                               "rank": "3", "duration_days": "30"})
    assert created.status_code == 302
    for _ in range(3):
        assert "Platinum · vip · 30d" in text(second.get("/t/acme/members/alice/"))


def test_a_rolled_back_change_leaves_the_version_alone(app, tenant, actor):
    from app.services import cache_invalidation
    from app.services.errors import ValidationFailed

    before = cache_invalidation.catalogue_version(tenant.id)
    with pytest.raises(ValidationFailed):
        vip.create_tag(tenant.id, actor, tag_name="", tag_type="vip", rank=1, duration_days=30)
    assert cache_invalidation.catalogue_version(tenant.id) == before
    vip.create_tag(tenant.id, actor, tag_name="Gold", tag_type="vip", rank=1, duration_days=30)
    assert cache_invalidation.catalogue_version(tenant.id) == before + 1
