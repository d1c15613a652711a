"""A text field's maxlength in the portal is the limit its service enforces: the
forms' Length validators take the services' constants, and WTForms writes the
attribute from them (no number in a template)."""
from __future__ import annotations

import re

import pytest

from app.services import api_clients, ledger, levels, staff, tenants, validation, vip
from app.services.errors import ValidationFailed
from app.services.validation import FieldErrors
from tests.conftest import SYSTEM
from tests.webtools import Portal, text

PAGES = [  # page, field name, the service's limit
    ("/t/acme/members/carol/", "reason", validation.REASON_MAX),  # earn, spend, adjust
    ("reverse", "reason", validation.REASON_MAX),
    ("/t/acme/levels/", "level_name", levels.LEVEL_NAME_MAX),
    ("/t/acme/levels/", "benefits", levels.BENEFITS_MAX),
    ("/t/acme/api-clients/", "name", api_clients.NAME_MAX),
    ("/t/acme/settings", "name", tenants.NAME_MAX),
    ("/t/acme/vip-tags/", "tag_name", vip.TAG_NAME_MAX),
    ("/t/acme/vip-tags/", "tag_type", vip.TAG_TYPE_MAX),
    ("/login", "email", validation.EMAIL_MAX),
    ("/login", "password", staff.PASSWORD_MAX),
]


def _maxlengths(html: str, name: str) -> list[int | None]:
    found = []
    for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", html):
        if f'name="{name}"' in tag:
            limit = re.search(r'maxlength="(\d+)"', tag)
            found.append(int(limit.group(1)) if limit else None)
    return found


@pytest.mark.parametrize("page, name, limit", PAGES, ids=lambda v: str(v))
def test_each_text_fields_maxlength_is_its_services_limit(app, people, tenant, make_member,
                                                          actor, page, name, limit):
    make_member(tenant, "carol")
    if page == "reverse":
        tx = ledger.earn(tenant.id, actor, user_id="carol", points_amount=5,
                         category="login").transaction
        page = f"/t/acme/members/carol/transactions/{tx.id}/reverse"
    client = Portal(app.test_client()) if page == "/login" else people["owner"]
    response = client.get(page)
    assert response.status_code == 200
    found = _maxlengths(text(response), name)
    assert found and set(found) == {limit}, found


SERVICES = [  # what is checked, its limit, a call storing a text, the field refused
    ("tenant name", tenants.NAME_MAX, "name", lambda tenant, value: tenants.update_settings(
        tenant.id, SYSTEM, name=value, max_points_per_operation=10, default_expiry_days=None)),
    ("api client name", api_clients.NAME_MAX, "name", lambda tenant, value: api_clients.create(
        tenant.id, SYSTEM, name=value, permissions="can_view_points")),
    ("level name", levels.LEVEL_NAME_MAX, "level_name", lambda tenant, value: levels.create(
        tenant.id, SYSTEM, level_name=value, min_points=len(value))),
    ("benefits", levels.BENEFITS_MAX, "benefits", lambda tenant, value: levels.create(
        tenant.id, SYSTEM, level_name=f"L{len(value)}", min_points=len(value), benefits=value)),
    ("tag name", vip.TAG_NAME_MAX, "tag_name", lambda tenant, value: vip.create_tag(
        tenant.id, SYSTEM, tag_name=value, tag_type="vip", rank=1, duration_days=1)),
    ("tag type", vip.TAG_TYPE_MAX, "tag_type", lambda tenant, value: vip.create_tag(
        tenant.id, SYSTEM, tag_name=f"T{len(value)}", tag_type=value, rank=1, duration_days=1)),
]


@pytest.mark.parametrize("what, limit, field, store", SERVICES, ids=[s[0] for s in SERVICES])
def test_each_service_takes_text_up_to_its_limit_and_no_more(tenant, what, limit, field, store):
    store(tenant, "x" * limit)
    with pytest.raises(ValidationFailed) as info:
        store(tenant, "y" * (limit + 1))
    assert list(info.value.field_errors) == [field]


def test_the_reason_and_email_limits_are_the_checks_own():
    errors = FieldErrors()
    validation.check_reason(errors, "x" * validation.REASON_MAX)
    assert not errors
    validation.check_reason(errors, "x" * (validation.REASON_MAX + 1))
    assert "reason" in errors
    local = "a" * (validation.EMAIL_MAX - len("@b.cd"))
    assert validation.check_email(FieldErrors(), f"{local}@b.cd") is not None
    assert validation.check_email(FieldErrors(), f"{local}x@b.cd") is None
