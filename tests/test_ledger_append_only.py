"""The database itself refuses to rewrite history, and keeps the ledger's checks."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.services import ledger

APPEND_ONLY = ("point_transactions", "lot_allocations", "audit_logs")


@pytest.fixture
def history(tenant, make_member, actor):
    make_member(tenant, "alice")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=50, category="login")
    ledger.spend(tenant.id, actor, user_id="alice", points_amount=20, category="payment")
    db.session.commit()


def refused_by_database(sql: str) -> str:
    with pytest.raises(DBAPIError) as info, db.engine.begin() as conn:
        conn.execute(text(sql))
    return str(info.value.orig)


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_an_update_of_history_is_refused(history, table):
    column = "amount" if table != "audit_logs" else "action"
    value = "7" if table != "audit_logs" else "'forged'"
    before = db.session.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
    assert before
    assert "append-only" in refused_by_database(f"UPDATE {table} SET {column} = {value}")
    assert db.session.execute(text(f"SELECT * FROM {table} ORDER BY id")).all() == before


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_a_delete_of_history_is_refused(history, table):
    before = db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    assert "append-only" in refused_by_database(f"DELETE FROM {table}")
    assert db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == before


@pytest.mark.parametrize("sql", [
    "UPDATE members SET total_points = -1",
    "UPDATE point_lots SET remaining = -1",
    "UPDATE point_lots SET remaining = amount + 1",
    "INSERT INTO point_transactions (tenant_id, member_id, kind, amount, balance_after, category,"
    " reason, actor_type, actor_label, created_at) SELECT tenant_id, id, 'earn', 5, 5, 'gifts',"
    " '', 'system', '', created_at FROM members",
    "INSERT INTO point_transactions (tenant_id, member_id, kind, amount, balance_after, category,"
    " reason, actor_type, actor_label, created_at) SELECT tenant_id, id, 'spend', 5, 5, 'login',"
    " '', 'system', '', created_at FROM members",
    "INSERT INTO point_transactions (tenant_id, member_id, kind, amount, balance_after, category,"
    " reason, actor_type, actor_label, created_at) SELECT tenant_id, id, 'reversal', 5, 5,"
    " 'login', '', 'system', '', created_at FROM members",
    "INSERT INTO point_transactions (tenant_id, member_id, kind, amount, balance_after, category,"
    " reason, actor_type, actor_label, created_at) SELECT tenant_id + 1000, id, 'earn', 5, 5,"
    " 'login', '', 'system', '', created_at FROM members",
])
def test_the_database_checks_the_ledgers_rules(history, sql):
    refused_by_database(sql)
