"""Read-only questions about ledger entries that the portal's history asks."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import PointTransaction
from app.services import points
from app.services.errors import NOT_FOUND, DomainError

_tx = PointTransaction.__table__


def reversed_ids(tenant_id: int, transaction_ids: Iterable[int]) -> set[int]:
    """Which of these transactions already have a reversal (one query per page)."""
    ids = list(transaction_ids)
    if not ids:
        return set()
    return set(db.session.execute(
        select(_tx.c.reverses_id).where(_tx.c.tenant_id == tenant_id,
                                        _tx.c.reverses_id.in_(ids))
    ).scalars())


def of_member(tenant_id: int, user_id: str, transaction_id: int):
    """A member's transaction, or NOT_FOUND (also when it is another member's)."""
    row = points.get_transaction(tenant_id, transaction_id)
    if row.user_id != user_id:
        raise DomainError(NOT_FOUND)
    return row
