"""The cells of a page of a member's history, written in one pass: the row
template then reads plain values instead of calling a label look-up, a number
filter and the date filter on every row (each a call through Jinja's runtime,
25 rows a page)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app.services.ledger import TxView, is_reversible_kind
from app.web import formatting


class Cells(NamedTuple):
    time: Markup
    kind: str
    amount: str
    balance: str
    category: str
    actor: str
    reverse_url: str | None  # None: no reverse link on this row


@pass_context
def history_cells(context: Context, rows: Iterable[TxView],
                  reverse_url: Callable[[int], str] | None) -> list[tuple[TxView, Cells]]:
    """Each row with its cells as the page's `dt('short')`, `kind_label`,
    `signed`, `num`, `category_label` and `actor_label` write them;
    `reverse_url` (None when the reader may not reverse) gives the link of a
    reversible entry not yet reversed."""
    kind_label, category_label = context["kind_label"], context["category_label"]
    actor_label = context["actor_label"]
    return [(t, Cells(
        formatting.dt(context, t.created_at, "short"), kind_label(t.kind),
        formatting.signed(context, t.points_amount), formatting.num(context, t.balance_after),
        category_label(t.category), t.actor_label or actor_label(t.actor_type),
        reverse_url(t.id) if reverse_url is not None and is_reversible_kind(t.kind)
        and not t.is_reversed else None)) for t in rows]
