from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestingConfig as _TestingConfig
from app.extensions import db
from app.models import AuditLog
from app.web.auth.views import safe_next
from tests.conftest import PASSWORD
from tests.webtools import CSRF_RE, Portal, text


@pytest.fixture
def owner(tenant, make_staff, fast_passwords):
    return make_staff(tenant, "owner")


def test_it_signs_in_and_out(app, owner):
    portal = Portal(app.test_client())
    response = portal.login(owner.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert portal.post("/logout", csrf=False).status_code == 400  # CSRF on sign-out too
    assert portal.post("/logout").status_code == 302
    assert portal.get("/t/acme/").status_code == 302


def test_a_wrong_password_is_refused_and_audited(app, owner, tenant):
    portal = Portal(app.test_client())
    response = portal.login(owner.email, "not the password")
    assert response.status_code == 401 and "Wrong email or password." in text(response)
    actions = db.session.execute(select(AuditLog.action).where(
        AuditLog.tenant_id == tenant.id)).scalars().all()
    assert "auth.login_failed" in actions


def test_a_nul_character_in_the_email_is_a_form_error_not_a_500(app, owner):
    """PostgreSQL text cannot hold NUL: the form refuses it (app/web/forms.py), so
    neither the lookup nor an audit row ever sees it."""
    portal = Portal(app.test_client())
    response = portal.login(owner.email + "\x00", PASSWORD)
    assert response.status_code == 422 and "cannot be stored" in text(response)
    assert db.session.execute(select(AuditLog.actor_label).where(
        AuditLog.action == "auth.login_failed")).first() is None


@pytest.mark.parametrize("target,expected", [
    ("/t/acme/members/", "/t/acme/members/"), ("https://evil.example/", None),
    ("//evil.example/x", None), ("/\\evil", None), ("javascript:alert(1)", None)])
def test_next_stays_on_this_host(target, expected):
    assert safe_next(target) == expected


def test_next_is_followed_after_sign_in(app, owner):
    client = app.test_client()
    page = client.get("/login?next=/t/acme/members/")
    token = CSRF_RE.search(text(page)).group(1)
    response = client.post("/login?next=/t/acme/members/", data={
        "email": owner.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/t/acme/members/")


def test_failed_sign_ins_are_limited_per_account(database_url, tenant, make_staff, fast_passwords):
    user = make_staff(tenant, "owner")
    config = _TestingConfig(database_url)
    config.RATELIMIT_ENABLED = True
    config.LOGIN_LIMIT_PER_ACCOUNT = "3 per 15 minutes"
    limited = create_app(config)
    portal = Portal(limited.test_client())
    statuses = [portal.login(user.email, "wrong").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    blocked = portal.login(user.email, PASSWORD)
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    assert "Slow down" in text(blocked) and "<html" in text(blocked)
    other = make_staff(tenant, "viewer")
    assert portal.login(other.email, PASSWORD).status_code == 302


def test_the_language_choice_is_saved_on_the_account(app, owner):
    portal = Portal(app.test_client())
    portal.login(owner.email, PASSWORD)
    assert portal.post("/language", {"locale": "zh_Hans_CN", "next": "/t/acme/"}).status_code == 302
    db.session.expire_all()
    db.session.rollback()
    assert db.session.get(type(owner), owner.id).locale == "zh_Hans_CN"
    assert portal.post("/language", {"locale": "fr"}).status_code == 302


def test_the_templates_csrf_token_is_flask_wtfs_for_this_session(app):
    """Templates get the request's token from g once Flask-WTF has made it: the
    same token Flask-WTF gives, valid for this session only."""
    from flask import session
    from flask_wtf.csrf import generate_csrf, validate_csrf
    from wtforms import ValidationError

    template = app.jinja_env.from_string("{{ csrf_token() }} {{ csrf_token() }}")
    tokens = []
    for _ in range(2):  # two visitors, each with a fresh session (and request: g)
        with app.app_context(), app.test_request_context("/"):
            first, again = template.render().split()
            assert first == again == generate_csrf()
            validate_csrf(first)
            tokens.append((first, dict(session)))
    assert tokens[0][0] != tokens[1][0]
    with app.app_context(), app.test_request_context("/"):
        session.update(tokens[1][1])
        with pytest.raises(ValidationError):
            validate_csrf(tokens[0][0])  # the first visitor's token is not the second's
