from __future__ import annotations

from datetime import timedelta

import pytest

from app.services import clock, ledger, members, vip
from app.services.permissions import ADJUST, MANAGE, ROLE_PERMISSIONS
from tests.conftest import SYSTEM
from tests.webtools import balance, check_access, is_full_page, text


@pytest.fixture
def tags(tenant):
    silver = vip.create_tag(tenant.id, SYSTEM, tag_name="Silver", tag_type="vip", rank=1,
                            duration_days=30, points_price=50)
    gold = vip.create_tag(tenant.id, SYSTEM, tag_name="Gold", tag_type="vip", rank=2,
                          duration_days=60, points_price=80)
    return silver, gold


@pytest.fixture
def holder(tenant, make_member, tags, actor):
    make_member(tenant, "carol", display_name="Carol")
    ledger.earn(tenant.id, actor, user_id="carol", points_amount=100, category="login")
    vip.grant(tenant.id, actor, user_id="carol", tag_id=tags[0].id)
    return "carol"


def test_it_checks_every_route(people, holder, tags):
    silver, _gold = tags
    for method, url in (("POST", "/t/acme/members/carol/vip"), ("GET", "/t/acme/members/carol/vip")):
        # Granting a tag (and resolving its conflict) is member work: can_adjust_points.
        check_access(people, method, url, ADJUST, ROLE_PERMISSIONS)
    for method, url in (("GET", "/t/acme/vip-tags/"), ("POST", "/t/acme/vip-tags/"),
                        ("GET", f"/t/acme/vip-tags/{silver.id}/edit"),
                        ("POST", f"/t/acme/vip-tags/{silver.id}/edit")):
        check_access(people, method, url, MANAGE, ROLE_PERMISSIONS)


def test_another_tenants_tag_is_not_found(people, other_tenant):
    theirs = vip.create_tag(other_tenant.id, SYSTEM, tag_name="X", tag_type="vip", rank=1,
                            duration_days=3)
    assert people["owner"].get(f"/t/acme/vip-tags/{theirs.id}/edit").status_code == 404
    assert people["owner"].post(f"/t/acme/vip-tags/{theirs.id}/delete").status_code == 404


def test_a_conflict_replaces_the_form_with_the_choices(people, holder, tags):
    _silver, gold = tags
    response = people["admin"].post("/t/acme/members/carol/vip", {"tag_id": gold.id}, htmx=True)
    body = text(response)
    assert response.status_code == 409 and not is_full_page(response)
    assert "Silver" in body and "Gold" in body
    for option in ("upgrade_existing", "extend_existing", "replace_existing"):
        assert f'value="{option}"' in body
    assert "100 → 20" in body  # the price and the balance after


def test_without_javascript_the_conflict_is_shown_in_the_page(people, holder, tags):
    response = people["owner"].post("/t/acme/members/carol/vip", {"tag_id": tags[1].id})
    assert response.status_code == 409 and is_full_page(response)
    assert 'value="extend_existing"' in text(response)


def test_downgrading_offers_no_upgrade(people, tenant, make_member, tags, actor):
    make_member(tenant, "dave")
    vip.grant(tenant.id, actor, user_id="dave", tag_id=tags[1].id)
    body = text(people["owner"].post("/t/acme/members/dave/vip", {"tag_id": tags[0].id},
                                     htmx=True))
    assert 'value="upgrade_existing"' not in body and 'value="replace_existing"' in body


@pytest.mark.parametrize("resolution,expected_tag", [
    ("upgrade_existing", "Gold"), ("extend_existing", "Silver"), ("replace_existing", "Gold")])
def test_each_resolution_applies(people, holder, tags, tenant, resolution, expected_tag):
    response = people["owner"].post("/t/acme/members/carol/vip",
                                    {"tag_id": tags[1].id, "resolution": resolution}, htmx=True)
    assert response.status_code == 200, text(response)
    assert 'id="tags-card"' in text(response) and expected_tag in text(response)
    held = members.get_profile(tenant.id, "carol").tags
    assert [t.tag_name for t in held] == [expected_tag]


def test_paying_with_points_spends_the_price(people, holder, tags, tenant):
    response = people["owner"].post("/t/acme/members/carol/vip",
                                    {"tag_id": tags[1].id, "resolution": "upgrade_existing",
                                     "pay_with_points": "y"}, htmx=True)
    assert response.status_code == 200
    assert balance(tenant.id, "carol") == 20


def test_paying_more_than_the_balance_keeps_the_conflict_form(people, holder, tags, tenant,
                                                              actor):
    ledger.spend(tenant.id, actor, user_id="carol", points_amount=90, category="payment")
    response = people["owner"].post("/t/acme/members/carol/vip",
                                    {"tag_id": tags[1].id, "resolution": "upgrade_existing",
                                     "pay_with_points": "y"}, htmx=True)
    assert response.status_code == 422
    assert "70" in text(response) and 'value="upgrade_existing"' in text(response)
    assert balance(tenant.id, "carol") == 10


def test_a_plain_grant_without_conflict(people, tenant, make_member, tags):
    make_member(tenant, "erin")
    response = people["owner"].post("/t/acme/members/erin/vip", {"tag_id": tags[0].id})
    assert response.status_code == 302
    with clock.frozen(clock.now() + timedelta(days=1)):
        assert [t.tag_name for t in members.get_profile(tenant.id, "erin").tags] == ["Silver"]


def test_catalogue_crud(people, tenant, tags):
    owner = people["owner"]
    bad = owner.post("/t/acme/vip-tags/", {"tag_name": "Silver", "tag_type": "vip", "rank": "3",
                                            "duration_days": "10"})
    assert bad.status_code == 422 and "already has this name" in text(bad)
    ok = owner.post("/t/acme/vip-tags/", {"tag_name": "Platinum", "tag_type": "vip",
                                           "rank": "3", "duration_days": "10"})
    assert ok.status_code == 302
    assert "Platinum" in text(owner.get("/t/acme/vip-tags/", htmx=True))
    assert not is_full_page(owner.get("/t/acme/vip-tags/", htmx=True))
    assert owner.post(f"/t/acme/vip-tags/{tags[1].id}/edit",
                      {"tag_name": "Gold+", "tag_type": "vip", "rank": "2",
                       "duration_days": "61"}).status_code == 302
    assert owner.post(f"/t/acme/vip-tags/{tags[1].id}/delete").status_code == 302
    assert "Gold+" not in [t.tag_name for t in vip.list_tags(tenant.id)]


def test_a_post_without_csrf_is_refused(people, holder, tags):
    assert people["owner"].post("/t/acme/members/carol/vip", {"tag_id": tags[1].id},
                                csrf=False).status_code == 400
