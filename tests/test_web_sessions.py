"""A portal session ends on the server's word: signing out, a password change
and a removed access kill every cookie issued before (a copy replayed later
gets the sign-in page), and so do SESSION_IDLE_MINUTES and SESSION_MAX_HOURS."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services import clock
from app.services import staff as staff_service
from tests.conftest import PASSWORD, SYSTEM
from tests.webtools import Portal, text

NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
def owner(tenant, make_staff, fast_passwords):
    return make_staff(tenant, "owner")


def _signed_in(app, user) -> Portal:
    portal = Portal(app.test_client())
    assert portal.login(user.email, PASSWORD).status_code == 302
    return portal


def _cookie(portal: Portal) -> str:
    return portal.client._client.get_cookie("session").value


def _replay(app, cookie: str, url: str = "/t/acme/"):
    """The captured cookie, sent from another browser."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    with app.app_context():
        return thief.get(url)


def _is_sign_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_cookie_captured_before_sign_out_is_dead_after_it(app, owner):
    portal = _signed_in(app, owner)
    captured = _cookie(portal)
    assert _replay(app, captured).status_code == 200  # the copy works while the session lives
    assert portal.post("/logout").status_code == 302
    assert _is_sign_in(_replay(app, captured))
    assert _is_sign_in(portal.get("/t/acme/"))


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, owner):
    portal = _signed_in(app, owner)
    other_browser = _signed_in(app, owner)
    captured = _cookie(portal)
    response = portal.post("/account/password", {"current_password": PASSWORD,
                                                 "new_password": NEW_PASSWORD,
                                                 "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert portal.get("/t/acme/").status_code == 200  # this session carries on
    assert _is_sign_in(_replay(app, captured))
    assert _is_sign_in(other_browser.get("/t/acme/"))
    assert Portal(app.test_client()).login(owner.email, PASSWORD).status_code == 401
    assert Portal(app.test_client()).login(owner.email, NEW_PASSWORD).status_code == 302


def test_a_refused_password_change_changes_nothing(app, owner):
    portal = _signed_in(app, owner)
    captured = _cookie(portal)
    for data, message in [
        ({"current_password": "wrong one", "new_password": NEW_PASSWORD,
          "confirm_password": NEW_PASSWORD}, "This is not your current password."),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
          "confirm_password": NEW_PASSWORD + "!"}, "The two new passwords differ."),
        ({"current_password": PASSWORD, "new_password": "password",
          "confirm_password": "password"}, "This password is too common"),
    ]:
        response = portal.post("/account/password", data)
        assert response.status_code == 422 and message in text(response)
    assert _replay(app, captured).status_code == 200
    assert portal.get("/account/password").status_code == 200
    assert Portal(app.test_client()).login(owner.email, PASSWORD).status_code == 302


def test_removing_access_ends_it_at_once_and_kills_the_cookie(app, tenant, other_tenant,
                                                               make_staff, fast_passwords):
    owner = make_staff(tenant, "owner")
    support = make_staff(tenant, "support")
    staff_service.create_or_add_role(other_tenant.id, SYSTEM, email=support.email, role="viewer")
    portal = _signed_in(app, support)
    captured = _cookie(portal)
    assert portal.get("/t/acme/").status_code == 200
    admin = _signed_in(app, owner)
    assert admin.post(f"/t/acme/staff/{support.id}/deactivate").status_code in (200, 302)
    assert _is_sign_in(portal.get("/t/acme/"))
    assert _is_sign_in(_replay(app, captured, "/t/globex/"))
    # Signing in again: the other tenant is open, this one no longer is.
    again = _signed_in(app, support)
    assert again.get("/t/globex/").status_code == 200
    assert again.get("/t/acme/").status_code in (403, 404)


def test_an_idle_session_expires(app, owner):
    app.config["SESSION_IDLE_MINUTES"] = 30
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with clock.frozen(start):
        portal = _signed_in(app, owner)
        captured = _cookie(portal)
        clock.advance(timedelta(minutes=29))
        assert portal.get("/t/acme/").status_code == 200  # used: the idle time starts again
        clock.advance(timedelta(minutes=29))
        assert portal.get("/t/acme/").status_code == 200
        assert _is_sign_in(_replay(app, captured))  # the old copy was last used 58 minutes ago
        clock.advance(timedelta(minutes=31))
        assert _is_sign_in(portal.get("/t/acme/"))


def test_a_session_ends_after_its_maximum_lifetime_however_busy(app, owner):
    app.config["SESSION_MAX_HOURS"] = 2
    with clock.frozen(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)):
        portal = _signed_in(app, owner)
        for _ in range(7):
            clock.advance(timedelta(minutes=17))
            assert portal.get("/t/acme/").status_code == 200
        clock.advance(timedelta(minutes=2))
        assert _is_sign_in(portal.get("/t/acme/"))
