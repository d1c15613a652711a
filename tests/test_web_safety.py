"""Nothing irreversible in one click (a GET confirmation page that says what will
happen, then a POST form), safe defaults, VIP grants for support agents, and the
find-a-transaction box."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.services import api_clients, ledger, levels, members, staff, vip
from app.services.context import Actor
from app.services.permissions import (
    MANAGE, MANAGE_API_CLIENTS, MANAGE_STAFF, ROLE_PERMISSIONS, VIEW,
)
from tests.conftest import SYSTEM, vip_tag
from tests.webtools import balance, check_access, is_full_page, text


@pytest.fixture
def alice(tenant, make_member, actor):
    make_member(tenant, "alice", display_name="Alice")
    return ledger.earn(tenant.id, actor, user_id="alice", points_amount=694,
                       category="login", reason="welcome").transaction


def confirmations(tenant_id: int, staff_email: str) -> dict[str, str]:
    """The confirmation page (under /t/acme/) of each irreversible action on things of
    `tenant_id`: a level Gold, a VIP tag Jade, an API client shop, and the access of
    the staff member `staff_email`."""
    gold = levels.create(tenant_id, SYSTEM, level_name="Gold", min_points=100)
    tag = vip_tag(tenant_id, "Jade")
    client = api_clients.create(tenant_id, SYSTEM, name="shop", permissions="can_view_points")
    member = staff.find_by_email(staff_email)
    return {"level": f"/t/acme/levels/{gold.id}/delete",
            "tag": f"/t/acme/vip-tags/{tag.id}/delete",
            "client": f"/t/acme/api-clients/{client.client.id}/revoke",
            "access": f"/t/acme/staff/{member.id}/deactivate"}


@pytest.fixture
def things(tenant, people):
    return confirmations(tenant.id, "viewer@acme.test")


def test_every_confirmation_page_needs_its_permission(people, things):
    needed = {"level": MANAGE, "tag": MANAGE, "client": MANAGE_API_CLIENTS,
              "access": MANAGE_STAFF}
    for name, url in things.items():
        check_access(people, "GET", url, needed[name], ROLE_PERMISSIONS)


def test_a_confirmation_page_changes_nothing_and_says_what_will_happen(people, things, tenant):
    owner = people["owner"]
    expected = {
        "level": ["Delete level Gold?", "No member is at this level now.", "cannot be undone"],
        "tag": ["Delete VIP tag Jade?", "No member ever held it", "Delete tag"],
        "client": ["Revoke API client shop?", "stops working at once", "never been used"],
        "access": ["Remove viewer@acme.test", "signed out at once", "Viewer"],
    }
    for name, url in things.items():
        response = owner.get(url)
        body = text(response)
        assert response.status_code == 200 and is_full_page(response), name
        assert '<form method="post" novalidate>' in body and 'name="csrf_token"' in body, name
        for words in expected[name]:
            assert words in body.replace("&#39;", "'"), (name, words)
    assert [lv.level_name for lv in levels.list_levels_uncached(tenant.id)] == ["Gold"]
    assert vip.list_tags(tenant.id)[0].tag_name == "Jade"
    assert api_clients.list_clients(tenant.id)[0].revoked_at is None
    assert staff.role_in(staff.find_by_email("viewer@acme.test").id, tenant.id) == "viewer"


def test_the_post_does_it_and_without_csrf_nothing_happens(people, things, tenant):
    owner = people["owner"]
    for url in things.values():
        assert owner.post(url, csrf=False).status_code == 400
    assert len(levels.list_levels_uncached(tenant.id)) == 1
    for url in things.values():
        assert owner.post(url).status_code == 302, url
    db.session.rollback()
    assert levels.list_levels_uncached(tenant.id) == []
    assert vip.list_tags(tenant.id, include_inactive=True) == []
    assert api_clients.list_clients(tenant.id)[0].revoked_at is not None
    assert staff.role_in(staff.find_by_email("viewer@acme.test").id, tenant.id) is None


def test_the_lists_link_to_the_confirmations_instead_of_posting(people, things):
    owner = people["owner"]
    for listing, name in (("/t/acme/levels/", "level"), ("/t/acme/vip-tags/", "tag"),
                          ("/t/acme/api-clients/", "client"), ("/t/acme/staff/", "access")):
        body = text(owner.get(listing))
        assert f'href="{things[name]}"' in body, name
        assert f'action="{things[name]}"' not in body, name


def test_another_tenants_objects_have_no_confirmation_page(people, other_tenant):
    for url in confirmations(other_tenant.id, "owner@globex.test").values():
        assert people["owner"].get(url).status_code == 404, url
        assert people["owner"].post(url).status_code == 404, url


def test_the_only_owner_is_told_why_their_access_stays(people, tenant):
    me = staff.find_by_email("owner@acme.test")
    response = people["owner"].get(f"/t/acme/staff/{me.id}/deactivate")
    body = text(response)
    assert "the only owner" in body and '<form method="post" novalidate>' not in body
    assert people["owner"].post(f"/t/acme/staff/{me.id}/deactivate").status_code == 200
    assert staff.role_in(me.id, tenant.id) == "owner"


def test_a_held_tag_is_retired_and_the_page_says_so(people, tenant, alice, actor):
    tag = vip_tag(tenant.id, "Gold")
    vip.grant(tenant.id, actor, user_id="alice", tag_id=tag.id)
    body = text(people["owner"].get(f"/t/acme/vip-tags/{tag.id}/delete"))
    assert "Retire VIP tag Gold?" in body and "1 member holds it now" in body


def test_a_level_deletion_names_where_its_members_go(people, tenant, alice):
    levels.create(tenant.id, SYSTEM, level_name="Bronze", min_points=0)
    gold = levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=500)
    body = text(people["owner"].get(f"/t/acme/levels/{gold.id}/delete"))
    assert "1 member is at this level now and moves to Bronze." in body


# --------------------------------------------------------------------------- reversal

def test_the_reversal_confirmation_states_the_partial_case(people, tenant, alice, actor):
    ledger.spend(tenant.id, actor, user_id="alice", points_amount=680, category="payment")
    url = f"/t/acme/members/alice/transactions/{alice.id}/reverse"
    for htmx in (False, True):
        body = text(people["support"].get(url, htmx=htmx))
        assert ("The reversal takes back 14 of the original 694 points; "
                "680 were already spent.") in body
        assert "Balance: 14 → 0." in body
    assert balance(tenant.id, "alice") == 14


def test_a_reversal_that_cannot_be_done_says_why_without_a_button(people, tenant, alice, actor):
    ledger.spend(tenant.id, actor, user_id="alice", points_amount=694, category="payment")
    body = text(people["support"].get(f"/t/acme/members/alice/transactions/{alice.id}/reverse"))
    assert "Nothing is left of these points to take back." in body
    assert "Confirm reversal" not in body


def test_the_reversal_confirmation_is_translated(people, tenant, alice, actor):
    ledger.spend(tenant.id, actor, user_id="alice", points_amount=680, category="payment")
    support = people["support"]
    support.post("/language", {"locale": "zh_Hans_CN", "next": "/"})
    body = text(support.get(f"/t/acme/members/alice/transactions/{alice.id}/reverse"))
    assert "原来的 694 积分中收回 14 积分" in body and "680 积分已被使用" in body


# --------------------------------------------------------------------------- safe defaults

def test_adding_a_person_preselects_the_least_privileged_role(people):
    body = text(people["owner"].get("/t/acme/staff/"))
    form = body[body.index('id="role"'):]
    assert re.search(r'<option selected value="viewer">|<option value="viewer" selected', form)


def test_point_forms_preselect_no_category_and_require_one(people, tenant, alice):
    owner = people["owner"]
    body = text(owner.get("/t/acme/members/alice/"))
    for op in ("earn", "spend", "adjust"):
        select = body[body.index(f'id="{op}-category"'):]
        select = select[:select.index("</select>")]
        assert re.search(r'<option (selected )?value=""( selected)?>Choose a category', select), op
        assert 'selected value="login"' not in select and 'value="login" selected' not in select
    for op, data in (("earn", {"points_amount": "5"}), ("spend", {"points_amount": "5"}),
                     ("adjust", {"points_amount": "5", "reason": "fix"})):
        response = owner.post(f"/t/acme/members/alice/{op}", {**data, "category": ""},
                              htmx=True)
        assert response.status_code == 422 and "Choose a category." in text(response), op
    assert balance(tenant.id, "alice") == 694
    ok = owner.post("/t/acme/members/alice/adjust",
                    {"points_amount": "-4", "category": "manual", "reason": "fix"}, htmx=True)
    assert ok.status_code == 200 and balance(tenant.id, "alice") == 690


# --------------------------------------------------------------------------- VIP for support

def test_a_support_agent_grants_a_tag_but_cannot_define_one(people, tenant, alice):
    tag = vip_tag(tenant.id, "Gold")
    support = people["support"]
    assert 'id="vip-card"' in text(support.get("/t/acme/members/alice/"))
    assert support.post("/t/acme/members/alice/vip", {"tag_id": tag.id}).status_code == 302
    assert [t.tag_name for t in members.get_profile(tenant.id, "alice").tags] == ["Gold"]
    assert support.get("/t/acme/vip-tags/").status_code == 403
    assert 'id="vip-card"' not in text(people["viewer"].get("/t/acme/members/alice/"))


def test_the_conflict_form_takes_the_whole_row(people, tenant, alice, actor):
    silver = vip_tag(tenant.id, "Silver")
    gold = vip_tag(tenant.id, "Gold", rank=2)
    vip.grant(tenant.id, actor, user_id="alice", tag_id=silver.id)
    response = people["support"].post("/t/acme/members/alice/vip", {"tag_id": gold.id})
    assert response.status_code == 409
    assert '<section class="card wide" id="vip-card"' in text(response)


# --------------------------------------------------------------------------- lookup

def test_the_box_is_under_every_programme_page(people, alice):
    for url in ("/t/acme/", "/t/acme/members/", "/t/acme/members/alice/"):
        body = text(people["viewer"].get(url, follow_redirects=True))
        assert 'action="/t/acme/find-transaction"' in body and 'id="find-q"' in body, url
    check_access(people, "GET", "/t/acme/find-transaction?q=1", VIEW, ROLE_PERMISSIONS)


def test_a_lookup_goes_straight_to_the_row(people, tenant, alice):
    api = Actor(type="api_client", label="shop", request_id="req-abc123")
    for n in range(30):  # push alice's first row off the history's first page
        ledger.earn(tenant.id, api, user_id="alice", points_amount=1, category="login",
                    idempotency_key=f"k{n}")
    viewer = people["viewer"]
    for query in (str(alice.id),):
        response = viewer.get(f"/t/acme/find-transaction?q={query}")
        assert response.status_code == 303
        location = response.headers["Location"]
        assert "/t/acme/members/alice/?cursor=" in location and f"#tx-{alice.id}" in location
        page = text(viewer.get(location))
        assert f'<tr id="tx-{alice.id}" class="found" aria-current="true">' in page
        assert "starts at transaction" in page
    response = viewer.get("/t/acme/find-transaction?q=k7")
    assert response.status_code == 303 and "/members/alice/" in response.headers["Location"]


def test_several_matches_are_listed_and_none_is_said_plainly(people, tenant, alice):
    api = Actor(type="api_client", label="shop", request_id="req-many")
    for amount in (1, 2):
        ledger.earn(tenant.id, api, user_id="alice", points_amount=amount, category="login")
    viewer = people["viewer"]
    many = viewer.get("/t/acme/find-transaction?q=req-many")
    assert many.status_code == 200 and "2 transactions match “req-many”" in text(many)
    assert text(many).count("/t/acme/members/alice/?cursor=") == 2
    none = text(viewer.get("/t/acme/find-transaction?q=nope-%3Cb%3E"))
    assert "Nothing in Acme Rewards matches “nope-&lt;b&gt;”" in none
    assert "Type a transaction id" in text(viewer.get("/t/acme/find-transaction"))


def test_another_tenants_ids_find_nothing(people, other_tenant, make_member):
    make_member(other_tenant, "zed")
    theirs = ledger.earn(other_tenant.id, SYSTEM, user_id="zed", points_amount=5,
                         category="login", idempotency_key="their-key").transaction
    for query in (str(theirs.id), "their-key"):
        response = people["owner"].get(f"/t/acme/find-transaction?q={query}")
        assert response.status_code == 200 and "Nothing in Acme Rewards matches" in text(response)
