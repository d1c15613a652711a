"""Property-based test of the ledger: random sequences of earn, spend, adjust,
reverse, expire and batch earn over several members and a moving clock.

After every step the database must agree with a simple in-memory model of lots
(what each member holds, transaction by transaction, lot by lot), and every
invariant of BRIEF.md must hold when recomputed from the rows, both by
`ledger_check.verify` and by this suite's own `ledger_invariants.problems`.
Each example runs in a fresh tenant of the test's database.
"""
from __future__ import annotations

import itertools
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test,
)
from sqlalchemy import text

from app.extensions import db
from app.services import clock, ledger, ledger_check, levels, members, tenants, vip
from app.services.context import Actor
from app.services.errors import DomainError
from tests.ledger_helpers import iso
from tests.ledger_invariants import problems

START = datetime(2031, 1, 1, 9, 0, tzinfo=UTC)
ACTOR = Actor(type="api_client", id=7, label="prop", request_id="prop")
MEMBERS = ("ann", "bo", "cy")
LEVELS = ((0, "Base"), (100, "Silver"), (300, "Gold"))
_slugs = itertools.count(1)


@dataclass(eq=False)
class Lot:
    tx_id: int | None
    amount: int
    remaining: int
    expires_at: datetime | None


@dataclass(eq=False)
class Tx:
    user: str
    kind: str
    amount: int
    balance_after: int
    allocs: list[tuple[Lot, int]] = field(default_factory=list)
    lot: Lot | None = None
    reverses: Tx | None = None
    reversed: bool = False
    id: int | None = None


@dataclass(eq=False)
class Holder:
    user_id: str
    member_id: int
    balance: int = 0
    lifetime: int = 0
    enabled: bool = True
    lots: list[Lot] = field(default_factory=list)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.members: dict[str, Holder] = {}
        self.txs: list[Tx] = []
        self.last_id = 0

    # ------------------------------------------------------------------ set-up

    @initialize(expiry_days=st.sampled_from([None, 2]), max_points=st.sampled_from([50, 10000]))
    def start(self, expiry_days: int | None, max_points: int) -> None:
        self.stack.enter_context(clock.frozen(START))
        self.tenant = tenants.create(f"prop-{next(_slugs)}", "Property", ACTOR,
                                     max_points_per_operation=max_points,
                                     default_expiry_days=expiry_days)
        self.expiry_days, self.max_points = expiry_days, max_points
        for threshold, name in LEVELS:
            levels.create(self.tenant.id, ACTOR, level_name=name, min_points=threshold)
        for user_id in MEMBERS:
            profile = members.create(self.tenant.id, ACTOR, user_id=user_id)
            self.members[user_id] = Holder(user_id, profile.id)
        self.tag = vip.create_tag(self.tenant.id, ACTOR, tag_name="VIP", tag_type="vip", rank=1,
                                  duration_days=3, points_price=25)
        self.last_id = db.session.execute(
            text("SELECT coalesce(max(id), 0) FROM point_transactions")).scalar_one()

    def teardown(self) -> None:
        self.stack.close()

    # ------------------------------------------------------------------ the model

    def _credit(self, m: Holder, kind: str, amount: int, expires_at: datetime | None) -> list[Tx]:
        m.balance += amount
        m.lifetime += amount
        lot = Lot(None, amount, amount, expires_at)
        m.lots.append(lot)
        return [Tx(m.user_id, kind, amount, m.balance, lot=lot)]

    def _default_expiry(self) -> datetime | None:
        return clock.now() + timedelta(days=self.expiry_days) if self.expiry_days else None

    def _debit(self, m: Holder, kind: str, amount: int) -> list[Tx] | int:
        """The transactions a debit makes, or the points available if it cannot."""
        now = clock.now()
        open_lots = sorted((lot for lot in m.lots if lot.remaining > 0),
                           key=lambda lot: (lot.expires_at is None, lot.expires_at or START,
                                            lot.tx_id))
        due = [lot for lot in open_lots if lot.expires_at is not None and lot.expires_at <= now]
        live = [lot for lot in open_lots if lot not in due]
        available = sum(lot.remaining for lot in live)
        if available < amount:
            return available
        made = self._expire(m, due)
        needed, allocs = amount, []
        for lot in live:
            if needed == 0:
                break
            take = min(lot.remaining, needed)
            lot.remaining -= take
            needed -= take
            allocs.append((lot, take))
        m.balance -= amount
        made.append(Tx(m.user_id, kind, -amount, m.balance, allocs=allocs))
        return made

    def _expire(self, m: Holder, due: list[Lot]) -> list[Tx]:
        made = []
        for lot in due:
            m.balance -= lot.remaining
            made.append(Tx(m.user_id, "expire", -lot.remaining, m.balance,
                           allocs=[(lot, lot.remaining)]))
            lot.remaining = 0
        return made

    # ------------------------------------------------------------------ checking

    def _expect(self, call, made: list[Tx] | str) -> None:
        """Run `call`; it must fail with the code `made` names, or make exactly `made`."""
        try:
            call()
        except DomainError as exc:
            assert isinstance(made, str), f"unexpected {exc.code} {exc.details}"
            assert exc.code == made, (exc.code, made, exc.details)
            return
        assert not isinstance(made, str), f"expected {made}, the call succeeded"
        self._sync(made)

    def _sync(self, made: list[Tx]) -> None:
        """The new rows, in id order, are exactly the model's new transactions."""
        rows = db.session.execute(text(
            "SELECT t.id, m.user_id, t.kind, t.amount, t.balance_after, t.reverses_id, t.category "
            "FROM point_transactions t JOIN members m ON m.id = t.member_id "
            "WHERE t.tenant_id = :t AND t.id > :after ORDER BY t.id"),
            {"t": self.tenant.id, "after": self.last_id}).all()
        got = [(r.user_id, r.kind, r.amount, r.balance_after, r.reverses_id) for r in rows]
        want = [(t.user, t.kind, t.amount, t.balance_after,
                 t.reverses.id if t.reverses else None) for t in made]
        assert got == want
        for row, tx in zip(rows, made, strict=True):
            tx.id = row.id
            if tx.lot is not None:
                tx.lot.tx_id = row.id
        self.txs.extend(made)
        if rows:
            self.last_id = rows[-1].id

    # ------------------------------------------------------------------ rules

    member = st.sampled_from(MEMBERS)
    amount = st.integers(1, 60)

    @rule(user=member, amount=amount, hours=st.none() | st.integers(1, 96))
    def earn(self, user: str, amount: int, hours: int | None) -> None:
        m = self.members[user]
        expires = clock.now() + timedelta(hours=hours) if hours else None
        if amount > self.max_points:
            made: list[Tx] | str = "VALIDATION_ERROR"
        elif not m.enabled:
            made = "POINTS_DISABLED"
        else:
            made = self._credit(m, "earn", amount, expires or self._default_expiry())
        self._expect(lambda: ledger.earn(
            self.tenant.id, ACTOR, user_id=user, points_amount=amount, category="login",
            expires_at=iso(expires) if expires else None), made)

    @rule(user=member, amount=amount)
    def spend(self, user: str, amount: int) -> None:
        self._debit_rule(user, amount, lambda: ledger.spend(
            self.tenant.id, ACTOR, user_id=user, points_amount=amount, category="payment"),
            "spend")

    @rule(user=member, amount=st.integers(-60, 60).filter(bool))
    def adjust(self, user: str, amount: int) -> None:
        def call():
            return ledger.adjust(self.tenant.id, ACTOR, user_id=user, points_amount=amount,
                                 reason="prop")
        m = self.members[user]
        if amount > 0 and amount <= self.max_points and m.enabled:
            self._expect(call, self._credit(m, "adjust", amount, self._default_expiry()))
        else:
            self._debit_rule(user, abs(amount), call, "adjust")

    def _debit_rule(self, user: str, amount: int, call, kind: str) -> None:
        m = self.members[user]
        if amount > self.max_points:
            made: list[Tx] | str = "VALIDATION_ERROR"
        elif not m.enabled:
            made = "POINTS_DISABLED"
        else:
            plan = self._debit(m, kind, amount)
            made = "INSUFFICIENT_POINTS" if isinstance(plan, int) else plan
        self._expect(call, made)

    @precondition(lambda self: self.txs)
    @rule(pick=st.integers(0, 10**6))
    def reverse(self, pick: int) -> None:
        target = self.txs[pick % len(self.txs)]
        m = self.members[target.user]
        made: list[Tx] | str
        if target.kind in ("expire", "reversal"):
            made = "NOT_REVERSIBLE"
        elif not m.enabled:
            made = "POINTS_DISABLED"
        elif target.reversed:
            made = "ALREADY_REVERSED"
        elif target.amount > 0:
            lot = target.lot
            assert lot is not None
            if lot.remaining == 0:
                made = "NOT_REVERSIBLE"
            else:
                take = lot.remaining
                lot.remaining = 0
                m.balance -= take
                m.lifetime -= take
                made = [Tx(m.user_id, "reversal", -take, m.balance, allocs=[(lot, take)],
                           reverses=target)]
                target.reversed = True
        else:
            for lot, given in target.allocs:
                lot.remaining += given
            m.balance -= target.amount
            made = [Tx(m.user_id, "reversal", -target.amount, m.balance, reverses=target)]
            target.reversed = True
        self._expect(lambda: ledger.reverse(self.tenant.id, ACTOR, target.id, reason="prop"),
                     made)

    @rule()
    def expire(self) -> None:
        now = clock.now()
        made: list[Tx] = []
        for m in sorted(self.members.values(), key=lambda h: h.member_id):
            due = sorted((lot for lot in m.lots
                          if lot.remaining > 0 and lot.expires_at and lot.expires_at <= now),
                         key=lambda lot: (lot.expires_at, lot.tx_id))
            made += self._expire(m, due)
        report = ledger.expire_due(tenant_id=self.tenant.id)
        assert (report.lots, report.points, report.members) == (
            len(made), -sum(t.amount for t in made), len({t.user for t in made}))
        self._sync(made)

    @rule(items=st.lists(st.tuples(member, amount), min_size=1, max_size=5))
    def batch(self, items: list[tuple[str, int]]) -> None:
        if any(a > self.max_points or not self.members[u].enabled for u, a in items):
            made: list[Tx] | str = "VALIDATION_ERROR"
        else:
            made = [t for u, a in items
                    for t in self._credit(self.members[u], "earn", a, self._default_expiry())]
        self._expect(lambda: ledger.batch_earn(self.tenant.id, ACTOR, [
            ledger.EarnItem(user_id=u, points_amount=a, category="referral") for u, a in items
        ]), made)

    @rule(user=member)
    def buy_vip(self, user: str) -> None:
        """A VIP tag paid with points: a vip_upgrade spend, atomic with the grant."""
        m = self.members[user]
        if not m.enabled:
            made: list[Tx] | str = "POINTS_DISABLED"
        else:
            plan = self._debit(m, "spend", 25)
            made = "INSUFFICIENT_POINTS" if isinstance(plan, int) else plan
        self._expect(lambda: vip.grant(self.tenant.id, ACTOR, user_id=user, tag_id=self.tag.id,
                                       resolution="replace_existing", pay_with_points=True),
                     made)

    @rule(threshold=st.integers(1, 400), drop=st.booleans())
    def change_levels(self, threshold: int, drop: bool) -> None:
        """Levels change under the members; the invariant check recomputes each level."""
        current = levels.list_levels(self.tenant.id, fresh=True)
        if drop and current:
            levels.delete(self.tenant.id, ACTOR, current[threshold % len(current)].id)
        elif threshold not in {lv.min_points for lv in current}:
            levels.create(self.tenant.id, ACTOR, level_name=f"L{threshold}", min_points=threshold)

    @rule(hours=st.integers(1, 72))
    def advance(self, hours: int) -> None:
        clock.advance(timedelta(hours=hours))

    @rule(user=member)
    def toggle(self, user: str) -> None:
        m = self.members[user]
        m.enabled = not m.enabled
        members.set_points_enabled(self.tenant.id, ACTOR, user, m.enabled)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def ledger_matches_model_and_invariants_hold(self) -> None:
        if not self.members:
            return
        db.session.rollback()
        rows = db.session.execute(text(
            "SELECT id, user_id, total_points, lifetime_points FROM members WHERE tenant_id = :t"),
            {"t": self.tenant.id}).all()
        assert {r.user_id: (r.total_points, r.lifetime_points) for r in rows} == {
            u: (m.balance, m.lifetime) for u, m in self.members.items()}
        lots = dict(db.session.execute(text(
            "SELECT transaction_id, remaining FROM point_lots WHERE tenant_id = :t"),
            {"t": self.tenant.id}).all())
        assert lots == {lot.tx_id: lot.remaining
                        for m in self.members.values() for lot in m.lots}
        assert problems(self.tenant.id) == []
        assert ledger_check.verify(self.tenant.id) == []
        for m in self.members.values():
            assert m.balance >= 0
            assert m.balance == sum(lot.remaining for lot in m.lots)


def test_it_keeps_every_invariant_through_random_operations(app):
    run_state_machine_as_test(LedgerMachine, settings=settings(
        # JIFEN_PROPERTY_EXAMPLES=500 for a longer hunt; the default keeps the suite quick.
        max_examples=int(os.environ.get("JIFEN_PROPERTY_EXAMPLES", "30")),
        stateful_step_count=30, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    ))
