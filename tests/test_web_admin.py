"""Levels, tenant settings, staff and API clients."""
from __future__ import annotations

import logging
import re

from app.extensions import db
from app.models import Tenant
from app.services import api_clients, levels, staff
from app.services.permissions import (
    MANAGE, MANAGE_API_CLIENTS, MANAGE_STAFF, ROLE_PERMISSIONS,
)
from tests.conftest import SYSTEM
from tests.webtools import check_access, fresh, is_full_page, text


def test_it_checks_every_route(people, tenant):
    level = levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=100)
    client = api_clients.create(tenant.id, SYSTEM, name="shop", permissions="can_view_points")
    viewer_id = staff.find_by_email("viewer@acme.test").id
    routes = [
        ("GET", "/t/acme/levels/", MANAGE), ("POST", "/t/acme/levels/", MANAGE),
        ("GET", f"/t/acme/levels/{level.id}/edit", MANAGE),
        ("POST", f"/t/acme/levels/{level.id}/edit", MANAGE),
        ("GET", "/t/acme/settings", MANAGE), ("POST", "/t/acme/settings", MANAGE),
        ("GET", "/t/acme/staff/", MANAGE_STAFF), ("POST", "/t/acme/staff/", MANAGE_STAFF),
        ("POST", f"/t/acme/staff/{viewer_id}/role", MANAGE_STAFF),
        ("GET", "/t/acme/api-clients/", MANAGE_API_CLIENTS),
        ("POST", "/t/acme/api-clients/", MANAGE_API_CLIENTS),
        ("POST", f"/t/acme/api-clients/{client.client.id}/revoke", MANAGE_API_CLIENTS),
    ]
    for method, url, needed in routes:
        check_access(people, method, url, needed, ROLE_PERMISSIONS)
    check_access({k: v for k, v in people.items() if k != "owner"}, "POST",
                 f"/t/acme/levels/{level.id}/delete", MANAGE, ROLE_PERMISSIONS)
    check_access({k: v for k, v in people.items() if k in ("support", "viewer", "admin")},
                 "POST", f"/t/acme/staff/{viewer_id}/deactivate", MANAGE_STAFF, ROLE_PERMISSIONS)


def test_another_tenants_objects_are_not_found(people, other_tenant):
    level = levels.create(other_tenant.id, SYSTEM, level_name="X", min_points=1)
    client = api_clients.create(other_tenant.id, SYSTEM, name="x", permissions="can_view_points")
    owner = people["owner"]
    assert owner.get(f"/t/acme/levels/{level.id}/edit").status_code == 404
    assert owner.post(f"/t/acme/levels/{level.id}/delete").status_code == 404
    assert owner.post(f"/t/acme/api-clients/{client.client.id}/revoke").status_code == 404
    outsider_id = staff.find_by_email("owner@globex.test").id
    assert owner.post(f"/t/acme/staff/{outsider_id}/deactivate").status_code == 404


def test_an_id_beyond_64_bits_is_not_found_not_a_500(people):
    owner, huge = people["owner"], 2**64
    assert owner.get(f"/t/acme/levels/{huge}/edit").status_code == 404
    assert owner.post(f"/t/acme/levels/{huge}/delete").status_code == 404
    assert owner.post(f"/t/acme/api-clients/{huge}/revoke").status_code == 404
    assert owner.post(f"/t/acme/staff/{huge}/role", {"role": "viewer"}).status_code == 404
    assert owner.post(f"/t/acme/staff/{huge}/deactivate").status_code == 404


def test_levels_crud_with_inline_errors(people, tenant):
    admin = people["admin"]
    assert admin.post("/t/acme/levels/", {"level_name": "Gold", "min_points": "100"}).status_code == 302
    again = admin.post("/t/acme/levels/", {"level_name": "Gold", "min_points": "100"})
    assert again.status_code == 422 and "already has this name" in text(again)
    assert 'value="Gold"' in text(again)
    partial = admin.get("/t/acme/levels/", htmx=True)
    assert not is_full_page(partial) and "Gold" in text(partial)
    level = levels.list_levels(tenant.id)[0]
    assert admin.post(f"/t/acme/levels/{level.id}/edit", {"level_name": "Gold 2",
                      "min_points": "150"}).status_code == 302
    assert admin.post(f"/t/acme/levels/{level.id}/delete").status_code == 302
    fresh()
    assert levels.list_levels(tenant.id) == []


def test_settings_are_validated_by_the_service(people, tenant):
    bad = people["admin"].post("/t/acme/settings", {"name": "", "max_points_per_operation": "0"})
    assert bad.status_code == 422
    ok = people["admin"].post("/t/acme/settings", {"name": "Acme+", "max_points_per_operation": "500",
                                                  "default_expiry_days": "",
                                                  "expiry_notice_days": "14"})
    assert ok.status_code == 302
    fresh()
    saved = db.session.get(Tenant, tenant.id)
    assert (saved.max_points_per_operation, saved.expiry_notice_days) == (500, 14)


def test_staff_add_change_role_deactivate(people, tenant):
    owner = people["owner"]
    weak = owner.post("/t/acme/staff/", {"email": "new@acme.test", "role": "support",
                                         "password": "password"})
    assert weak.status_code == 422 and "too common" in text(weak)
    assert owner.post("/t/acme/staff/", {"email": "new@acme.test", "role": "support",
                                         "password": "a long enough secret"}).status_code == 302
    fresh()
    new = staff.find_by_email("new@acme.test")
    fresh()
    assert staff.role_in(new.id, tenant.id) == "support"
    assert owner.post(f"/t/acme/staff/{new.id}/role", {"role": "admin"}).status_code == 302
    fresh()
    assert staff.role_in(new.id, tenant.id) == "admin"
    assert owner.post(f"/t/acme/staff/{new.id}/deactivate").status_code == 302
    fresh()
    assert staff.role_in(new.id, tenant.id) is None
    me = staff.find_by_email("owner@acme.test")
    last_owner = owner.post(f"/t/acme/staff/{me.id}/role", {"role": "viewer"})
    assert last_owner.status_code == 422 and "at least one owner" in text(last_owner)


def test_api_client_secret_is_shown_once(people, tenant):
    owner = people["owner"]
    created = owner.post("/t/acme/api-clients/", {"name": "shop",
                                                  "permissions": ["can_view_points", "can_earn_points"]})
    assert created.status_code == 303 and created.headers["Location"] == "/t/acme/api-clients/"
    shown = owner.get("/t/acme/api-clients/")
    secret = re.search(r"data-secret>([^<]+)<", text(shown)).group(1)
    listing = text(owner.get("/t/acme/api-clients/"))
    assert "shop" in listing and secret not in listing and "never" in listing
    client = api_clients.list_clients(tenant.id)[0]
    assert owner.post(f"/t/acme/api-clients/{client.id}/revoke").status_code == 302
    assert "revoked" in text(owner.get("/t/acme/api-clients/"))
    none = owner.post("/t/acme/api-clients/", {"name": "x"})
    assert none.status_code == 422


def test_creating_an_api_client_is_post_redirect_get(app, people, tenant, caplog):
    """A reload of the page after creating one (the browser repeats the GET the
    redirect led to) creates nothing more and no longer shows the secret; the
    secret is in no URL, no readable cookie and no log line."""
    owner = people["owner"]
    jifen_log = logging.getLogger("jifen")  # does not propagate to caplog's root handler
    jifen_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="jifen")  # whatever level an earlier test left
    try:
        created = owner.post("/t/acme/api-clients/", {"name": "Shop backend",
                                                      "permissions": ["can_view_points"]})
        cookie = owner.client._client.get_cookie("session").value
        shown = owner.get(created.headers["Location"])
        reloaded = owner.get(created.headers["Location"])
    finally:
        jifen_log.removeHandler(caplog.handler)
    assert created.status_code == 303
    secret = re.search(r"data-secret>([^<]+)<", text(shown)).group(1)
    assert shown.status_code == 200 and "Shop backend" in text(shown)
    assert reloaded.status_code == 200 and secret not in text(reloaded)
    assert [c.name for c in api_clients.list_clients(tenant.id)] == ["Shop backend"]
    assert secret not in created.headers["Location"] and secret not in cookie
    session_data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert "jifen_once_api_client" in session_data and secret not in repr(session_data)
    assert all(secret not in r.getMessage() and secret not in str(vars(r))
               for r in caplog.records)
    assert "no-store" in shown.headers["Cache-Control"]


def test_every_portal_create_redirects_after_success(people, tenant):
    """Staff, levels, VIP tags and settings answer a successful form post with a
    redirect too (the points forms carry one-time keys: see test_web_members)."""
    owner = people["owner"]
    for url, data in [
        ("/t/acme/staff/", {"email": "new@acme.test", "role": "viewer",
                            "password": "a long enough passphrase"}),
        ("/t/acme/levels/", {"level_name": "Gold", "min_points": "100"}),
        ("/t/acme/vip-tags/", {"tag_name": "Gold", "tag_type": "vip", "rank": "2",
                               "duration_days": "30"}),
        ("/t/acme/settings", {"name": "Acme", "max_points_per_operation": "500"}),
    ]:
        response = owner.post(url, data)
        assert response.status_code == 302 and response.headers["Location"] == url, url
