"""The portal's member search by phone and email, and a member's card: create,
edit, the points switch, internal notes, and the default country code setting."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditLog, StaffUser
from app.services import ledger, members, tenants
from app.services.permissions import ADJUST, MANAGE, ROLE_PERMISSIONS
from tests.webtools import KEY_RE, check_access, fresh, is_full_page, text


@pytest.fixture
def alice(tenant, make_member, actor):
    make_member(tenant, "alice", display_name="Alice Liddell", email="alice@example.com",
                phone="+86 138 0000 0000")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=120, category="login")
    return "alice"


def chinese(email: str) -> None:
    db.session.execute(update(StaffUser).where(StaffUser.email == email)
                       .values(locale="zh_Hans_CN"))
    db.session.commit()


def test_it_checks_every_route(people, alice):
    for method, url, needed, data in [
        ("GET", "/t/acme/members/new", MANAGE, None),
        ("POST", "/t/acme/members/new", MANAGE, {"user_id": ""}),
        ("GET", "/t/acme/members/alice/edit", MANAGE, None),
        ("POST", "/t/acme/members/alice/edit", MANAGE, {"email": "bad"}),
        ("POST", "/t/acme/members/alice/points-switch", MANAGE, {"enabled": "on"}),
        ("POST", "/t/acme/members/alice/notes", ADJUST, {"body": ""}),
    ]:
        check_access(people, method, url, needed, ROLE_PERMISSIONS, data)


def test_another_tenants_member_is_a_404(people, other_tenant, make_member):
    make_member(other_tenant, "bob", phone="13800000000")
    owner = people["owner"]
    assert owner.get("/t/acme/members/bob/edit").status_code == 404
    assert owner.post("/t/acme/members/bob/points-switch", {"enabled": "off"}).status_code == 404
    assert owner.post("/t/acme/members/bob/notes", {"body": "x"}).status_code == 404
    assert "No members match" in text(owner.get("/t/acme/members/?q=13800000000"))


@pytest.mark.parametrize("q", ["138-0000-0000", "+86 138 0000 0000", "13800000000",
                               "ALICE@example.com"])
def test_search_by_phone_or_email_shows_masked_contact_level_balance_and_count(people, alice,
                                                                               q):
    for htmx in (False, True):
        page = text(people["viewer"].get("/t/acme/members/", query_string={"q": q},
                                         htmx=htmx))
        assert "Alice Liddell" in page and "a***@example.com" in page
        assert "+86 138****0000" in page and "120" in page
        assert "Matching members: 1" in page
        rows = page.split('id="member-rows"')[-1]  # the query itself is echoed above
        assert "alice@example.com" not in rows and "138 0000 0000" not in rows


def test_the_search_box_is_focused_and_the_list_is_not_counted(people, alice):
    page = text(people["viewer"].get("/t/acme/members/"))
    assert 'autofocus' in page and 'data-search-box' in page
    assert "Matching members" not in page


def test_creating_a_member_redirects_to_it_and_is_audited(people, tenant):
    owner = people["owner"]
    form = text(owner.get("/t/acme/members/new"))
    key = KEY_RE.search(form).group(1)
    data = {"user_id": "u-9", "display_name": "Wang Fang 王芳", "email": "wf@example.cn",
            "phone": "139-1234-5678", "idempotency_key": key}
    response = owner.post("/t/acme/members/new", data)
    assert response.status_code == 302 and response.location.endswith("/t/acme/members/u-9/")
    again = owner.post("/t/acme/members/new", data)  # a double submit: the same member
    assert again.status_code == 302
    fresh()
    assert members.get_profile(tenant.id, "u-9").phone == "139-1234-5678"
    assert [p.user_id for p in members.search(tenant.id, q="+8613912345678").items] == ["u-9"]
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "member.create")
                              ).scalar_one().target_id == "u-9"
    assert "Member created." in text(owner.get("/t/acme/members/u-9/"))


@pytest.mark.parametrize("language, expected", [
    ("en", ["Not a valid email address.", "Not a valid phone number.", "already exists"]),
    ("zh", ["电子邮箱地址无效", "电话号码无效", "已存在"]),
])
def test_a_refused_member_shows_inline_errors_in_both_languages(people, alice, language,
                                                                expected):
    if language == "zh":
        chinese("owner@acme.test")
    owner = people["owner"]
    page = owner.post("/t/acme/members/new", {"user_id": "new", "email": "nope",
                                             "phone": "call me"})
    assert page.status_code == 422 and is_full_page(page)
    body = text(page)
    assert expected[0] in body and expected[1] in body and 'value="nope"' in body
    taken = owner.post("/t/acme/members/new", {"user_id": "alice"})
    assert taken.status_code == 409 and expected[2] in text(taken)


def test_editing_details_saves_and_redirects(people, alice, tenant):
    owner = people["owner"]
    form = text(owner.get("/t/acme/members/alice/edit"))
    assert 'value="alice@example.com"' in form and 'value="+86 138 0000 0000"' in form
    response = owner.post("/t/acme/members/alice/edit", {
        "display_name": "Alice L.", "email": "", "phone": "139 0000 1111"})
    assert response.status_code == 302 and response.location.endswith("/t/acme/members/alice/")
    fresh()
    profile = members.get_profile(tenant.id, "alice")
    assert (profile.display_name, profile.email, profile.phone) == ("Alice L.", None,
                                                                    "139 0000 1111")
    assert members.search(tenant.id, q="13900001111").items[0].user_id == "alice"
    assert members.search(tenant.id, q="alice@example.com").items == []


def test_a_bad_edit_is_shown_inline_and_changes_nothing(people, alice, tenant):
    page = people["owner"].post("/t/acme/members/alice/edit", {
        "display_name": "Alice", "email": "a@b", "phone": "+86 138 0000 0000"})
    assert page.status_code == 422 and "Not a valid email address." in text(page)
    assert 'value="a@b"' in text(page)
    long = people["owner"].post("/t/acme/members/alice/edit", {"display_name": "x" * 201})
    assert long.status_code == 422 and 'id="display_name-error"' in text(long)
    fresh()
    assert members.get_profile(tenant.id, "alice").email == "alice@example.com"


def test_the_points_switch_explains_itself_and_blocks_points(people, alice, tenant):
    owner = people["owner"]
    page = text(owner.get("/t/acme/members/alice/"))
    assert "Switch points off" in page and "POINTS_DISABLED" in page
    assert owner.post("/t/acme/members/alice/points-switch",
                      {"enabled": "off"}).status_code == 302
    page = text(owner.get("/t/acme/members/alice/"))
    assert "Switch points on" in page and "Points switched off for this member." in page
    earn = owner.post("/t/acme/members/alice/earn", {"points_amount": "5", "category": "login"})
    assert earn.status_code == 422
    assert owner.post("/t/acme/members/alice/points-switch", {"enabled": "on"}).status_code == 302
    fresh()
    assert members.get_profile(tenant.id, "alice").is_points_enabled
    actions = db.session.execute(select(AuditLog.action).where(
        AuditLog.action.like("member.points_%")).order_by(AuditLog.id)).scalars().all()
    assert actions == ["member.points_disabled", "member.points_enabled"]


def test_a_forged_switch_value_changes_nothing(people, alice, tenant):
    assert people["owner"].post("/t/acme/members/alice/points-switch",
                                {"enabled": "maybe"}).status_code == 422
    fresh()
    assert members.get_profile(tenant.id, "alice").is_points_enabled


def test_notes_are_added_escaped_once_and_shown_to_staff(people, alice):
    support = people["support"]
    key = KEY_RE.findall(text(support.get("/t/acme/members/alice/")))
    note_key = [k for k in key][-1]
    data = {"body": "<script>alert(1)</script>\nline two", "idempotency_key": note_key}
    response = support.post("/t/acme/members/alice/notes", data)
    assert response.status_code == 302 and response.location.endswith("#notes")
    assert support.post("/t/acme/members/alice/notes", data).status_code == 302
    viewer = text(people["viewer"].get("/t/acme/members/alice/"))
    assert viewer.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 1
    assert "<script>alert(1)" not in viewer
    assert "support@acme.test" in viewer
    assert "/notes" not in viewer  # reading is for all staff, writing needs can_adjust_points


def test_a_bad_note_is_refused_inline(people, alice):
    page = people["support"].post("/t/acme/members/alice/notes", {"body": "x" * 2001})
    assert page.status_code == 422 and "2000" in text(page)
    assert 'id="note-body-error"' in text(page)


def test_the_settings_page_sets_the_default_country_code(people, tenant, make_member):
    make_member(tenant, "uk", phone="020 7946 0000")
    owner = people["owner"]
    base = {"name": "Acme", "max_points_per_operation": "10000", "timezone": "UTC",
            "expiry_notice_days": "7"}
    bad = owner.post("/t/acme/settings", base | {"default_country_code": "12a"})
    assert bad.status_code == 422 and "1 to 3 digits" in text(bad)
    assert owner.post("/t/acme/settings", base | {"default_country_code": "44"}
                      ).status_code == 302
    fresh()
    assert tenants.get(tenant.id).default_country_code == "44"
    assert members.search(tenant.id, q="+44 20 7946 0000").items[0].user_id == "uk"
    audit = db.session.execute(select(AuditLog).where(AuditLog.action == "tenant.settings")
                               ).scalar_one()
    assert audit.data["after"]["default_country_code"] == "44"
