"""Invalidating a cached read model from inside a write transaction.

Deleting the key only before commit leaves a gap: a concurrent reader can miss
the cache, read the still-committed old rows and put them back, where they stay
until the timeout. So the key is deleted now and again right after the commit."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import cache, db


def invalidate(key: str) -> None:
    cache.delete(key)
    session = db.session()
    if session.in_transaction():
        def _after_commit(_session: Session) -> None:
            cache.delete(key)
        event.listen(session, "after_commit", _after_commit, once=True)
