from app.services import ledger, ledger_check


def test_it_earns_and_verifies(tenant, make_member, actor):
    make_member(tenant, "alice")
    outcome = ledger.earn(tenant.id, actor, user_id="alice", points_amount=100, category="login")
    assert outcome.profile.total_points == 100
    assert outcome.transaction.balance_after == 100
    assert ledger_check.verify() == []
