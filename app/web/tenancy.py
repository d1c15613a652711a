"""The one place that decides who may see a tenant's page.

Every view under `/t/<slug>/` is wrapped in `tenant_view(...)`: it resolves the
slug to a tenant and the signed-in staff user's role there. A tenant the user
has no active role in is a 404 (its existence is not revealed); a permission the
role lacks is a 403. Objects inside the tenant are then loaded through the
services' tenant-scoped loaders, which answer NOT_FOUND for another tenant's ids.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, g
from flask_login import current_user, login_required
from app.services import cache_invalidation, permissions, staff
from app.services.tenants import TenantRecord


@dataclass(frozen=True)
class TenantContext:
    tenant: TenantRecord
    role: str
    permissions: frozenset[str]

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def load(slug: str) -> TenantContext:
    # One query answers both who may see this tenant and what the header's
    # switcher lists (g.my_roles, read by the base template).
    g.my_roles = staff.roles_of(current_user.id)
    found = next((r for r in g.my_roles if r.tenant_slug == slug), None)
    if found is None:  # no such tenant, or no active role in it: the same 404
        abort(404)
    cache_invalidation.note_version(found.tenant.id, found.tenant.catalogue_version)
    return TenantContext(found.tenant, found.role, permissions.for_role(found.role))


def current() -> TenantContext | None:
    return g.get("tenancy")


def tenant_view(*needed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view of `/t/<slug>/...`: the view receives the TenantContext
    in place of the slug."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapper(slug: str, **kwargs: Any) -> Any:
            context = load(slug)
            g.tenancy = context
            if any(not context.can(p) for p in needed):
                abort(403)
            return view(context, **kwargs)

        return wrapper

    return decorator
