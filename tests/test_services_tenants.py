"""Tenants and their settings."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.services import tenants
from app.services.errors import DomainError
from tests.conftest import SYSTEM
from tests.ledger_helpers import refused


def test_it_creates_a_tenant_with_the_default_maximum(app):
    tenant = tenants.create("acme-2", "Acme", SYSTEM)
    assert (tenant.slug, tenant.max_points_per_operation, tenant.default_expiry_days) == (
        "acme-2", 10000, None)
    assert tenants.get_by_slug("acme-2").id == tenant.id
    audit = db.session.execute(select(AuditLog).where(AuditLog.action == "tenant.create")
                               ).scalar_one()
    assert (audit.tenant_id, audit.data) == (tenant.id, {"slug": "acme-2", "name": "Acme"})


@pytest.mark.parametrize("slug", ["", "Acme", "-acme", "acme-", "a_b", "a b", "x" * 64, None, 5])
def test_it_refuses_bad_slugs(app, slug):
    with refused("VALIDATION_ERROR") as info:
        tenants.create(slug, "Name", SYSTEM)
    assert list(info.value.details["field_errors"]) == ["slug"]


def test_it_refuses_a_taken_slug(tenant):
    with refused("VALIDATION_ERROR") as info:
        tenants.create("acme", "Again", SYSTEM)
    assert list(info.value.details["field_errors"]) == ["slug"]


@pytest.mark.parametrize("fields, bad", [
    ({"max_points_per_operation": 0}, "max_points_per_operation"),
    ({"max_points_per_operation": True}, "max_points_per_operation"),
    ({"max_points_per_operation": 10**10}, "max_points_per_operation"),
    ({"default_expiry_days": 0}, "default_expiry_days"),
    ({"default_expiry_days": 1.5}, "default_expiry_days"),
])
def test_it_validates_settings(app, fields, bad):
    with refused("VALIDATION_ERROR") as info:
        tenants.create("ok", "Ok", SYSTEM, **fields)
    assert list(info.value.details["field_errors"]) == [bad]


def test_it_updates_settings_and_audits_before_and_after(tenant, actor):
    tenants.update_settings(tenant.id, actor, name="Acme 2", max_points_per_operation=500,
                            default_expiry_days=90)
    assert (tenants.get(tenant.id).max_points_per_operation,
            tenants.get(tenant.id).default_expiry_days) == (500, 90)
    audit = db.session.execute(select(AuditLog).where(AuditLog.action == "tenant.settings")
                               ).scalar_one()
    assert audit.data["before"]["max_points_per_operation"] == 10000
    assert audit.data["after"] == {"name": "Acme 2", "max_points_per_operation": 500,
                                   "default_expiry_days": 90, "timezone": "UTC",
                                   "expiry_notice_days": 7, "default_country_code": "86"}
    with refused("VALIDATION_ERROR"):
        tenants.update_settings(tenant.id, actor, name="", max_points_per_operation=5,
                                default_expiry_days=None)


@pytest.mark.parametrize("days", [0, -1, 366, True, "7"])
def test_the_expiry_notice_days_are_a_whole_number_of_days_up_to_a_year(tenant, actor, days):
    with refused("VALIDATION_ERROR") as info:
        tenants.update_settings(tenant.id, actor, name="Acme", max_points_per_operation=500,
                                default_expiry_days=None, expiry_notice_days=days)
    assert list(info.value.details["field_errors"]) == ["expiry_notice_days"]


def test_the_expiry_notice_days_change_and_are_audited(tenant, actor):
    tenants.update_settings(tenant.id, actor, name="Acme", max_points_per_operation=500,
                            default_expiry_days=None, expiry_notice_days=14)
    assert tenants.get(tenant.id).expiry_notice_days == 14
    audit = db.session.execute(select(AuditLog).where(AuditLog.action == "tenant.settings")
                               ).scalar_one()
    assert (audit.data["before"]["expiry_notice_days"],
            audit.data["after"]["expiry_notice_days"]) == (7, 14)


def test_an_unknown_tenant_is_not_found(app):
    with pytest.raises(DomainError) as info:
        tenants.get(12345)
    assert info.value.code == "NOT_FOUND"
    assert tenants.get_by_slug("nope") is None


def test_the_time_zone_defaults_to_utc_and_is_an_iana_name(tenant, actor):
    assert tenants.get(tenant.id).timezone == "UTC"
    tenants.update_settings(tenant.id, actor, name="Acme", max_points_per_operation=500,
                            default_expiry_days=None, timezone="Asia/Shanghai")
    assert tenants.get(tenant.id).timezone == "Asia/Shanghai"
    for bad in ("Mars/Olympus", "", "../etc/passwd", 8, "asia/shanghai"):
        with refused("VALIDATION_ERROR") as info:
            tenants.update_settings(tenant.id, actor, name="Acme", max_points_per_operation=5,
                                    default_expiry_days=None, timezone=bad)
        assert list(info.value.details["field_errors"]) == ["timezone"]
    assert tenants.get(tenant.id).timezone == "Asia/Shanghai"
