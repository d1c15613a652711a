"""Tenants and their settings."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import gettext as _
from sqlalchemy import BigInteger, bindparam, exists, func, select

from app.database import execute_lean, is_postgres
from app.extensions import db
from app.models import Tenant, WebhookEndpoint
from app.services import audit, clock, contact
from app.services.context import Actor
from app.services.errors import NOT_FOUND, DomainError
from app.services.uow import transactional
from app.services.validation import FieldErrors, check_positive_int, check_text

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_POINTS_CEILING = 1_000_000_000
MAX_EXPIRY_DAYS = 36500
# points.expiring_soon: how many days ahead a member's lots are announced.
MAX_NOTICE_DAYS = 365
NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """A tenant's columns as read: its settings, fresh from the database."""

    id: int
    slug: str
    name: str
    max_points_per_operation: int
    default_expiry_days: int | None
    created_at: datetime
    catalogue_version: int
    expiry_notice_days: int
    timezone: str
    default_country_code: str

    @classmethod
    def of(cls, source: Any) -> TenantRecord:
        """From a row with the tenants table's columns (a Core row or a Tenant)."""
        return cls(*(getattr(source, name) for name in cls.__dataclass_fields__))


DEFAULT_TIMEZONE = "UTC"


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


def check_timezone(errors: FieldErrors, value: Any) -> str | None:
    """An IANA time zone name that zoneinfo knows (e.g. Asia/Shanghai)."""
    if not isinstance(value, str) or value not in _zone_names():
        errors.add("timezone", _("Not a known time zone; use an IANA name such as "
                                 "Asia/Shanghai."))
        return None
    return value


def zone(tenant: TenantRecord | Tenant) -> ZoneInfo:
    """The tenant's time zone."""
    return ZoneInfo(tenant.timezone or DEFAULT_TIMEZONE)


def get(tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise DomainError(NOT_FOUND)
    return tenant


# Namespace of the advisory locks that order level changes and level-deriving writes.
_LEVELS_LOCK = 0x4A46_4C56 << 24  # "JFLV"


def levels_lock_key(tenant_id: int) -> int:
    return _LEVELS_LOCK + tenant_id


@dataclass(frozen=True, slots=True)
class WriteTenant(TenantRecord):
    """The tenant as a write reads it: its settings, and whether any live webhook
    endpoint of the tenant may want to hear of the write (if not, the outbox is not
    asked: one statement fewer per write)."""

    listening: bool


# Built once: each call is a compiled-cache hit. A Core row, not the ORM object:
# always read fresh, and no identity-map bookkeeping on the hot write path. The
# endpoints' EXISTS rides in the same statement (the outbox's own SELECT of the
# endpoints is then made only for a tenant that has some).
_tenants = Tenant.__table__
_endpoints = WebhookEndpoint.__table__
_LISTENING = exists().where(_endpoints.c.tenant_id == _tenants.c.id,
                            _endpoints.c.is_active.is_(True),
                            _endpoints.c.deleted_at.is_(None)).label("listening")
_FOR_LEVEL_WRITE = select(_tenants, _LISTENING).where(_tenants.c.id == bindparam("tenant_id"))
_FOR_LEVEL_WRITE_PG = _FOR_LEVEL_WRITE.add_columns(
    func.pg_advisory_xact_lock_shared(bindparam("lock", type_=BigInteger)))


def get_for_level_write(tenant_id: int) -> WriteTenant:
    """The tenant's settings as committed now, with this tenant's levels held steady
    until the transaction ends: writes that derive members' levels call it before
    they touch a member (docs/ledger.md, "Locking")."""
    if is_postgres():
        rows = execute_lean(_FOR_LEVEL_WRITE_PG, {"tenant_id": tenant_id,
                                                  "lock": levels_lock_key(tenant_id)})
        row = rows[0] if rows else None
    else:
        row = db.session.execute(_FOR_LEVEL_WRITE, {"tenant_id": tenant_id}).first()
    if row is None:
        raise DomainError(NOT_FOUND)
    return WriteTenant.of(row)


def get_by_slug(slug: str) -> Tenant | None:
    if not SLUG_RE.match(slug):  # no such tenant (and no NUL sent to PostgreSQL)
        return None
    return db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()


@transactional
def create(slug: str, name: str, actor: Actor, max_points_per_operation: int = 10000,
           default_expiry_days: int | None = None, timezone: str = DEFAULT_TIMEZONE) -> Tenant:
    errors = FieldErrors()
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        errors.add("slug", _("Use 1-63 lower-case letters, digits and hyphens."))
    name = check_text(errors, "name", name, NAME_MAX, required=True)
    check_positive_int(errors, "max_points_per_operation", max_points_per_operation,
                       MAX_POINTS_CEILING)
    check_positive_int(errors, "default_expiry_days", default_expiry_days, MAX_EXPIRY_DAYS,
                       required=False)
    check_timezone(errors, timezone)
    if not errors and get_by_slug(slug) is not None:
        errors.add("slug", _("A tenant with this slug already exists."))
    errors.raise_if_any()
    tenant = Tenant(slug=slug, name=name, max_points_per_operation=max_points_per_operation,
                    default_expiry_days=default_expiry_days, timezone=timezone,
                    created_at=clock.now())
    db.session.add(tenant)
    db.session.flush()
    audit.record(tenant.id, actor, "tenant.create", "tenant", tenant.id,
                 {"slug": slug, "name": name})
    return tenant


@transactional
def update_settings(tenant_id: int, actor: Actor, *, name: Any, max_points_per_operation: Any,
                    default_expiry_days: Any, timezone: Any = None,
                    expiry_notice_days: Any = None, default_country_code: Any = None) -> Tenant:
    """Change the settings; `timezone`, `expiry_notice_days` or `default_country_code`
    None keeps the current one."""
    tenant = get(tenant_id)
    errors = FieldErrors()
    name = check_text(errors, "name", name, NAME_MAX, required=True)
    check_positive_int(errors, "max_points_per_operation", max_points_per_operation,
                       MAX_POINTS_CEILING)
    check_positive_int(errors, "default_expiry_days", default_expiry_days, MAX_EXPIRY_DAYS,
                       required=False)
    if timezone is None:
        timezone = tenant.timezone
    check_timezone(errors, timezone)
    if expiry_notice_days is None:
        expiry_notice_days = tenant.expiry_notice_days
    check_positive_int(errors, "expiry_notice_days", expiry_notice_days, MAX_NOTICE_DAYS)
    if default_country_code is None:
        default_country_code = tenant.default_country_code
    default_country_code = contact.check_country_code(errors, default_country_code)
    errors.raise_if_any()
    before = {"name": tenant.name, "max_points_per_operation": tenant.max_points_per_operation,
              "default_expiry_days": tenant.default_expiry_days, "timezone": tenant.timezone,
              "expiry_notice_days": tenant.expiry_notice_days,
              "default_country_code": tenant.default_country_code}
    tenant.name = name
    tenant.max_points_per_operation = max_points_per_operation
    tenant.default_expiry_days = default_expiry_days
    tenant.timezone = timezone
    tenant.expiry_notice_days = expiry_notice_days
    if default_country_code != tenant.default_country_code:
        tenant.default_country_code = default_country_code
        # National numbers are read with the code: their lookup hashes change with it.
        contact.rehash_phones(tenant.id, default_country_code)
    after = {"name": name, "max_points_per_operation": max_points_per_operation,
             "default_expiry_days": default_expiry_days, "timezone": timezone,
             "expiry_notice_days": expiry_notice_days,
             "default_country_code": default_country_code}
    audit.record(tenant.id, actor, "tenant.settings", "tenant", tenant.id,
                 {"before": before, "after": after})
    return tenant
