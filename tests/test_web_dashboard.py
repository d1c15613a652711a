from __future__ import annotations

from app.services import points
from app.services.permissions import ROLE_PERMISSIONS, VIEW
from tests.webtools import check_access, is_full_page, text


def test_it_checks_access(people):
    check_access(people, "GET", "/t/acme/", VIEW, ROLE_PERMISSIONS)
    assert people["owner"].get("/t/nowhere/").status_code == 404
    assert people["owner"].get("/t/acme%00/").status_code == 404  # not a 500 on PostgreSQL


def test_it_shows_the_numbers_and_a_chart(people, tenant, make_member, actor):
    make_member(tenant, "a", display_name="Ann")
    points.earn(tenant.id, actor, user_id="a", points_amount=1234, category="login")
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
