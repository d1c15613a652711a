"""A member's ledger entries, newest first, keyset-paged by id (stable while new
entries arrive: they sort before the cursor)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import BigInteger, String, bindparam, exists, func, select

from app.extensions import db
from app.models.ledger import CATEGORIES, KINDS
from app.services import members
from app.services.ledger.entries import TxView, tx_table
from app.services.validation import FieldErrors

_tx = tx_table


def transactions_page(tenant_id: int, user_id: str, *, cursor: str | None = None, page_size: int = 20,
            kind: str | None = None, category: str | None = None) -> members.Page:
    """One page of a member's transactions, newest first."""
    member = members.locate(tenant_id, user_id)
    return member_transactions_page(tenant_id, member.id, user_id, cursor=cursor, page_size=page_size,
                        kind=kind, category=category)


# One statement for every page: a filter left out is NULL, which the COALESCE
# turns into a match (kind and category are never NULL), and the first page's
# cursor is past every id. `is_reversed` rides along: the portal marks them.
_reversal = _tx.alias("reversal")
_HISTORY = (
    select(_tx.c.id, _tx.c.kind, _tx.c.amount, _tx.c.balance_after, _tx.c.category,
           _tx.c.reason, _tx.c.expires_at, _tx.c.created_at, _tx.c.idempotency_key,
           _tx.c.reverses_id, _tx.c.actor_type, _tx.c.actor_label,
           exists().where(_reversal.c.reverses_id == _tx.c.id).label("is_reversed"))
    .where(_tx.c.tenant_id == bindparam("h_tenant"), _tx.c.member_id == bindparam("h_member"),
           _tx.c.kind == func.coalesce(bindparam("h_kind", type_=String), _tx.c.kind),
           _tx.c.category == func.coalesce(bindparam("h_category", type_=String),
                                           _tx.c.category),
           _tx.c.id < bindparam("h_before", type_=BigInteger))
    .order_by(_tx.c.id.desc()).limit(bindparam("h_limit"))
)
_PAST_EVERY_ID = 2**63 - 1


def member_transactions_page(tenant_id: int, member_id: int, user_id: str, *, cursor: str | None = None,
                 page_size: int = 20, kind: str | None = None,
                 category: str | None = None) -> members.Page:
    """`transactions_page` of a member already found."""
    errors = FieldErrors()
    if kind is not None and kind not in KINDS:
        errors.add("kind", _("Not a valid kind."))
    if category is not None and category not in CATEGORIES:
        errors.add("category", _("Not a valid category."))
    errors.raise_if_any()
    after = members.decode_cursor(cursor)
    rows = db.session.execute(_HISTORY, {
        "h_tenant": tenant_id, "h_member": member_id, "h_kind": kind or None,
        "h_category": category or None,
        "h_before": _PAST_EVERY_ID if after is None else after, "h_limit": page_size + 1,
    }).all()
    items = [
        TxView(r.id, user_id, r.kind, r.amount, r.balance_after, r.category, r.reason or "",
               r.expires_at, r.created_at, r.idempotency_key, r.reverses_id, r.actor_type,
               r.actor_label or "", bool(r.is_reversed))
        for r in rows[:page_size]
    ]
    next_cursor = members.encode_cursor(rows[page_size - 1].id) if len(rows) > page_size else None
    return members.Page(items, next_cursor, page_size)
