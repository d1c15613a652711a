"""history_cells writes each cell as the row template's filters and look-ups did."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import render_template_string

from app.services import ledger
from app.services.ledger import TxView


def _tx(n: int, **changes) -> TxView:
    fields = dict(id=n, user_id="u", kind="earn", points_amount=1234567 * (-1) ** n,
                  balance_after=n * 1001, category="payment", reason="", expires_at=None,
                  created_at=datetime(2026, 1, n, 16, 5, 9, tzinfo=UTC), idempotency_key=None,
                  reverses_id=None)
    return TxView(**{**fields, **changes})


@pytest.mark.parametrize("accept", ["en", "zh-CN"])
def test_the_cells_are_what_the_filters_and_labels_write(app, accept):
    rows = [_tx(1), _tx(2, kind="spend", actor_type="staff", actor_label="ann@x.test"),
            _tx(3, kind="expire", category="manual", actor_type="api_client"),
            _tx(4, kind="reversal", reverses_id=1, points_amount=0), _tx(5, is_reversed=True),
            _tx(6, kind="adjust", category="bogus", actor_type="bogus")]
    each_filter = ("{% for t in rows %}{{ t.created_at|dt('short') }}|{{ kind_label(t.kind) }}|"
                   "{{ t.points_amount|signed }}|{{ t.balance_after|num }}|"
                   "{{ category_label(t.category) }}|{{ t.actor_label or actor_label(t.actor_type) }}|"
                   "{{ reverse(t.id) if allowed and reversible(t.kind) and not t.is_reversed "
                   "else none }};{% endfor %}")
    one_pass = ("{% for t, c in history_cells(rows, reverse if allowed else none) %}"
                "{{ c.time }}|{{ c.kind }}|{{ c.amount }}|{{ c.balance }}|{{ c.category }}|"
                "{{ c.actor }}|{{ c.reverse_url }};{% endfor %}")
    with app.test_request_context("/", headers={"Accept-Language": accept}):
        for allowed in (True, False):
            context = dict(rows=rows, allowed=allowed, reverse=lambda n: f"/r/{n}")
            wanted = render_template_string(each_filter, **context)
            assert render_template_string(one_pass, **context) == wanted
            assert ("/r/1" in wanted) is allowed and "/r/3" not in wanted and "/r/5" not in wanted


def test_history_cells_is_what_the_ledger_reads(app, tenant, make_member, actor):
    make_member(tenant, "alice")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=5, category="login")
    with app.test_request_context("/"):
        page = ledger.transactions_page(tenant.id, "alice")
        html = render_template_string("{% for t, c in history_cells(rows, none) %}{{ c.amount }} "
                                      "{{ c.reverse_url }}{% endfor %}", rows=page.items)
    assert html == "+5 None"
