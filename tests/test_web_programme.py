"""Programme → Earning rules, the simulator, event pages and revoke in the portal."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, EarningRule
from app.services import programme
from app.services.permissions import ADJUST, MANAGE, ROLE_PERMISSIONS, VIEW
from tests.webtools import check_access, is_full_page, text

RULES = "/t/acme/programme/rules/"
FORM = {"name": "Payments", "event_type": "purchase.paid", "category": "payment",
        "award_type": "per_amount", "points": "1", "per": "10", "limit_period": "",
        "pending_days": "14", "active": "y"}


def test_it_checks_access(people, tenant, actor):
    rule = programme.create_rule(tenant.id, actor, {"name": "Sign-in", "event_type": "login",
                                                    "award": {"type": "fixed", "points": 5}})
    check_access(people, "GET", RULES, VIEW, ROLE_PERMISSIONS)
    check_access(people, "GET", f"{RULES}{rule.id}/edit", MANAGE, ROLE_PERMISSIONS)
    check_access(people, "POST", f"{RULES}{rule.id}/active", MANAGE, ROLE_PERMISSIONS)


def test_it_lists_rules_in_words_in_both_languages(people, tenant, actor):
    programme.create_rule(tenant.id, actor, {
        "name": "Payments", "event_type": "payment",
        "award": {"type": "per_amount", "points": 1, "per": "10"}, "pending_days": 14})
    programme.create_rule(tenant.id, actor, {
        "name": "Sign-in", "event_type": "login", "award": {"type": "fixed", "points": 5},
        "limit": {"count": 1, "period": "day"}})
    body = text(people["viewer"].get(RULES))
    assert "1 point per ¥10.00" in body and "once a day" in body and "5 points" in body
    assert "Times are shown in UTC." in body
    zh = text(people["viewer"].get(RULES, headers={"Accept-Language": "zh-CN"}))
    assert "积分规则" in zh and "每 ¥10.00 得 1 积分" in zh and "每天 1 次" in zh


def test_it_creates_a_rule_and_shows_errors_inline(people, tenant):
    owner = people["owner"]
    bad = owner.post(RULES, data={**FORM, "per": "0.001", "event_type": "Bad"})
    assert bad.status_code == 422 and is_full_page(bad)
    assert text(bad).count('class="field-error"') == 2
    db.session.rollback()
    assert db.session.execute(select(EarningRule)).first() is None
    response = owner.post(RULES, data=FORM)
    assert response.status_code == 302
    db.session.rollback()
    rule = db.session.execute(select(EarningRule)).scalar_one()
    assert (rule.award_type, rule.points, str(rule.per), rule.pending_days) == (
        "per_amount", 1, "10.00", 14)
    assert 'name="active" value="0"' in text(owner.get(RULES))
    for _ in range(2):  # a double submit asks for the same state twice
        toggled = owner.post(f"{RULES}{rule.id}/active", data={"active": "0"})
        assert toggled.status_code == 302
        db.session.rollback()
        assert db.session.get(EarningRule, rule.id).active is False
    assert owner.post(f"{RULES}{rule.id}/active", data={"active": "yes"}).status_code == 400
    assert 'name="active" value="1"' in text(owner.get(RULES))
    actions = db.session.execute(select(AuditLog.action).where(
        AuditLog.action.like("rule.%"))).scalars().all()
    assert actions == ["rule.create", "rule.update"]


def test_the_simulator_answers_a_partial_and_writes_nothing(people, tenant, actor, make_member):
    make_member(tenant, "alice")
    programme.create_rule(tenant.id, actor, {"name": "Sign-in", "event_type": "login",
                                             "award": {"type": "fixed", "points": 5},
                                             "active": False})
    programme.create_rule(tenant.id, actor, {"name": "Pay", "event_type": "payment",
                                             "award": {"type": "per_amount", "points": 1,
                                                       "per": "10"}})
    viewer = people["viewer"]
    response = viewer.post("/t/acme/programme/simulate", htmx=True,
                           data={"user_id": "alice", "event_type": "payment", "amount": "35"})
    assert response.status_code == 200 and not is_full_page(response)
    assert "Pay" in text(response) and ">3<" in text(response)
    bad = viewer.post("/t/acme/programme/simulate", htmx=True,
                      data={"event_type": "payment", "amount": "1.234"})
    assert bad.status_code == 422 and "At most two decimal places." in text(bad)
    inactive = viewer.post("/t/acme/programme/simulate", htmx=True,
                           data={"event_type": "login", "level": ""})
    assert "the rule is inactive" in text(inactive)
    db.session.rollback()
    assert db.session.execute(select(AuditLog.action).where(
        AuditLog.action == "programme.event")).first() is None


@pytest.fixture
def paid(tenant, actor, make_member):
    """Records alice's payment of 20.00 under the given event id, the rule Pay giving 8."""
    make_member(tenant, "alice")
    programme.create_rule(tenant.id, actor, {"name": "Pay", "event_type": "payment",
                                             "award": {"type": "fixed", "points": 8}})

    def record(event_id: str) -> None:
        programme.record(tenant.id, actor, lambda o: "", event_id=event_id, user_id="alice",
                         event_type="payment", amount="20")
    return record


def test_the_event_page_revokes(people, paid):
    paid("order-1")
    check_access(people, "GET", "/t/acme/events/order-1/", VIEW, ROLE_PERMISSIONS)
    member_page = text(people["viewer"].get("/t/acme/members/alice/"))
    assert "order-1" in member_page and "Pay (8)" in member_page
    assert "Revoke" not in text(people["viewer"].get("/t/acme/events/order-1/"))
    refused = people["support"].post("/t/acme/events/order-1/revoke", data={"reason": ""})
    assert refused.status_code == 422 and 'class="field-error"' in text(refused)
    done = people["support"].post("/t/acme/events/order-1/revoke", data={"reason": "refund"})
    assert done.status_code == 302
    page = text(people["support"].get("/t/acme/events/order-1/"))
    assert "Revoked" in page and "refund" in page
    assert ADJUST in ROLE_PERMISSIONS["support"]


def test_the_dashboard_shows_points_by_rule_and_pending(people, tenant, actor, make_member):
    make_member(tenant, "alice")
    programme.create_rule(tenant.id, actor, {"name": "Sign-in", "event_type": "login",
                                             "award": {"type": "fixed", "points": 5}})
    programme.create_rule(tenant.id, actor, {"name": "Pay", "event_type": "payment",
                                             "award": {"type": "fixed", "points": 70},
                                             "pending_days": 14})
    programme.record(tenant.id, actor, lambda o: "", event_id="a", user_id="alice",
                     event_type="login")
    programme.record(tenant.id, actor, lambda o: "", event_id="b", user_id="alice",
                     event_type="payment")
    body = text(people["viewer"].get("/t/acme/"))
    assert "Points awarded by rule, 30 days" in body and "Sign-in" in body
    assert "Pending, not yet in it: 70 points." in body


def test_the_time_zone_is_a_setting_and_names_the_portals_times(people, tenant):
    admin = people["admin"]
    bad = admin.post("/t/acme/settings", {"name": "Acme", "max_points_per_operation": "500",
                                          "timezone": "Mars/Base"})
    assert bad.status_code == 422 and 'class="field-error"' in text(bad)
    ok = admin.post("/t/acme/settings", {"name": "Acme", "max_points_per_operation": "500",
                                         "timezone": "Asia/Shanghai"})
    assert ok.status_code == 302
    assert "Times are shown in Asia/Shanghai." in text(admin.get(RULES))


def test_an_event_id_with_slashes_has_its_page_and_revoke(people, paid):
    paid("shop/2026/1")
    member_page = text(people["support"].get("/t/acme/members/alice/"))
    link = member_page.split('href="/t/acme/events/', 1)[1].split('"', 1)[0]
    page = people["support"].get(f"/t/acme/events/{link}")
    assert page.status_code == 200 and "shop/2026/1" in text(page)
    done = people["support"].post("/t/acme/events/shop/2026/1/revoke", data={"reason": "refund"})
    assert done.status_code == 302
    assert "Revoked" in text(people["support"].get(done.headers["Location"]))
