"""PostgreSQL writes a credit (earn, a positive adjustment) in one statement
(`ledger/credit_statement.py`); SQLite takes the generic path, one statement per
row. Both must write exactly the same rows and answer the same outcome."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import ledger, levels, members, vip
from app.services.errors import MEMBER_NOT_FOUND, POINTS_DISABLED, DomainError
from app.services.ledger import credits
from tests.ledger_helpers import iso
from tests.ledger_invariants import assert_consistent

pytestmark = [pytest.mark.postgresql, pytest.mark.usefixtures("clk")]


def build(tenant, make_member, actor) -> None:
    levels.create(tenant.id, actor, level_name="Bronze", min_points=0, benefits="")
    levels.create(tenant.id, actor, level_name="Silver", min_points=100, benefits="")
    tag = vip.create_tag(tenant.id, actor, tag_name="VIP", tag_type="vip", rank=1,
                         duration_days=30)
    other = vip.create_tag(tenant.id, actor, tag_name="Club", tag_type="club", rank=1,
                           duration_days=10)
    make_member(tenant, "ann", email="ann@example.com", phone="+8613800000000")
    make_member(tenant, "ben")
    vip.grant(tenant.id, actor, user_id="ann", tag_id=tag.id)
    vip.grant(tenant.id, actor, user_id="ann", tag_id=other.id)


def operations(tenant, actor, clk) -> list[Any]:
    """The same credits, in the same order, for one tenant; their outcomes."""
    out = [
        ledger.earn(tenant.id, actor, user_id="ann", points_amount=60, category="payment",
                    reason="café 咖啡 \"quoted\"", idempotency_key="k-1"),
        ledger.earn(tenant.id, actor, user_id="ann", points_amount=50, category="login",
                    expires_at=iso(clk.later(days=40))),  # crosses into Silver
        ledger.earn(tenant.id, actor, user_id="ben", points_amount=7, category="referral"),
    ]
    clk.advance(days=1)
    out.append(ledger.adjust(tenant.id, actor, user_id="ben", points_amount=5,
                             reason="goodwill"))
    return out


def outcome_of(outcome: ledger.Outcome) -> tuple[Any, Any]:
    tx = {k: v for k, v in outcome.transaction.as_dict().items() if k != "id"}
    p = outcome.profile
    profile = {**p.as_dict(), "current_level": p.level and p.level.level_name,
               "next_level": p.next_level and p.next_level.level_name,
               "tags": [(t.tag_name, t.tag_type, t.rank, t.expires_at, t.granted_at)
                        for t in p.tags], "updated": p.last_activity_at}
    return tx, profile


def written(tenant_id: int) -> dict[str, list[Any]]:
    """What the credits wrote for one tenant, ids replaced by their rank."""
    def rows(sql: str) -> list[Any]:
        return [tuple(r) for r in db.session.execute(text(sql), {"t": tenant_id})]

    user = dict(rows("SELECT id, user_id FROM members WHERE tenant_id = :t"))
    level = dict(rows("SELECT id, level_name FROM levels WHERE tenant_id = :t"))
    tx_rank = {tid: n for n, (tid,) in enumerate(
        rows("SELECT id FROM point_transactions WHERE tenant_id = :t ORDER BY id"))}
    entries = [(tx_rank[tid], user[mid], *rest) for tid, mid, *rest in rows(
        "SELECT id, member_id, kind, amount, balance_after, category, reason, expires_at,"
        " reverses_id, idempotency_key, request_id, actor_type, actor_id, actor_label, created_at"
        " FROM point_transactions WHERE tenant_id = :t ORDER BY id")]
    lots = [(tx_rank[tid], user[mid], *rest) for tid, mid, *rest in rows(
        "SELECT transaction_id, member_id, amount, remaining, expires_at, created_at"
        " FROM point_lots WHERE tenant_id = :t ORDER BY id")]
    audit = []
    for *cols, data_text in rows(
            "SELECT actor_type, actor_id, actor_label, action, target_type, target_id, ip,"
            " user_agent, request_id, created_at, data::text FROM audit_logs"
            " WHERE tenant_id = :t AND action LIKE 'points.%' ORDER BY id"):
        for tid, rank in tx_rank.items():  # the entry id inside the JSON text, as a rank
            data_text = data_text.replace(f'"transaction_id": {tid},', f'"transaction_id": #{rank},')
        audit.append((*cols, data_text))
    balances = [(user[mid], level.get(lid), *rest) for mid, lid, *rest in rows(
        "SELECT id, level_id, total_points, lifetime_points, pending_points, updated_at,"
        " last_activity_at FROM members WHERE tenant_id = :t ORDER BY user_id")]
    return {"entries": entries, "lots": lots, "audit": audit, "balances": balances}


def test_the_one_statement_credit_writes_what_the_generic_path_writes(
        tenant, other_tenant, make_member, actor, clk, monkeypatch):
    build(tenant, make_member, actor)
    build(other_tenant, make_member, actor)
    with monkeypatch.context() as patch:
        patch.setattr(credits, "_in_one_statement", lambda: False)
        generic = operations(tenant, actor, clk)
    clk.advance(days=-1)
    in_sql = operations(other_tenant, actor, clk)

    assert [outcome_of(o) for o in in_sql] == [outcome_of(o) for o in generic]
    assert in_sql[0].profile.tags and in_sql[1].profile.level.level_name == "Silver"
    ours, theirs = written(other_tenant.id), written(tenant.id)
    assert len(ours["entries"]) == 4 and len(ours["audit"]) == 4
    assert '"reason": "caf\\u00e9' in ours["audit"][0][-1]  # json.dumps' own text
    for part in ours:
        assert ours[part] == theirs[part], part
    assert_consistent()


def test_a_credit_refused_in_one_statement_writes_nothing(tenant, make_member, actor):
    make_member(tenant, "ann")
    members.set_points_enabled(tenant.id, actor, "ann", False)
    before = written(tenant.id)
    with pytest.raises(DomainError) as refused:
        ledger.earn(tenant.id, actor, user_id="ann", points_amount=5, category="login")
    assert refused.value.code == POINTS_DISABLED
    with pytest.raises(DomainError) as missing:
        ledger.earn(tenant.id, actor, user_id="nobody", points_amount=5, category="login")
    assert missing.value.code == MEMBER_NOT_FOUND
    assert written(tenant.id) == before
