"""Concurrency of the ledger with real threads, each with its own app context,
session and database connection. The PostgreSQL runs are the real proof of the
row locking; the tests not marked `postgresql` also run on SQLite, where
BEGIN IMMEDIATE serialises the writers."""
from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import PointLot, PointTransaction
from app.services import clock, ledger, members
from app.services.context import Actor
from tests.concurrency import assert_one_effect_under_50_calls, crashes, run_concurrently
from tests.ledger_helpers import count, iso
from tests.ledger_invariants import assert_consistent

def test_it_never_overdraws_under_200_concurrent_spends(app, tenant, make_member, actor):
    make_member(tenant, "alice")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=50, category="login")

    def spend_one():
        return ledger.spend(tenant.id, actor, user_id="alice", points_amount=1,
                            category="payment").transaction.balance_after

    results = run_concurrently(app, [spend_one] * 200)
    assert crashes(results) == []
    outcomes = Counter(kind if kind == "ok" else value for kind, value in results)
    assert outcomes == {"ok": 50, "INSUFFICIENT_POINTS": 150}
    assert sorted(value for kind, value in results if kind == "ok") == list(range(50))
    assert members.get_profile(tenant.id, "alice").total_points == 0
    assert count(PointTransaction, kind="spend") == 50
    assert_consistent()


def test_one_idempotency_key_makes_one_effect_under_50_concurrent_calls(app, tenant, make_member,
                                                                        actor):
    make_member(tenant, "alice")
    assert_one_effect_under_50_calls(app, tenant.id, actor)


@pytest.mark.postgresql
def test_interleaved_earns_spends_reversals_and_expiries_keep_the_ledger_whole(
        app, tenant, make_member, actor):
    make_member(tenant, "alice")
    rng = random.Random(7)
    earlier = []
    for _ in range(20):
        earlier.append(ledger.earn(tenant.id, actor, user_id="alice", points_amount=30,
                                   category="login").transaction.id)
        earlier.append(ledger.spend(tenant.id, actor, user_id="alice", points_amount=10,
                                    category="payment").transaction.id)
    def earn_expiring():
        # Due within the run, so concurrent expiries meet them; a second of margin,
        # so a thread the scheduler holds back on a busy machine still sends a
        # future date (a past one is rightly a VALIDATION_ERROR).
        ledger.earn(tenant.id, actor, user_id="alice", points_amount=rng.randint(1, 40),
                    category="referral", expires_at=iso(clock.now() + timedelta(seconds=1)))

    def earn():
        ledger.earn(tenant.id, actor, user_id="alice", points_amount=rng.randint(1, 40),
                    category="login")

    def spend():
        ledger.spend(tenant.id, actor, user_id="alice", points_amount=rng.randint(1, 60),
                     category="payment")

    def adjust_down():
        ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-rng.randint(1, 30),
                      reason="correction")

    def reverse(tx_id: int) -> Callable[[], None]:
        return lambda: ledger.reverse(tenant.id, actor, tx_id, reason="undo")

    def expire():
        ledger.expire_due()

    calls: list[Callable[[], Any]] = []
    for _ in range(40):
        calls += [earn_expiring, earn, spend, spend, adjust_down]
    calls += [expire] * 20
    calls += [reverse(tx_id) for tx_id in earlier] * 2  # each reversed twice at once
    rng.shuffle(calls)
    results = run_concurrently(app, calls)
    assert crashes(results) == []
    errors = Counter(value for kind, value in results if kind == "error")
    assert set(errors) <= {"INSUFFICIENT_POINTS", "ALREADY_REVERSED", "NOT_REVERSIBLE"}
    assert errors["ALREADY_REVERSED"] >= len(earlier) - errors["NOT_REVERSIBLE"]
    # Each earlier transaction was reversed at most once.
    reversals = db.session.execute(
        select(PointTransaction.reverses_id, func.count()).where(
            PointTransaction.reverses_id.is_not(None)).group_by(PointTransaction.reverses_id)
    ).all()
    assert all(n == 1 for _, n in reversals)
    later = clock.now() + timedelta(seconds=5)
    ledger.expire_due(now=later)
    balance = members.get_profile(tenant.id, "alice").total_points
    ledger_sum = db.session.execute(select(func.sum(PointTransaction.amount))).scalar_one()
    assert balance == ledger_sum >= 0
    # Every expiring lot is spent or expired: nothing due still holds points.
    # (Whether any expired depends on how the spends fell: they take the
    # soonest-expiring points first.)
    assert db.session.execute(select(func.count()).select_from(PointLot).where(
        PointLot.expires_at <= later, PointLot.remaining > 0)).scalar_one() == 0
    assert count(PointLot) > count(PointLot, expires_at=None)  # expiring lots were made
    assert_consistent()


@pytest.mark.postgresql
def test_two_expiry_jobs_at_once_expire_each_lot_once(app, tenant, make_member, actor):
    for i in range(10):
        make_member(tenant, f"m{i}")
        for _ in range(5):
            ledger.earn(tenant.id, actor, user_id=f"m{i}", points_amount=10, category="login",
                        expires_at=iso(clock.now() + timedelta(days=1)))
    later = clock.now() + timedelta(days=2)
    results = run_concurrently(app, [lambda: ledger.expire_due(now=later, batch_size=7)] * 4)
    assert crashes(results) == []
    assert sum(report.lots for _, report in results) == 50
    assert sum(report.points for _, report in results) == 500
    assert count(PointTransaction, kind="expire") == 50
    assert_consistent()


@pytest.mark.postgresql
def test_concurrent_batches_over_overlapping_members_do_not_deadlock(app, tenant, make_member,
                                                                     actor):
    users = [f"m{i}" for i in range(12)]
    for user in users:
        make_member(tenant, user)

    def batch(order: list[str]) -> Callable[[], Any]:
        return lambda: ledger.batch_earn(tenant.id, actor, [
            ledger.EarnItem(user_id=u, points_amount=1, category="community") for u in order])

    rng = random.Random(3)
    calls = []
    for _ in range(15):
        forward = rng.sample(users, 8)
        calls += [batch(forward), batch(list(reversed(forward)))]
    results = run_concurrently(app, calls)
    assert crashes(results) == [] and all(kind == "ok" for kind, _ in results)
    assert count(PointTransaction) == 30 * 8
    assert_consistent()


@pytest.mark.postgresql
def test_concurrent_spends_and_batches_on_the_same_members(app, tenant, make_member, actor):
    users = [f"m{i}" for i in range(5)]
    for user in users:
        make_member(tenant, user)
        ledger.earn(tenant.id, actor, user_id=user, points_amount=100, category="login")

    def batch():
        return ledger.batch_earn(tenant.id, actor, [
            ledger.EarnItem(user_id=u, points_amount=2, category="login") for u in reversed(users)])

    def spend(user: str) -> Callable[[], Any]:
        return lambda: ledger.spend(tenant.id, actor, user_id=user, points_amount=3,
                                    category="payment")

    calls = [batch] * 20 + [spend(u) for u in users] * 10
    random.Random(5).shuffle(calls)
    results = run_concurrently(app, calls)
    assert crashes(results) == [] and all(kind == "ok" for kind, _ in results)
    for user in users:
        assert members.get_profile(tenant.id, user).total_points == 100 + 40 - 30
    assert_consistent()


@pytest.mark.postgresql
def test_concurrent_creates_of_one_member_make_one(app, tenant):
    actor = Actor(type="system", label="t")
    results = run_concurrently(app, [lambda: members.create(tenant.id, actor, user_id="dup")] * 20)
    assert crashes(results) == []
    assert Counter(kind if kind == "ok" else value for kind, value in results) == {
        "ok": 1, "MEMBER_EXISTS": 19}


@pytest.mark.postgresql
def test_levels_changed_during_concurrent_earns_still_follow_lifetime_points(
        app, tenant, make_member, actor):
    from app.services import levels

    users = [f"m{i}" for i in range(60)]
    for user in users:
        make_member(tenant, user)
    stop = threading.Event()

    def earn_loop(user_slice: list[str]) -> Callable[[], int]:
        def loop() -> int:
            n = 0
            while not stop.is_set():
                for user in user_slice:
                    ledger.earn(tenant.id, actor, user_id=user, points_amount=7,
                                category="login")
                    n += 1
            return n
        return loop

    def change_levels() -> int:
        try:
            for threshold in range(10, 400, 15):
                levels.create(tenant.id, actor, level_name=f"L{threshold}", min_points=threshold)
            for level in levels.list_levels(tenant.id, fresh=True)[::2]:
                levels.delete(tenant.id, actor, level.id)
            return 0
        finally:
            stop.set()

    calls = [earn_loop(users[i::12]) for i in range(12)] + [change_levels]
    results = run_concurrently(app, calls, workers=len(calls))
    assert crashes(results) == []
    assert_consistent()
