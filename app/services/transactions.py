"""Read-only questions about ledger entries that the portal's history asks."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import exists, select

from app.extensions import db
from app.models import PointTransaction
from app.models.ledger import CATEGORIES, KINDS
from app.services import members, points
from app.services.errors import NOT_FOUND, DomainError
from app.services.validation import FieldErrors

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
    by id as `points.history` pages it, and which of the page's entries have been
    reversed, in one statement."""
    errors = FieldErrors()
    if kind is not None and kind not in KINDS:
        errors.add("kind", _("Not a valid kind."))
    if category is not None and category not in CATEGORIES:
        errors.add("category", _("Not a valid category."))
    errors.raise_if_any()
    after = members.decode_cursor(cursor)
    query = select(_tx, _is_reversed).where(_tx.c.tenant_id == tenant_id,
                                           _tx.c.member_id == member_id)
    if kind:
        query = query.where(_tx.c.kind == kind)
    if category:
        query = query.where(_tx.c.category == category)
    if after is not None:
        query = query.where(_tx.c.id < after)
    rows = db.session.execute(query.order_by(_tx.c.id.desc()).limit(page_size + 1)).all()
    items = [
        points.TxView(r.id, user_id, r.kind, r.amount, r.balance_after, r.category,
                      r.reason or "", r.expires_at, r.created_at, r.idempotency_key,
                      r.reverses_id, r.actor_type, r.actor_label or "")
        for r in rows[:page_size]
    ]
    next_cursor = members.encode_cursor(rows[page_size - 1].id) if len(rows) > page_size else None
    return (members.Page(items, next_cursor, page_size),
            {r.id for r in rows[:page_size] if r.is_reversed})


def of_member(tenant_id: int, user_id: str, transaction_id: int):
    """A member's transaction, or NOT_FOUND (also when it is another member's)."""
    row = points.get_transaction(tenant_id, transaction_id)
    if row.user_id != user_id:
        raise DomainError(NOT_FOUND)
    return row
