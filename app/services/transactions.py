"""Read-only questions about ledger entries that the portal's history asks."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select

from app.extensions import db
from app.models import PointTransaction
from app.services import ledger, members
from app.services.errors import NOT_FOUND, DomainError

_tx = PointTransaction.__table__
# Built once: an alias makes its column collection anew each time it is built.
_reversal = _tx.alias("reversal")
_is_reversed = exists().where(_reversal.c.reverses_id == _tx.c.id).label("is_reversed")


def reversed_ids(tenant_id: int, transaction_ids: Iterable[int]) -> set[int]:
    """Which of these transactions already have a reversal (one query per page)."""
    ids = list(transaction_ids)
    if not ids:
        return set()
    return set(db.session.execute(
        select(_tx.c.reverses_id).where(_tx.c.tenant_id == tenant_id,
                                        _tx.c.reverses_id.in_(ids))
    ).scalars())


def history_page(tenant_id: int, member_id: int, user_id: str, *, cursor: str | None = None,
                 page_size: int = 20, kind: str | None = None,
                 category: str | None = None) -> tuple[members.Page, set[int]]:
    """A member already found: one page of its history, newest first, keyset-paged
    by id as `ledger.history` pages it, and which of the page's entries have been
    reversed, in one statement."""
    page, rows = ledger.history_rows(tenant_id, member_id, user_id, cursor=cursor,
                                     page_size=page_size, kind=kind, category=category,
                                     extra=(_is_reversed,))
    return page, {r.id for r in rows if r.is_reversed}


def of_member(tenant_id: int, user_id: str, transaction_id: int):
    """A member's transaction, or NOT_FOUND (also when it is another member's)."""
    row = ledger.get_transaction(tenant_id, transaction_id)
    if row.user_id != user_id:
        raise DomainError(NOT_FOUND)
    return row
