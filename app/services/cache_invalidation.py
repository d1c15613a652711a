"""Cached read models: invalidating one from inside a write transaction, and
the per-tenant version that keys the catalogue caches.

Deleting a key only before commit leaves a gap: a concurrent reader can miss
the cache, read the still-committed old rows and put them back, where they stay
until the timeout. So the key is deleted now and again right after the commit.

A deleted key is gone from one cache only: without Redis every process has its
own, and the others would serve their copy until it times out. So a tenant's
levels and VIP catalogue are cached under its `catalogue_version`, which every
change of them bumps in its own transaction: each request reads the version
with the tenant (the API's principal query and the portal's tenant lookup load
the row anyway; anything else asks the database for it), so a committed change
is seen by every process at once, and an older copy is simply never asked for.
The version is read before the rows it keys, so a copy is never older than its key."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update

from app.extensions import cache, db
from app.models import Tenant
from app.services.uow import in_transaction, on_commit


def invalidate(key: str) -> None:
    cache.delete(key)
    if in_transaction():
        on_commit(lambda: cache.delete(key))


# Where the versions this request has read are kept: only a request's (the web
# layer installs a provider that answers per request, and None outside one), so a
# long-lived app context (a CLI command, a test) never keeps a version another
# process has since bumped. Installed from above, so this layer needs no Flask
# request objects.
def _no_request() -> dict[int, int] | None:
    return None


_request_store: Callable[[], dict[int, int] | None] = _no_request


def use_request_store(provider: Callable[[], dict[int, int] | None]) -> None:
    global _request_store
    _request_store = provider


def _versions() -> dict[int, int] | None:
    return _request_store()


def note_version(tenant_id: int, version: int) -> None:
    """The version the request read with the tenant's row (the API's principal
    query, the portal's tenant lookup): it saves a query per cached read."""
    versions = _versions()
    if versions is not None:
        versions[tenant_id] = version


def catalogue_version(tenant_id: int) -> int:
    versions = _versions()
    if versions is not None and tenant_id in versions:
        return versions[tenant_id]
    # Not noted: asked each time, never remembered (only a version read with the
    # tenant at the start of a request is known to be that request's).
    return db.session.execute(select(Tenant.catalogue_version)
                              .where(Tenant.id == tenant_id)).scalar_one_or_none() or 0


def tenant_key(tenant_id: int, name: str) -> str:
    """The cache key of a tenant's catalogue read model (levels, VIP tags)."""
    return f"{name}:{tenant_id}:v{catalogue_version(tenant_id)}"


def catalogue_changed(tenant_id: int) -> None:
    """Call inside the transaction that changes the tenant's levels or VIP tags."""
    db.session.execute(update(Tenant).where(Tenant.id == tenant_id)
                       .values(catalogue_version=Tenant.catalogue_version + 1)
                       .execution_options(synchronize_session=False))
    tenant = db.session.identity_map.get(db.session.identity_key(Tenant, tenant_id))
    if tenant is not None:
        db.session.expire(tenant, ["catalogue_version"])
    versions = _versions()
    if versions is not None:
        versions.pop(tenant_id, None)  # asked again, after this change (or its rollback)
