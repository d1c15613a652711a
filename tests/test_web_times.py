"""Times in the portal: the tenant's time zone, named on every time; the audit
log's day filters are the tenant's days."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.services import clock, ledger, tenants
from app.services.context import SYSTEM
from tests.webtools import text

AT = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)  # 2 Dec 02:30 in Shanghai


@pytest.fixture
def shanghai(tenant):
    tenants.update_settings(tenant.id, SYSTEM, name=tenant.name, max_points_per_operation=10000,
                            default_expiry_days=None, timezone="Asia/Shanghai")
    return tenant


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_member_page_dashboard_and_audit_show_tenant_times_named(people, shanghai,
                                                                       make_member, actor, lang):
    with clock.frozen(AT):
        make_member(shanghai, "alice")
        ledger.earn(shanghai.id, actor, user_id="alice", points_amount=5, category="login")
    headers = {"Accept-Language": lang}
    wanted = '<time datetime="2026-12-02T02:30:00+08:00" title="Asia/Shanghai">2026-12-02 02:30'
    for url in ("/t/acme/members/alice/", "/t/acme/", "/t/acme/audit/"):
        body = text(people["owner"].get(url, headers=headers))
        assert wanted in body and "02:30 UTC+8</time>" in body, url
        assert "18:30" not in body, url


def test_a_tenant_in_utc_names_utc(people, tenant, make_member, actor):
    with clock.frozen(AT):
        make_member(tenant, "alice")
        ledger.earn(tenant.id, actor, user_id="alice", points_amount=5, category="login")
    assert "2026-12-01 18:30 UTC</time>" in text(people["owner"].get("/t/acme/members/alice/"))


def test_the_audit_days_are_the_tenants_days(people, shanghai, make_member):
    with clock.frozen(AT):  # 1 Dec in UTC, 2 Dec in Shanghai
        make_member(shanghai, "night-owl")
    owner = people["owner"]
    on_2nd = text(owner.get("/t/acme/audit/?action=member.create&date_from=2026-12-02"
                            "&date_to=2026-12-02"))
    on_1st = text(owner.get("/t/acme/audit/?action=member.create&date_from=2026-12-01"
                            "&date_to=2026-12-01"))
    assert "night-owl" in on_2nd and "night-owl" not in on_1st
    assert "Asia/Shanghai" in on_2nd


def test_the_calendars_edges_in_a_zone_ahead_of_utc(people, shanghai):
    response = people["owner"].get("/t/acme/audit/?date_from=0001-01-01&date_to=9999-12-31")
    assert response.status_code == 200 and "auth.login" in text(response)


def test_the_dashboard_says_when_its_utc_days_begin_in_the_tenants_zone(people, shanghai):
    body = text(people["viewer"].get("/t/acme/"))
    assert "from 08:00 to 08:00 in Asia/Shanghai" in body
    zh = text(people["viewer"].get("/t/acme/", headers={"Accept-Language": "zh-CN"}))
    assert "Asia/Shanghai 时区的 08:00 至次日 08:00" in zh


def test_a_utc_tenants_dashboard_just_says_utc_days(people, tenant):
    assert "Days run from midnight to midnight UTC." in text(people["viewer"].get("/t/acme/"))


def test_the_campaign_window_and_the_simulator_name_the_zone(people, shanghai):
    body = text(people["owner"].get("/t/acme/programme/rules/"))
    assert body.count("Dates and times in Asia/Shanghai.") == 2
