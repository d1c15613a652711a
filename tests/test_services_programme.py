"""The programme's services: events under concurrency, activation, statement
counts, and `points activate` / `points verify`."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import clock, programme
from app.services.context import Actor
from tests.concurrency import run_concurrently
from tests.ledger_invariants import assert_consistent
from tests.querycount import statements

ACTOR = Actor(type="system", label="programme-tests")


def render(outcome: programme.EventOutcome) -> str:
    return str(outcome.points_awarded)


def sign_in_rule(tenant, **extra):
    return programme.create_rule(tenant.id, ACTOR, {
        "name": "Sign-in", "event_type": "login", "award": {"type": "fixed", "points": 5},
        **extra})


def record(tenant, event_id, user_id="alice", event_type="login", **extra):
    return programme.record(tenant.id, ACTOR, render, event_id=event_id, user_id=user_id,
                            event_type=event_type, **extra)


@pytest.mark.postgresql
def test_fifty_concurrent_events_under_a_daily_limit_award_once(app, tenant, make_member):
    make_member(tenant, "alice")
    sign_in_rule(tenant, limit={"count": 1, "period": "day"})
    results = run_concurrently(app, [lambda i=i: record(tenant, f"e{i}").text for i in range(50)])
    assert [r for r in results if r[0] != "ok"] == []
    assert sorted(r[1] for r in results) == ["0"] * 49 + ["5"]
    assert db.session.execute(text("SELECT count(*) FROM event_awards")).scalar() == 1
    assert_consistent()


@pytest.mark.postgresql
def test_the_same_event_sent_concurrently_is_recorded_once(app, tenant, make_member):
    make_member(tenant, "alice")
    sign_in_rule(tenant)
    results = run_concurrently(app, [lambda: record(tenant, "same") for _ in range(20)])
    assert [r for r in results if r[0] != "ok"] == []
    assert sum(not r[1].replayed for r in results) == 1
    assert db.session.execute(text("SELECT count(*) FROM point_transactions")).scalar() == 1
    assert_consistent()


def test_concurrent_activations_activate_each_award_once(app, tenant, make_member):
    for n in range(6):
        make_member(tenant, f"m{n}")
    programme.create_rule(tenant.id, ACTOR, {
        "name": "Pay", "event_type": "payment", "award": {"type": "fixed", "points": 3},
        "pending_days": 2})
    for n in range(6):
        for k in range(3):
            record(tenant, f"p{n}-{k}", user_id=f"m{n}", event_type="payment")
    later = clock.now() + timedelta(days=3)
    results = run_concurrently(app, [lambda: programme.activate_due(batch_size=4, now=later)
                                 for _ in range(4)], workers=4)
    assert [r for r in results if r[0] != "ok"] == []
    assert sum(r[1].awards for r in results) == 18
    assert db.session.execute(text(
        "SELECT count(*) FROM point_transactions WHERE kind = 'earn'")).scalar() == 18
    assert_consistent()


def test_activation_races_with_revoke_and_events(app, tenant, make_member):
    make_member(tenant, "alice")
    programme.create_rule(tenant.id, ACTOR, {
        "name": "Pay", "event_type": "payment", "award": {"type": "fixed", "points": 3},
        "pending_days": 1})
    old = (clock.now() - timedelta(days=2)).isoformat()
    for k in range(10):
        with clock.frozen(clock.now() - timedelta(days=1, hours=12)):
            record(tenant, f"p{k}", event_type="payment")
    calls = [lambda: programme.activate_due()] * 3
    calls += [lambda k=k: programme.revoke(tenant.id, ACTOR, f"p{k}", reason="refund")
              for k in range(5)]
    calls += [lambda k=k: record(tenant, f"n{k}", event_type="payment", occurred_at=old)
              for k in range(5)]
    results = run_concurrently(app, calls, workers=13)
    assert [r for r in results if r[0] == "crash"] == []
    assert_consistent()


def _counted(tenant, event_id, **extra):
    with statements() as seen:
        record(tenant, event_id, event_type="payment", amount="100", **extra)
    return len(seen)


def _two_rules_and_a_baseline(tenant, make_member) -> int:
    make_member(tenant, "alice")
    for points in (1, 2):
        programme.create_rule(tenant.id, ACTOR, {
            "name": f"Pay {points}", "event_type": "payment",
            "award": {"type": "per_amount", "points": points, "per": "10"},
            "limit": {"count": 1000, "period": "day"}})
    _counted(tenant, "warm")
    return _counted(tenant, "small")


def test_statements_of_an_event_do_not_grow_with_rules_or_history(app, tenant, make_member):
    small = _two_rules_and_a_baseline(tenant, make_member)
    for n in range(48):  # limited, windowed, for big spenders, inactive: all evaluated
        programme.create_rule(tenant.id, ACTOR, {
            "name": f"Rule {n}", "event_type": "payment",
            "award": {"type": "fixed", "points": 1}, "min_amount": "5000",
            "limit": {"count": 3, "period": ("day", "week", "month", "lifetime")[n % 4]},
            "starts_at": "2020-01-01T00:00:00Z", "active": n % 2 == 0})
    for n in range(30):
        record(tenant, f"history{n}", event_type="payment", amount="10")
    _counted(tenant, "warm2")
    assert _counted(tenant, "large") == small
    with statements() as seen:
        programme.preview(tenant.id, user_id="alice", event_type="payment", amount="5")
    assert len(seen) < small


@pytest.mark.postgresql
def test_statements_do_not_grow_with_awarding_rules(app, tenant, make_member):
    # PostgreSQL writes many rows in one statement (services/bulk.py); SQLite's
    # RETURNING path writes them one by one.
    small = _two_rules_and_a_baseline(tenant, make_member)
    for n in range(48):
        programme.create_rule(tenant.id, ACTOR, {
            "name": f"Rule {n}", "event_type": "payment",
            "award": {"type": "fixed", "points": 1}, "pending_days": n % 2,
            "limit": {"count": 1000, "period": "month"}})
    _counted(tenant, "warm2")
    # Lower than before (small + 1, for the pending awards' own insert): entries, lots,
    # awards and pending awards now go in one statement (bulk.insert_all)
    assert _counted(tenant, "large") == small


def test_cli_activates_and_verify_checks_pending(app, tenant, make_member):
    make_member(tenant, "alice")
    programme.create_rule(tenant.id, ACTOR, {
        "name": "Pay", "event_type": "payment", "award": {"type": "fixed", "points": 4},
        "pending_days": 1})
    record(tenant, "p1", event_type="payment")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["points", "verify"]).exit_code == 0
    with clock.frozen(clock.now() + timedelta(days=2)):
        result = runner.invoke(args=["points", "activate", "--tenant", tenant.slug])
    assert result.exit_code == 0, result.output
    assert "activated 1 pending awards (4 points) of 1 members" in result.output
    db.session.rollback()
    record(tenant, "p2", event_type="payment")
    db.session.execute(text("UPDATE members SET pending_points = pending_points + 1"))
    db.session.commit()
    result = runner.invoke(args=["points", "verify"])
    assert result.exit_code == 1 and "pending" in result.output
