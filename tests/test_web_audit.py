from __future__ import annotations

import re

from app.services import ledger
from app.services.permissions import MANAGE, ROLE_PERMISSIONS
from tests.webtools import check_access, is_full_page, text


def test_it_checks_access(people):
    check_access(people, "GET", "/t/acme/audit/", MANAGE, ROLE_PERMISSIONS)


def test_it_filters_and_shows_the_data(people, tenant, make_member, actor):
    make_member(tenant, "a")
    ledger.earn(tenant.id, actor, user_id="a", points_amount=5, category="login",
                reason="<b>bonus</b>")
    owner = people["owner"]
    body = text(owner.get("/t/acme/audit/?action=points."))
    assert "<code>points.earn</code>" in body and "<code>auth.login</code>" not in body
    assert "&lt;b&gt;bonus&lt;/b&gt;" in body
    assert "<code>member.create</code>" not in text(
        owner.get("/t/acme/audit/?target_type=member&target_id=zz"))
    assert "<code>auth.login</code>" in text(owner.get("/t/acme/audit/?actor=owner@"))
    partial = owner.get("/t/acme/audit/?action=auth", htmx=True)
    assert not is_full_page(partial) and "auth.login" in text(partial)


def test_the_date_range_is_checked(people):
    response = people["owner"].get("/t/acme/audit/?date_from=2026-02-02&date_to=2026-02-01")
    assert response.status_code == 422 and "after the start" in text(response)
    assert people["owner"].get("/t/acme/audit/?date_from=nonsense").status_code == 422


def test_filters_with_a_nul_character_are_refused_not_a_500(people):
    response = people["owner"].get("/t/acme/audit/?actor=a%00&action=b%00&target_id=c%00")
    assert response.status_code == 422 and "NUL" in text(response)


def test_the_calendars_first_and_last_days_are_valid_bounds(people):
    response = people["owner"].get("/t/acme/audit/?date_from=0001-01-01&date_to=9999-12-31")
    assert response.status_code == 200 and "<code>auth.login</code>" in text(response)


def test_it_pages_by_cursor(people, tenant, make_member):
    for i in range(60):
        make_member(tenant, f"m{i}")
    first = text(people["owner"].get("/t/acme/audit/?action=member.create", htmx=True))
    cursor = re.search(r"cursor=([\w-]+)", first).group(1)
    second = text(people["owner"].get(f"/t/acme/audit/?action=member.create&cursor={cursor}",
                                      htmx=True))
    assert first.count("<tr>") == 50 and second.count("<tr>") == 10


def test_other_tenants_entries_never_show(people, other_tenant, make_member):
    make_member(other_tenant, "theirs")
    assert "theirs" not in text(people["owner"].get("/t/acme/audit/"))
