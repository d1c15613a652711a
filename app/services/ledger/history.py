"""A member's ledger entries, newest first, keyset-paged by id (stable while new
entries arrive: they sort before the cursor)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, select

from app.extensions import db
from app.models.ledger import CATEGORIES, KINDS
from app.services import members
from app.services.ledger.entries import TxView, tx_table
from app.services.validation import FieldErrors

_tx = tx_table


def history(tenant_id: int, user_id: str, *, cursor: str | None = None, page_size: int = 20,
            kind: str | None = None, category: str | None = None) -> members.Page:
    """A member's transactions, newest first."""
    member = members.locate(tenant_id, user_id)
    return history_rows(tenant_id, member.id, user_id, cursor=cursor, page_size=page_size,
                        kind=kind, category=category)[0]


def history_rows(tenant_id: int, member_id: int, user_id: str, *, cursor: str | None = None,
                 page_size: int = 20, kind: str | None = None, category: str | None = None,
                 extra: tuple[Any, ...] = ()) -> tuple[members.Page, list[Row]]:
    """A member already found: one page of `history`, and its rows with the `extra`
    columns read in the same statement (the portal asks which were reversed)."""
    errors = FieldErrors()
    if kind is not None and kind not in KINDS:
        errors.add("kind", _("Not a valid kind."))
    if category is not None and category not in CATEGORIES:
        errors.add("category", _("Not a valid category."))
    errors.raise_if_any()
    after = members.decode_cursor(cursor)
    statement = _history_statement(bool(kind), bool(category), after is not None, extra)
    params = {"h_tenant": tenant_id, "h_member": member_id, "h_limit": page_size + 1}
    if kind:
        params["h_kind"] = kind
    if category:
        params["h_category"] = category
    if after is not None:
        params["h_after"] = after
    rows = db.session.execute(statement, params).all()
    items = [
        TxView(r.id, user_id, r.kind, r.amount, r.balance_after, r.category, r.reason or "",
               r.expires_at, r.created_at, r.idempotency_key, r.reverses_id, r.actor_type,
               r.actor_label or "")
        for r in rows[:page_size]
    ]
    next_cursor = members.encode_cursor(rows[page_size - 1].id) if len(rows) > page_size else None
    return members.Page(items, next_cursor, page_size), rows[:page_size]


# What a TxView shows, and the statements of a page of history: one per
# combination of filters and extra columns, built on first use; each call is then
# a compiled-cache hit instead of a rebuild and a cache-key walk.
_HISTORY_COLUMNS = (_tx.c.id, _tx.c.kind, _tx.c.amount, _tx.c.balance_after, _tx.c.category,
                    _tx.c.reason, _tx.c.expires_at, _tx.c.created_at, _tx.c.idempotency_key,
                    _tx.c.reverses_id, _tx.c.actor_type, _tx.c.actor_label)
_history_statements: dict[tuple[Any, ...], Any] = {}


def _history_statement(kind: bool, category: bool, after: bool, extra: tuple[Any, ...]) -> Any:
    key = (kind, category, after, extra)
    statement = _history_statements.get(key)
    if statement is None:
        statement = select(*_HISTORY_COLUMNS, *extra).where(
            _tx.c.tenant_id == bindparam("h_tenant"), _tx.c.member_id == bindparam("h_member"))
        if kind:
            statement = statement.where(_tx.c.kind == bindparam("h_kind"))
        if category:
            statement = statement.where(_tx.c.category == bindparam("h_category"))
        if after:
            statement = statement.where(_tx.c.id < bindparam("h_after"))
        statement = _history_statements[key] = \
            statement.order_by(_tx.c.id.desc()).limit(bindparam("h_limit"))
    return statement
