"""Invalidating a cached read model from inside a write transaction.

Deleting the key only before commit leaves a gap: a concurrent reader can miss
the cache, read the still-committed old rows and put them back, where they stay
until the timeout. So the key is deleted now and again right after the commit."""
from __future__ import annotations

from app.extensions import cache
from app.services.uow import in_transaction, on_commit


def invalidate(key: str) -> None:
    cache.delete(key)
    if in_transaction():
        on_commit(lambda: cache.delete(key))
