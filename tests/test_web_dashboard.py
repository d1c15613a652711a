from __future__ import annotations

from app.services import ledger
from app.services.permissions import ROLE_PERMISSIONS, VIEW
from tests.webtools import check_access, is_full_page, text


def test_it_checks_access(people):
    check_access(people, "GET", "/t/acme/", VIEW, ROLE_PERMISSIONS)
    assert people["owner"].get("/t/nowhere/").status_code == 404
    assert people["owner"].get("/t/acme%00/").status_code == 404  # not a 500 on PostgreSQL


def test_it_shows_the_numbers_and_a_chart(people, tenant, make_member, actor):
    make_member(tenant, "a", display_name="Ann")
    ledger.earn(tenant.id, actor, user_id="a", points_amount=1234, category="login")
    response = people["viewer"].get("/t/acme/")
    body = text(response)
    assert response.status_code == 200 and is_full_page(response)
    assert "1,234" in body and "<svg" in body and 'class="bar-earn"' in body
    assert "Ann" in body


def test_the_header_offers_the_other_tenants(people, other_tenant, make_staff, tenant):
    make_staff(other_tenant, "viewer", email="owner@acme.test")  # the owner, in both tenants
    owner = people["owner"]
    picker = owner.get("/")
    assert picker.status_code == 200 and "Globex Loyalty" in text(picker)
    assert "/t/globex/" in text(owner.get("/t/acme/"))


def test_signed_out_visitors_go_to_sign_in(client, tenant):
    response = client.get("/t/acme/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --------------------------------------------------------------------------- the cached page

def _outstanding(portal) -> str:
    body = text(portal.get("/t/acme/"))
    return body.split("Outstanding points</dt><dd>", 1)[1].split("<", 1)[0]


def test_a_cached_page_costs_one_check_and_shows_a_write_at_once(people, tenant, make_member,
                                                                  actor):
    from tests.querycount import statements

    make_member(tenant, "a")
    viewer = people["viewer"]
    assert _outstanding(viewer) == "0"
    with statements() as first:
        viewer.get("/t/acme/")
    ledger.earn(tenant.id, actor, user_id="a", points_amount=1234, category="login")
    with statements() as after_write:
        assert _outstanding(viewer) == "1,234"
    with statements() as cached:
        assert _outstanding(viewer) == "1,234"
    assert len(after_write) > len(cached) and len(first) == len(cached)
    assert sum("dashboard_daily_stats" in s or "point_lots" in s for s in cached) == 0


def test_members_levels_and_tags_changed_without_points_show_at_once(people, tenant,
                                                                    make_member, actor):
    from app.services import levels, vip
    from tests.conftest import SYSTEM

    viewer = people["viewer"]
    make_member(tenant, "a", display_name="Ann")
    assert "Gold" not in text(viewer.get("/t/acme/"))
    make_member(tenant, "b")
    levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=0)
    tag = vip.create_tag(tenant.id, SYSTEM, tag_name="VIP", tag_type="vip", rank=1,
                         duration_days=3)
    vip.grant(tenant.id, actor, user_id="a", tag_id=tag.id)
    body = text(viewer.get("/t/acme/"))
    assert "Members</dt><dd>2<" in body and "Gold" in body
    assert 'id="tags-h"' in body and "Ann</a></td><td>VIP</td>" in body


def test_a_write_stamped_before_the_page_was_built_but_committed_after_shows(
        people, tenant, make_member, actor):
    """A write that began before the cached copy was built and committed after it
    (its rows carry the earlier time) must not stay hidden behind the copy."""
    from datetime import timedelta

    from app.services import clock

    make_member(tenant, "a")
    viewer = people["viewer"]
    start = clock.now()
    with clock.frozen(start):
        assert _outstanding(viewer) == "0"
    with clock.frozen(start - timedelta(minutes=2)):  # began earlier, commits now
        ledger.earn(tenant.id, actor, user_id="a", points_amount=77, category="login")
    with clock.frozen(start + timedelta(seconds=1)):
        assert _outstanding(viewer) == "77"


def test_a_copy_is_rebuilt_when_it_is_older_than_its_time(people, tenant, make_member):
    from datetime import timedelta

    from app.services import clock, dashboard

    viewer = people["viewer"]
    start = clock.now() + timedelta(minutes=5)  # past the copy signing in may have left
    with clock.frozen(start):
        viewer.get("/t/acme/")
        kept = dashboard.page(tenant.id).generated_at
    assert kept == start
    with clock.frozen(start + timedelta(seconds=dashboard.CACHE_SECONDS)):
        assert dashboard.page(tenant.id).generated_at > start
