"""Text a database cannot store (NUL; a lone surrogate cannot arrive in a form,
whose bytes Werkzeug decodes) is an inline error on the field that carried it,
in every portal form and in the batch CSV upload, and changes nothing."""
from __future__ import annotations

import importlib
import io
import pkgutil

import pytest
from flask_wtf import FlaskForm

import app.web
from app.extensions import db
from app.services import ledger
from app.web.forms import Form
from tests.api_fixtures import API_ACTOR
from tests.conftest import PASSWORD
from tests.ledger_helpers import snapshot
from tests.webtools import KEY_RE, Portal, text

STORED = "cannot be stored"


def _form_classes() -> list[type]:
    for module in pkgutil.walk_packages(app.web.__path__, "app.web."):
        importlib.import_module(module.name)
    found, todo = [], [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("app.web."):
                found.append(sub)
    return found


def test_every_portal_form_is_one_of_ours():
    classes = _form_classes()
    assert len(classes) > 15
    assert [c.__qualname__ for c in classes if not issubclass(c, Form)] == []


@pytest.fixture
def ctx(people, tenant, make_member):
    make_member(tenant, "alice")
    tx = ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=50,
                     category="login")
    return {"tx_id": tx.transaction.id}


def _key(portal: Portal, url: str) -> str:
    return KEY_RE.search(text(portal.get(url))).group(1)


# (url, a valid form, the fields poisoned one at a time)
FORMS = [
    ("/t/acme/levels/", {"level_name": "Gold", "min_points": "100", "benefits": "b"},
     ["level_name", "benefits"]),
    ("/t/acme/settings", {"name": "Acme", "max_points_per_operation": "10000",
                          "default_expiry_days": ""}, ["name"]),
    ("/t/acme/staff/", {"email": "new@acme.test", "display_name": "New", "role": "support",
                        "password": "a long enough secret"},
     ["email", "display_name", "password", "role"]),
    ("/t/acme/api-clients/", {"name": "shop", "permissions": ["can_view_points"],
                              "rate_limit": "20/hour"}, ["name", "rate_limit", "permissions"]),
    ("/t/acme/vip-tags/", {"tag_name": "Gold", "tag_type": "vip", "rank": "1",
                           "duration_days": "30", "points_price": ""}, ["tag_name", "tag_type"]),
    ("/t/acme/members/alice/earn", {"points_amount": "5", "category": "login", "reason": "r"},
     ["reason", "category"]),
    ("/t/acme/members/alice/adjust", {"points_amount": "5", "category": "manual", "reason": "r"},
     ["reason", "category"]),
]
CASES = [pytest.param(url, data, field, id=f"{url}:{field}")
         for url, data, fields in FORMS for field in fields]


@pytest.mark.parametrize("url, data, field", CASES)
def test_a_nul_in_any_field_is_an_inline_error(people, ctx, url, data, field):
    owner = people["owner"]
    form = dict(data)
    if url.startswith("/t/acme/members/"):
        form["idempotency_key"] = _key(owner, "/t/acme/members/alice/")
    value = form[field]
    form[field] = [v + "\x00" for v in value] if isinstance(value, list) else value + "\x00x"
    db.session.rollback()
    before = snapshot()
    response = owner.post(url, form)
    assert response.status_code == 422, text(response)[:2000]
    assert STORED in text(response)
    db.session.rollback()
    assert snapshot() == before


def test_the_reverse_form_refuses_a_nul(people, ctx):
    owner = people["owner"]
    db.session.rollback()
    before = snapshot()
    response = owner.post(f"/t/acme/members/alice/transactions/{ctx['tx_id']}/reverse", {
        "reason": "oops\x00", "idempotency_key": _key(owner, "/t/acme/members/alice/")})
    assert response.status_code == 422 and STORED in text(response)
    db.session.rollback()
    assert snapshot() == before


def test_the_sign_in_form_refuses_a_nul_without_trying_the_password(app, tenant, make_staff,
                                                                   fast_passwords):
    user = make_staff(tenant, "owner")
    portal = Portal(app.test_client())
    db.session.rollback()
    before = snapshot()
    response = portal.login(user.email + "\x00", PASSWORD)
    assert response.status_code == 422 and STORED in text(response)
    response = portal.login(user.email, PASSWORD + "\x00")
    assert response.status_code == 422 and STORED in text(response)
    db.session.rollback()
    assert snapshot() == before  # not even a failed sign-in to audit


def test_the_audit_filter_refuses_a_nul(people, ctx):
    response = people["owner"].get("/t/acme/audit/", query_string={"actor": "a\x00"})
    assert response.status_code == 422 and STORED in text(response)


def _upload(portal: Portal, content: bytes):
    return portal.post("/t/acme/batch-earn/", {"file": (io.BytesIO(content), "e.csv")},
                       content_type="multipart/form-data")


def test_a_csv_with_a_nul_is_refused_naming_its_line(people, ctx):
    db.session.rollback()
    before = snapshot()
    response = _upload(people["owner"], b"user_id,points_amount,category,reason,note\n"
                                        b"alice,1,login,ok,fine\n\nalice,2,login,ok,bad\x00\n")
    assert response.status_code == 422
    assert "Line 4 contains a character that cannot be stored (U+0000)." in text(response)
    db.session.rollback()
    assert snapshot() == before


def test_a_csv_with_an_encoded_surrogate_is_not_utf8(people, ctx):
    response = _upload(people["owner"], b"user_id,points_amount,category,reason\n"
                                        b"alice,1,login,\xed\xa0\x80\n")
    assert response.status_code == 422 and "not UTF-8" in text(response)


def test_the_batch_confirm_refuses_a_nul_in_the_text_it_carries(people, ctx):
    owner = people["owner"]
    preview = _upload(owner, b"user_id,points_amount,category,reason\nalice,1,login,ok\n")
    key = KEY_RE.search(text(preview)).group(1)
    db.session.rollback()
    before = snapshot()
    response = owner.post("/t/acme/batch-earn/confirm", {
        "idempotency_key": key,
        "csv_text": "user_id,points_amount,category,reason\nalice,1,login,o\x00k\n"})
    assert response.status_code == 422
    db.session.rollback()
    assert snapshot() == before


def test_a_hidden_field_s_problem_is_shown_on_the_form(people, ctx):
    response = people["owner"].post("/t/acme/members/alice/earn", {
        "points_amount": "5", "category": "login", "idempotency_key": "portal:a\x00"})
    assert response.status_code == 422 and STORED in text(response)
