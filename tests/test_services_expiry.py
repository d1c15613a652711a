"""The expiry job: PostgreSQL's one-statement batch (`ledger.expiry.EXPIRE_MEMBERS`) writes exactly
the rows the generic path writes (the path SQLite takes)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import ledger, members
from app.services.ledger import expiry as ledger_expiry
from tests.ledger_helpers import iso
from tests.ledger_invariants import assert_consistent
from tests.querycount import statements

pytestmark = pytest.mark.usefixtures("clk")


@pytest.fixture
def generic(monkeypatch):
    monkeypatch.setattr(ledger_expiry, "_expires_in_sql", lambda: False)


def build(tenant, make_member, actor, clk) -> None:
    """Members whose due lots tie on expiry, come from several categories, are
    partly spent or already empty, sit beside lots not yet due and lots that never
    expire; a member with nothing due; a member whose points are switched off."""
    def earn(user, amount, category="login", days=None):
        expiry = iso(clk.later(days=days)) if days is not None else None
        ledger.earn(tenant.id, actor, user_id=user, points_amount=amount, category=category,
                    expires_at=expiry)

    for user in ("ann", "ben", "cai", "dot", "eve", "fay"):
        make_member(tenant, user)
    for n, category in enumerate(("login", "referral", "payment", "community")):
        earn("ann", 10 + n, category, days=1 + n % 2)       # two pairs with equal expiries
    earn("ann", 50, days=30)
    earn("ann", 5)
    earn("ben", 40, "license", days=2)
    earn("ben", 60, "referral", days=1)
    ledger.spend(tenant.id, actor, user_id="ben", points_amount=70, category="payment")
    earn("ben", 9, "vip_upgrade", days=3)
    earn("cai", 100, days=40)                                # nothing due
    earn("dot", 7, "manual", days=2)
    earn("dot", 8, "feature_unlock", days=2)
    ledger.adjust(tenant.id, actor, user_id="dot", points_amount=-3, reason="correction")
    earn("eve", 25, days=1)
    members.set_points_enabled(tenant.id, actor, "eve", False)
    for k in range(12):                                      # spans several batches
        earn("fay", 1 + k, days=1 + k / 10)
    earn("fay", 4, days=10)                                  # due exactly at the run's time


def written(tenant_id: int) -> dict[str, list[Any]]:
    """What the job wrote for one tenant, with ids replaced by their rank in the
    tenant (the two tenants draw ids from the same sequences)."""
    def rows(sql: str) -> list[Any]:
        return [tuple(r) for r in db.session.execute(text(sql), {"t": tenant_id})]

    user = dict(rows("SELECT id, user_id FROM members WHERE tenant_id = :t"))
    tx_rank = {tid: n for n, (tid,) in enumerate(
        rows("SELECT id FROM point_transactions WHERE tenant_id = :t ORDER BY id"))}
    lot_rank = {lid: n for n, (lid,) in enumerate(
        rows("SELECT id FROM point_lots WHERE tenant_id = :t ORDER BY id"))}
    entries = [(tx_rank[tid], user[mid], *rest) for tid, mid, *rest in rows(
        "SELECT id, member_id, kind, amount, balance_after, category, reason, expires_at,"
        " reverses_id, idempotency_key, request_id, actor_type, actor_id, actor_label, created_at"
        " FROM point_transactions WHERE tenant_id = :t AND kind = 'expire' ORDER BY id")]
    allocations = [(tx_rank[tid], lot_rank[lid], amount) for tid, lid, amount in rows(
        "SELECT a.transaction_id, a.lot_id, a.amount FROM lot_allocations a"
        " JOIN point_transactions t ON t.id = a.transaction_id"
        " WHERE t.tenant_id = :t AND t.kind = 'expire' ORDER BY a.id")]
    lots = [(lot_rank[lid], remaining) for lid, remaining in rows(
        "SELECT id, remaining FROM point_lots WHERE tenant_id = :t ORDER BY id")]
    balances = [(user[mid], *rest) for mid, *rest in rows(
        "SELECT id, total_points, lifetime_points, is_points_enabled, updated_at"
        " FROM members WHERE tenant_id = :t ORDER BY user_id")]
    return {"entries": entries, "allocations": allocations, "lots": lots,
            "balances": balances}


def expire(tenant, batch_size: int, in_sql: bool, monkeypatch) -> ledger.ExpiryReport:
    with monkeypatch.context() as patch:
        patch.setattr(ledger_expiry, "_expires_in_sql", lambda: in_sql)
        return ledger.expire_due(tenant_id=tenant.id, batch_size=batch_size)


@pytest.mark.postgresql
@pytest.mark.parametrize("batch_size", [1, 3, 500])
def test_the_one_statement_batch_writes_what_the_generic_path_writes(
        tenant, other_tenant, make_member, actor, clk, monkeypatch, batch_size):
    build(tenant, make_member, actor, clk)
    build(other_tenant, make_member, actor, clk)
    clk.advance(days=10)

    generic = expire(tenant, batch_size, in_sql=False, monkeypatch=monkeypatch)
    in_sql = expire(other_tenant, batch_size, in_sql=True, monkeypatch=monkeypatch)

    assert (in_sql.lots, in_sql.points, in_sql.members) == (
        generic.lots, generic.points, generic.members)
    assert generic.lots == 4 + 2 + 2 + 1 + 12 + 1
    ours, theirs = written(other_tenant.id), written(tenant.id)
    assert ours["entries"] and ours["allocations"]
    for part in ours:
        assert ours[part] == theirs[part], part
    assert_consistent()


@pytest.mark.postgresql
def test_the_one_statement_batch_takes_only_the_given_members_lots_due_by_then(
        tenant, make_member, actor, clk):
    build(tenant, make_member, actor, clk)
    ids = dict(db.session.execute(text("SELECT user_id, id FROM members")).all())
    ledger_expiry._expire_batch([ids["ann"], ids["cai"]], clk.later(days=1))
    due = db.session.execute(text(
        "SELECT m.user_id, COUNT(*) FROM point_transactions t JOIN members m ON m.id = t.member_id"
        " WHERE t.kind = 'expire' GROUP BY m.user_id")).all()
    assert due == [("ann", 2)]  # ann's two lots due after one day; cai has none due
    assert_consistent()


def test_the_generic_path_expires_like_the_statement(tenant, make_member, actor, clk, generic):
    build(tenant, make_member, actor, clk)
    clk.advance(days=10)
    report = ledger.expire_due(batch_size=2)
    assert (report.lots, report.members) == (22, 5)
    assert_consistent()


@pytest.mark.postgresql
def test_a_batch_of_many_members_is_three_statements(
        tenant, make_member, actor, clk):
    for m in range(20):
        make_member(tenant, f"m{m}")
    ledger.batch_earn(tenant.id, actor, [
        ledger.EarnItem(f"m{m}", 5 + k, "login", None, iso(clk.later(days=1, minutes=k)))
        for m in range(20) for k in range(3)])
    clk.advance(days=2)
    with statements() as seen:
        report = ledger.expire_due(batch_size=1000)
    assert (report.lots, report.members) == (60, 20)
    # the next due lots, the members' locks, the statement, whether their tenants
    # have webhook endpoints (the outbox); the search that finds none
    assert len(seen) == 5, seen
    assert_consistent()


class _Abandon(Exception):
    pass


def test_expiry_commits_through_the_unit_of_work(tenant, make_member, actor, clk):
    """Each batch is a transaction of its own, begun and committed by the unit of
    work: inside an enclosing transaction it joins it, and rolls back with it."""
    from app.services import uow

    make_member(tenant, "ann")
    ledger.earn(tenant.id, actor, user_id="ann", points_amount=5, category="login",
                expires_at=iso(clk.later(days=1)))
    clk.advance(days=2)
    with pytest.raises(_Abandon), uow.atomic():
        assert ledger.expire_due(tenant_id=tenant.id, batch_size=1).lots == 1
        raise _Abandon
    db.session.rollback()
    assert members.get_profile(tenant.id, "ann").total_points == 5
    assert ledger.expire_due(tenant_id=tenant.id, batch_size=1).lots == 1
    assert members.get_profile(tenant.id, "ann").total_points == 0
    assert_consistent()
