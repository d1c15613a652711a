"""The points ledger service: validation, earn, spend, adjust, lots, expiry, reversal."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, LotAllocation, PointLot, PointTransaction
from app.models.ledger import CATEGORIES
from app.services import ledger, levels, members, tenants
from app.services.errors import ValidationFailed
from tests.conftest import SYSTEM
from tests.ledger_helpers import T0, count, iso, lots_of, refused
from tests.ledger_invariants import assert_consistent


@pytest.fixture
def alice(tenant, make_member, clk):
    return make_member(tenant, "alice")


def earn(tenant, actor, amount, user="alice", **kw):
    kw.setdefault("category", "login")
    return ledger.earn(tenant.id, actor, user_id=user, points_amount=amount, **kw)


def spend(tenant, actor, amount, user="alice", **kw):
    kw.setdefault("category", "payment")
    return ledger.spend(tenant.id, actor, user_id=user, points_amount=amount, **kw)


def field_errors(info) -> dict:
    return info.value.details["field_errors"]


# --------------------------------------------------------------------------- validation

NOT_INTEGERS = [True, False, 1.0, 10.5, "10", "", None, [10], {"n": 10}]


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_it_refuses_non_integer_earn_amounts(tenant, alice, actor, value):
    with refused("VALIDATION_ERROR") as info:
        earn(tenant, actor, value)
    assert list(field_errors(info)) == ["points_amount"]


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_it_refuses_non_integer_spend_and_adjust_amounts(tenant, alice, actor, value):
    earn(tenant, actor, 100)
    with refused("VALIDATION_ERROR") as info:
        spend(tenant, actor, value)
    assert "points_amount" in field_errors(info)
    with refused("VALIDATION_ERROR") as info:
        ledger.adjust(tenant.id, actor, user_id="alice", points_amount=value, reason="fix")
    assert "points_amount" in field_errors(info)


@pytest.mark.parametrize("value", [0, -1, 10001, 2**70])
def test_it_refuses_earn_amounts_outside_one_to_the_default_maximum(tenant, alice, actor, value):
    with refused("VALIDATION_ERROR") as info:
        earn(tenant, actor, value)
    assert info.value.details["field_constraints"]["points_amount"] == {
        "min": 1, "max": 10000, "type": "integer"}
    assert info.value.details["valid_categories"] == list(CATEGORIES)


def test_it_accepts_one_and_the_maximum(tenant, alice, actor):
    assert earn(tenant, actor, 1).profile.total_points == 1
    assert earn(tenant, actor, 10000).profile.total_points == 10001
    assert spend(tenant, actor, 10000).profile.total_points == 1


def test_it_uses_the_tenants_own_maximum(app, make_member, actor, clk):
    small = tenants.create("small", "Small", SYSTEM, max_points_per_operation=50)
    make_member(small, "alice")
    assert earn(small, actor, 50).profile.total_points == 50
    with refused("VALIDATION_ERROR") as info:
        earn(small, actor, 51)
    assert info.value.details["field_constraints"]["points_amount"]["max"] == 50
    with refused("VALIDATION_ERROR"):
        spend(small, actor, 51)
    with refused("VALIDATION_ERROR") as info:
        ledger.adjust(small.id, actor, user_id="alice", points_amount=-51, reason="x")
    assert info.value.details["field_constraints"]["points_amount"] == {
        "min": -50, "max": 50, "type": "integer", "not": 0}


@pytest.mark.parametrize("value", [0, 10001, -10001])
def test_it_refuses_adjustments_of_zero_or_beyond_plus_minus_max(tenant, alice, actor, value):
    earn(tenant, actor, 10000)
    with refused("VALIDATION_ERROR") as info:
        ledger.adjust(tenant.id, actor, user_id="alice", points_amount=value, reason="fix")
    assert list(field_errors(info)) == ["points_amount"]


def test_it_accepts_adjustments_of_plus_and_minus_max(tenant, alice, actor):
    ledger.adjust(tenant.id, actor, user_id="alice", points_amount=10000, reason="up")
    out = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-10000, reason="down")
    assert out.profile.total_points == 0
    assert out.transaction.kind == "adjust" and out.transaction.points_amount == -10000


@pytest.mark.parametrize("category", CATEGORIES)
def test_it_accepts_each_of_the_eight_categories(tenant, alice, actor, category):
    out = earn(tenant, actor, 5, category=category)
    assert out.transaction.category == category
    assert spend(tenant, actor, 5, category=category).transaction.category == category


@pytest.mark.parametrize("category", ["LOGIN", "shopping", "", None, 1, ["login"], " login"])
def test_it_refuses_other_categories(tenant, alice, actor, category):
    with refused("VALIDATION_ERROR") as info:
        earn(tenant, actor, 5, category=category)
    assert list(field_errors(info)) == ["category"]
    assert info.value.details["valid_categories"] == list(CATEGORIES)


def test_it_defaults_an_adjustments_category_to_manual_and_validates_a_given_one(
        tenant, alice, actor):
    out = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=5, reason="r")
    assert out.transaction.category == "manual"
    out = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=5, reason="r",
                        category="referral")
    assert out.transaction.category == "referral"
    with refused("VALIDATION_ERROR") as info:
        ledger.adjust(tenant.id, actor, user_id="alice", points_amount=5, reason="r",
                      category="bogus")
    assert list(field_errors(info)) == ["category"]


@pytest.mark.parametrize("value", [
    "2020-01-01T00:00:00Z", "not a date", "2031-13-01T00:00:00Z", "", 1234567890, True, 1.5,
    "x" * 65,
])
def test_it_refuses_expiries_that_are_not_iso_8601_or_not_in_the_future(tenant, alice, actor,
                                                                          value):
    with refused("VALIDATION_ERROR") as info:
        earn(tenant, actor, 5, expires_at=value)
    assert list(field_errors(info)) == ["expires_at"]


def test_it_refuses_an_expiry_of_exactly_now(tenant, alice, actor, clk):
    with refused("VALIDATION_ERROR") as info:
        earn(tenant, actor, 5, expires_at=iso(clk.now))
    assert list(field_errors(info)) == ["expires_at"]


def test_it_accepts_future_iso_8601_expiries_with_any_offset(tenant, alice, actor, clk):
    out = earn(tenant, actor, 5, expires_at="2031-03-02T20:00:00+08:00")
    assert out.transaction.expires_at == T0 + timedelta(days=1)
    out = earn(tenant, actor, 5, expires_at=iso(clk.later(seconds=1)))
    assert out.transaction.expires_at == T0 + timedelta(seconds=1)
    lot = lots_of(out.profile.id)[-1]
    assert lot.expires_at == T0 + timedelta(seconds=1)


def test_a_credit_writes_its_entry_and_a_lot_that_copies_it(tenant, alice, actor, clk):
    """On PostgreSQL the entry and its lot are one statement; on SQLite two. Either
    way the lot is the entry's: same tenant, member, amount, expiry and time."""
    for expires_at in (iso(clk.later(days=3)), None):
        out = earn(tenant, actor, 7, expires_at=expires_at)
        entry = db.session.get(PointTransaction, out.transaction.id)
        lot = lots_of(out.profile.id)[-1]
        assert (lot.transaction_id, lot.tenant_id, lot.member_id) == \
            (entry.id, entry.tenant_id, entry.member_id)
        assert lot.amount == lot.remaining == entry.amount == 7
        assert lot.expires_at == entry.expires_at == out.transaction.expires_at
        assert lot.created_at == entry.created_at == T0
    assert count(PointLot) == count(PointTransaction) == 2
    assert_consistent()


def test_it_takes_a_naive_expiry_as_utc(tenant, alice, actor, clk):
    out = earn(tenant, actor, 5, expires_at="2031-03-01T13:00:00")
    assert out.transaction.expires_at == T0 + timedelta(hours=1)


def test_it_limits_the_reason_to_500_characters(tenant, alice, actor):
    out = earn(tenant, actor, 5, reason="理" * 500)
    assert out.transaction.reason == "理" * 500
    with refused("VALIDATION_ERROR") as info:
        earn(tenant, actor, 5, reason="x" * 501)
    assert list(field_errors(info)) == ["reason"]
    with refused("VALIDATION_ERROR"):
        spend(tenant, actor, 1, reason="x" * 501)
    with refused("VALIDATION_ERROR"):
        earn(tenant, actor, 5, reason=42)


def test_it_stores_the_reason_as_given(tenant, alice, actor):
    text = "  <b>Bonus</b> & 'quotes'\n奖励  "
    earn(tenant, actor, 5, reason=text)
    stored = db.session.execute(select(PointTransaction.reason)).scalar_one()
    assert stored == text


def test_it_reports_every_bad_field_at_once(tenant, alice, actor):
    with refused("VALIDATION_ERROR") as info:
        ledger.earn(tenant.id, actor, user_id="", points_amount="1", category="x",
                    reason="r" * 600, expires_at="yesterday")
    assert set(field_errors(info)) == {"user_id", "points_amount", "category", "reason",
                                       "expires_at"}


def test_it_requires_a_reason_to_adjust(tenant, alice, actor):
    for reason in (None, "", "   "):
        with refused("VALIDATION_ERROR") as info:
            ledger.adjust(tenant.id, actor, user_id="alice", points_amount=5, reason=reason)
        assert list(field_errors(info)) == ["reason"]


def test_it_refuses_bad_idempotency_keys(tenant, alice, actor):
    for key in ("", "k" * 256, 12):
        with refused("VALIDATION_ERROR") as info:
            earn(tenant, actor, 5, idempotency_key=key)
        assert list(field_errors(info)) == ["idempotency_key"]


# --------------------------------------------------------------------------- earn

def test_it_earns_a_lot_and_moves_balance_and_lifetime(tenant, alice, actor, clk):
    out = earn(tenant, actor, 120, reason="Welcome", idempotency_key="op-1")
    tx = out.transaction
    assert (tx.kind, tx.points_amount, tx.balance_after, tx.category, tx.reason) == (
        "earn", 120, 120, "login", "Welcome")
    assert tx.idempotency_key == "op-1" and tx.created_at == T0 and tx.expires_at is None
    assert (out.profile.total_points, out.profile.lifetime_points) == (120, 120)
    [lot] = lots_of(alice.id)
    assert (lot.amount, lot.remaining, lot.expires_at, lot.transaction_id) == (120, 120, None, tx.id)
    assert_consistent()


def test_it_applies_the_tenants_default_expiry(app, make_member, actor, clk):
    t = tenants.create("expiring", "Expiring", SYSTEM, default_expiry_days=30)
    m = make_member(t, "alice")
    out = earn(t, actor, 10)
    assert out.transaction.expires_at == T0 + timedelta(days=30)
    explicit = earn(t, actor, 10, expires_at=iso(clk.later(days=2)))
    assert explicit.transaction.expires_at == T0 + timedelta(days=2)
    adj = ledger.adjust(t.id, actor, user_id="alice", points_amount=5, reason="r")
    assert [lot.expires_at for lot in lots_of(m.id)] == [
        T0 + timedelta(days=30), T0 + timedelta(days=2), T0 + timedelta(days=30)]
    assert adj.transaction.points_amount == 5


def test_it_refuses_unknown_members(tenant, alice, actor):
    for call in (lambda: earn(tenant, actor, 5, user="nobody"),
                 lambda: spend(tenant, actor, 5, user="nobody"),
                 lambda: ledger.adjust(tenant.id, actor, user_id="nobody", points_amount=-1,
                                       reason="r"),
                 lambda: ledger.adjust(tenant.id, actor, user_id="nobody", points_amount=1,
                                       reason="r")):
        with refused("MEMBER_NOT_FOUND"):
            call()


def test_it_refuses_every_change_of_a_disabled_member(tenant, alice, actor):
    first = earn(tenant, actor, 50)
    paid = spend(tenant, actor, 10)
    members.set_points_enabled(tenant.id, actor, "alice", False)
    for call in (lambda: earn(tenant, actor, 5),
                 lambda: spend(tenant, actor, 5),
                 lambda: ledger.adjust(tenant.id, actor, user_id="alice", points_amount=5,
                                       reason="r"),
                 lambda: ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-5,
                                       reason="r"),
                 lambda: ledger.reverse(tenant.id, actor, first.transaction.id, reason="r"),
                 lambda: ledger.reverse(tenant.id, actor, paid.transaction.id, reason="r")):
        with refused("POINTS_DISABLED") as info:
            call()
        assert info.value.details == {"user_id": "alice"}
    members.set_points_enabled(tenant.id, actor, "alice", True)
    assert earn(tenant, actor, 5).profile.total_points == 45


# --------------------------------------------------------------------------- spend

def test_it_explains_insufficient_points(tenant, alice, actor):
    earn(tenant, actor, 30)
    with refused("INSUFFICIENT_POINTS") as info:
        spend(tenant, actor, 100)
    details = info.value.details
    assert (details["required_points"], details["available_points"], details["shortage"]) == (
        100, 30, 70)
    assert details["suggestions"] and all(isinstance(s, str) and s for s in details["suggestions"])


def test_it_refuses_to_spend_from_an_empty_balance(tenant, alice, actor):
    with refused("INSUFFICIENT_POINTS") as info:
        spend(tenant, actor, 1)
    assert info.value.details["available_points"] == 0
    assert info.value.details["shortage"] == 1


def test_it_spends_the_whole_balance_down_to_zero(tenant, alice, actor):
    earn(tenant, actor, 30)
    earn(tenant, actor, 20)
    out = spend(tenant, actor, 50)
    assert out.profile.total_points == 0 and out.transaction.balance_after == 0
    assert out.profile.lifetime_points == 50
    assert_consistent()


def test_it_consumes_soonest_expiring_lots_first_and_never_expiring_last(tenant, alice, actor,
                                                                         clk):
    never = earn(tenant, actor, 100)
    late = earn(tenant, actor, 100, expires_at=iso(clk.later(days=30)))
    soon = earn(tenant, actor, 100, expires_at=iso(clk.later(days=2)))
    mid = earn(tenant, actor, 100, expires_at=iso(clk.later(days=10)))
    out = spend(tenant, actor, 250)
    remaining = {lot.transaction_id: lot.remaining for lot in lots_of(alice.id)}
    assert remaining == {soon.transaction.id: 0, mid.transaction.id: 0,
                         late.transaction.id: 50, never.transaction.id: 100}
    allocations = db.session.execute(
        select(LotAllocation.amount).where(LotAllocation.transaction_id == out.transaction.id)
        .order_by(LotAllocation.id)).scalars().all()
    assert allocations == [100, 100, 50]
    spend(tenant, actor, 100)
    remaining = {lot.transaction_id: lot.remaining for lot in lots_of(alice.id)}
    assert remaining[late.transaction.id] == 0 and remaining[never.transaction.id] == 50
    assert_consistent()


def test_it_consumes_lots_with_the_same_expiry_oldest_first(tenant, alice, actor, clk):
    at = iso(clk.later(days=5))
    a = earn(tenant, actor, 10, expires_at=at)
    b = earn(tenant, actor, 10, expires_at=at)
    never_1 = earn(tenant, actor, 10)
    never_2 = earn(tenant, actor, 10)
    spend(tenant, actor, 15)
    spend(tenant, actor, 10)
    remaining = {lot.transaction_id: lot.remaining for lot in lots_of(alice.id)}
    assert remaining == {a.transaction.id: 0, b.transaction.id: 0, never_1.transaction.id: 5,
                         never_2.transaction.id: 10}


def test_it_expires_due_lots_before_a_debit(tenant, alice, actor, clk):
    earn(tenant, actor, 100, expires_at=iso(clk.later(days=1)))
    earn(tenant, actor, 40)
    clk.advance(days=2)
    with refused("INSUFFICIENT_POINTS") as info:
        spend(tenant, actor, 50)
    assert info.value.details["available_points"] == 40  # the expired 100 are gone
    out = spend(tenant, actor, 30)
    assert out.profile.total_points == 10
    kinds = db.session.execute(
        select(PointTransaction.kind, PointTransaction.amount, PointTransaction.balance_after)
        .order_by(PointTransaction.id)).all()
    assert [tuple(k) for k in kinds] == [("earn", 100, 100), ("earn", 40, 140),
                                         ("expire", -100, 40), ("spend", -30, 10)]
    assert_consistent()


def test_it_treats_a_lot_expiring_exactly_now_as_expired(tenant, alice, actor, clk):
    earn(tenant, actor, 10, expires_at=iso(clk.later(hours=1)))
    clk.advance(hours=1)
    with refused("INSUFFICIENT_POINTS"):
        spend(tenant, actor, 1)


def test_a_negative_adjustment_consumes_lots_like_a_spend(tenant, alice, actor, clk):
    earn(tenant, actor, 50)
    soon = earn(tenant, actor, 50, expires_at=iso(clk.later(days=1)))
    out = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-60, reason="fix")
    assert out.profile.total_points == 40 and out.profile.lifetime_points == 100
    remaining = {lot.transaction_id: lot.remaining for lot in lots_of(alice.id)}
    assert remaining[soon.transaction.id] == 0
    with refused("INSUFFICIENT_POINTS") as info:
        ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-41, reason="fix")
    assert info.value.details["shortage"] == 1
    assert_consistent()


def test_a_positive_adjustment_counts_toward_lifetime(tenant, alice, actor):
    out = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=70, reason="goodwill")
    assert (out.profile.total_points, out.profile.lifetime_points) == (70, 70)
    assert len(lots_of(alice.id)) == 1
    assert_consistent()


# --------------------------------------------------------------------------- reversal

def test_reversing_an_earn_takes_back_what_is_left_of_its_lot(tenant, alice, actor):
    levels.create(tenant.id, actor, level_name="Gold", min_points=100)
    other = earn(tenant, actor, 20)
    big = earn(tenant, actor, 100)
    assert big.profile.level.level_name == "Gold"
    spend(tenant, actor, 30)  # 20 from `other`? no: both never expire, oldest first
    out = ledger.reverse(tenant.id, actor, big.transaction.id, reason="duplicate",
                         idempotency_key="rev-1")
    tx = out.transaction
    assert (tx.kind, tx.points_amount, tx.reverses_id, tx.category) == (
        "reversal", -90, big.transaction.id, "login")
    assert (out.profile.total_points, out.profile.lifetime_points) == (0, 30)
    assert out.profile.level is None
    remaining = {lot.transaction_id: lot.remaining for lot in lots_of(alice.id)}
    assert remaining == {other.transaction.id: 0, big.transaction.id: 0}
    assert_consistent()


def test_reversing_an_earn_with_nothing_left_is_not_reversible(tenant, alice, actor):
    first = earn(tenant, actor, 20)
    spend(tenant, actor, 20)
    with refused("NOT_REVERSIBLE") as info:
        ledger.reverse(tenant.id, actor, first.transaction.id, reason="r")
    assert info.value.details["remaining_points"] == 0


def test_reversing_a_spend_gives_back_exactly_to_the_same_lots(tenant, alice, actor, clk):
    a = earn(tenant, actor, 30, expires_at=iso(clk.later(days=1)))
    b = earn(tenant, actor, 30, expires_at=iso(clk.later(days=2)))
    c = earn(tenant, actor, 30)
    paid = spend(tenant, actor, 50)
    earn(tenant, actor, 5)
    spend(tenant, actor, 10)  # b: 10 -> 0
    out = ledger.reverse(tenant.id, actor, paid.transaction.id, reason="refund")
    assert out.transaction.points_amount == 50 and out.profile.total_points == 85
    assert out.profile.lifetime_points == 95
    remaining = {lot.transaction_id: lot.remaining for lot in lots_of(alice.id)}
    assert remaining[a.transaction.id] == 30
    assert remaining[b.transaction.id] == 20
    assert remaining[c.transaction.id] == 30
    assert_consistent()


def test_reversing_a_negative_adjustment_gives_the_points_back(tenant, alice, actor):
    earn(tenant, actor, 50)
    adj = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-20, reason="fix")
    out = ledger.reverse(tenant.id, actor, adj.transaction.id, reason="undo")
    assert out.transaction.points_amount == 20 and out.profile.total_points == 50
    assert out.profile.lifetime_points == 50


def test_reversing_a_positive_adjustment_takes_it_back_from_lifetime(tenant, alice, actor):
    adj = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=40, reason="gift")
    out = ledger.reverse(tenant.id, actor, adj.transaction.id, reason="undo")
    assert out.transaction.points_amount == -40
    assert (out.profile.total_points, out.profile.lifetime_points) == (0, 0)
    assert_consistent()


def test_it_reverses_a_transaction_once(tenant, alice, actor):
    first = earn(tenant, actor, 20)
    rev = ledger.reverse(tenant.id, actor, first.transaction.id, reason="r")
    with refused("ALREADY_REVERSED") as info:
        ledger.reverse(tenant.id, actor, first.transaction.id, reason="again")
    assert info.value.details == {"reversal_id": rev.transaction.id}


def test_expiries_and_reversals_are_not_reversible(tenant, alice, actor, clk):
    first = earn(tenant, actor, 20, expires_at=iso(clk.later(days=1)))
    second = earn(tenant, actor, 20)
    rev = ledger.reverse(tenant.id, actor, second.transaction.id, reason="r")
    clk.advance(days=2)
    ledger.expire_due()
    expiry = db.session.execute(
        select(PointTransaction.id).where(PointTransaction.kind == "expire")).scalar_one()
    for tx_id, kind in ((expiry, "expire"), (rev.transaction.id, "reversal")):
        with refused("NOT_REVERSIBLE") as info:
            ledger.reverse(tenant.id, actor, tx_id, reason="r")
        assert info.value.details["kind"] == kind
    with refused("NOT_REVERSIBLE"):
        ledger.reverse(tenant.id, actor, first.transaction.id, reason="r")  # nothing left


@pytest.mark.parametrize("bad_id", [999999, 0, -1, "1", True, None, 2**64])
def test_it_does_not_find_unknown_transactions(tenant, alice, actor, bad_id):
    earn(tenant, actor, 20)
    with refused("NOT_FOUND"):
        ledger.reverse(tenant.id, actor, bad_id, reason="r")


def test_a_reversal_needs_a_reason(tenant, alice, actor):
    first = earn(tenant, actor, 20)
    for reason in (None, "", " ", "x" * 501):
        with refused("VALIDATION_ERROR") as info:
            ledger.reverse(tenant.id, actor, first.transaction.id, reason=reason)
        assert list(field_errors(info)) == ["reason"]


# --------------------------------------------------------------------------- batch earn

def item(user_id="alice", amount=10, **kw):
    kw.setdefault("category", "login")
    return ledger.EarnItem(user_id=user_id, points_amount=amount, **kw)


def test_a_batch_earns_for_several_members_in_order(tenant, make_member, actor, clk):
    make_member(tenant, "alice")
    make_member(tenant, "bob")
    levels.create(tenant.id, actor, level_name="Silver", min_points=25)
    out = ledger.batch_earn(tenant.id, actor, [
        item("alice", 10), item("bob", 5, idempotency_key="b-1"), item("alice", 20, reason="bonus"),
        item("bob", 1, expires_at=iso(clk.later(days=3))),
    ])
    assert [(o.transaction.user_id, o.transaction.balance_after) for o in out] == [
        ("alice", 10), ("bob", 5), ("alice", 30), ("bob", 6)]
    assert out[1].transaction.idempotency_key == "b-1"
    assert out[3].transaction.expires_at == T0 + timedelta(days=3)
    assert out[0].profile.total_points == 30 and out[0].profile.level.level_name == "Silver"
    assert out[1].profile.level is None
    assert_consistent()


@pytest.mark.parametrize("size", [0, 1001])
def test_a_batch_has_one_to_a_thousand_operations(tenant, alice, actor, size):
    with refused("VALIDATION_ERROR") as info:
        ledger.batch_earn(tenant.id, actor, [item() for _ in range(size)])
    assert "operations" in field_errors(info)


def test_a_batch_of_a_thousand_is_accepted(tenant, alice, actor):
    out = ledger.batch_earn(tenant.id, actor, [item(amount=1) for _ in range(1000)])
    assert len(out) == 1000 and out[-1].transaction.balance_after == 1000
    assert count(PointLot) == 1000
    assert_consistent()


def test_a_batch_is_all_or_nothing_with_errors_by_index(tenant, make_member, actor):
    make_member(tenant, "alice")
    make_member(tenant, "off")
    members.set_points_enabled(tenant.id, actor, "off", False)
    with refused("VALIDATION_ERROR") as info:
        ledger.batch_earn(tenant.id, actor, [
            item("alice"), item("alice", amount=1.5), item("ghost"), item("alice"),
            item("off"), item("alice", category="nope", reason="x" * 501),
        ])
    errors = info.value.details["validation_errors"]
    assert [e["index"] for e in errors] == [1, 2, 4, 5]
    assert list(errors[0]["field_errors"]) == ["points_amount"]
    assert list(errors[1]["field_errors"]) == ["user_id"]
    assert list(errors[2]["field_errors"]) == ["user_id"]
    assert set(errors[3]["field_errors"]) == {"category", "reason"}
    assert info.value.details["valid_categories"] == list(CATEGORIES)


def test_a_batch_with_another_tenants_member_is_refused(tenant, other_tenant, make_member, actor):
    make_member(tenant, "alice")
    make_member(other_tenant, "stranger")
    with refused("VALIDATION_ERROR") as info:
        ledger.batch_earn(tenant.id, actor, [item("alice"), item("stranger")])
    assert [e["index"] for e in info.value.details["validation_errors"]] == [1]


# --------------------------------------------------------------------------- expiry job

def test_the_expiry_job_expires_only_due_lots(tenant, make_member, actor, clk):
    a = make_member(tenant, "alice")
    make_member(tenant, "bob")
    earn(tenant, actor, 10, expires_at=iso(clk.later(days=1)))
    earn(tenant, actor, 20, expires_at=iso(clk.later(days=5)))
    earn(tenant, actor, 7)
    earn(tenant, actor, 3, user="bob", expires_at=iso(clk.later(days=1)))
    spend(tenant, actor, 4)  # from alice's soonest lot: 6 of 10 left to expire
    clk.advance(days=2)
    report = ledger.expire_due()
    assert (report.lots, report.points, report.members) == (2, 9, 2)
    assert members.get_profile(tenant.id, "alice").total_points == 27
    assert members.get_profile(tenant.id, "bob").total_points == 0
    assert [lot.remaining for lot in lots_of(a.id)] == [0, 20, 7]
    again = ledger.expire_due()
    assert (again.lots, again.points) == (0, 0)
    expiry = db.session.execute(select(PointTransaction).where(
        PointTransaction.kind == "expire", PointTransaction.member_id == a.id)).scalar_one()
    assert (expiry.amount, expiry.category, expiry.actor_type) == (-6, "login", "system")
    assert_consistent()


def test_the_expiry_job_counts_each_member_once_across_batches(tenant, alice, actor, clk):
    for days in (1, 2, 3):
        earn(tenant, actor, 10, expires_at=iso(clk.later(days=days)))
    clk.advance(days=4)
    report = ledger.expire_due(batch_size=1)
    assert (report.lots, report.points, report.members) == (3, 30, 1)


def test_the_expiry_job_can_keep_to_one_tenant(tenant, other_tenant, make_member, actor, clk):
    make_member(tenant, "alice")
    make_member(other_tenant, "alice")
    earn(tenant, actor, 10, expires_at=iso(clk.later(days=1)))
    earn(other_tenant, actor, 10, expires_at=iso(clk.later(days=1)))
    clk.advance(days=2)
    assert ledger.expire_due(tenant_id=other_tenant.id).lots == 1
    assert members.get_profile(tenant.id, "alice").total_points == 10
    assert members.get_profile(other_tenant.id, "alice").total_points == 0


# --------------------------------------------------------------------------- history and audit

def test_history_is_newest_first_paged_and_filtered(tenant, alice, actor):
    ids = [earn(tenant, actor, i + 1, category="login" if i % 2 else "referral").transaction.id
           for i in range(5)]
    spent = spend(tenant, actor, 3).transaction.id
    page = ledger.transactions_page(tenant.id, "alice", page_size=4)
    assert [t.id for t in page.items] == [spent, ids[4], ids[3], ids[2]]
    assert page.has_next
    rest = ledger.transactions_page(tenant.id, "alice", page_size=4, cursor=page.next_cursor)
    assert [t.id for t in rest.items] == [ids[1], ids[0]] and not rest.has_next
    assert [t.id for t in ledger.transactions_page(tenant.id, "alice", kind="spend").items] == [spent]
    assert [t.id for t in ledger.transactions_page(tenant.id, "alice", category="referral").items] == [
        ids[4], ids[2], ids[0]]
    for bad in ({"kind": "gift"}, {"category": "x"}, {"cursor": "garbage!"}):
        with pytest.raises(ValidationFailed):
            ledger.transactions_page(tenant.id, "alice", **bad)


def test_history_says_which_entries_were_reversed_in_the_same_read(tenant, alice, actor):
    kept, undone = earn(tenant, actor, 10), earn(tenant, actor, 20)
    reversal = ledger.reverse(tenant.id, actor, undone.transaction.id, reason="duplicate")
    page = ledger.transactions_page(tenant.id, "alice")
    assert [(t.id, t.is_reversed) for t in page.items] == [
        (reversal.transaction.id, False), (undone.transaction.id, True),
        (kept.transaction.id, False)]
    assert "is_reversed" not in page.items[0].as_dict()  # not part of the API's entry


def test_every_combination_of_history_filters_pages_what_it_should(tenant, alice, actor):
    """One statement serves every combination of kind, category and cursor: walking
    the pages of each must give the member's entries that match, newest first, each
    once."""
    for i in range(7):
        earn(tenant, actor, i + 1, category=("login", "referral", "payment")[i % 3])
    spend(tenant, actor, 2, category="payment")
    spend(tenant, actor, 1, category="login")
    everything = ledger.transactions_page(tenant.id, "alice", page_size=100).items
    for kind in (None, "earn", "spend"):
        for category in (None, "login", "payment"):
            expected = [t.id for t in everything
                        if kind in (None, t.kind) and category in (None, t.category)]
            seen, cursor = [], None
            while True:
                page = ledger.transactions_page(tenant.id, "alice", page_size=2, kind=kind,
                                      category=category, cursor=cursor)
                seen += [t.id for t in page.items]
                if not page.has_next:
                    break
                cursor = page.next_cursor
            assert seen == expected, (kind, category)


def test_every_ledger_change_is_audited_with_actor_and_request(tenant, make_member, actor):
    make_member(tenant, "alice")
    make_member(tenant, "bob")
    first = earn(tenant, actor, 50)
    spend(tenant, actor, 5)
    ledger.adjust(tenant.id, actor, user_id="alice", points_amount=-5, reason="fix")
    ledger.reverse(tenant.id, actor, first.transaction.id, reason="undo")
    ledger.batch_earn(tenant.id, actor, [item("alice"), item("bob")])
    rows = db.session.execute(
        select(AuditLog).where(AuditLog.action.like("points.%")).order_by(AuditLog.id)
    ).scalars().all()
    assert [r.action for r in rows] == ["points.earn", "points.spend", "points.adjust",
                                        "points.reverse", "points.batch_earn"]
    for r in rows:
        assert (r.tenant_id, r.actor_type, r.actor_label, r.request_id, r.ip) == (
            tenant.id, "staff", "tester@example.com", "req-test", "127.0.0.1")
    assert (rows[0].target_type, rows[0].target_id) == ("member", "alice")
    assert rows[0].data["transaction_id"] == first.transaction.id
    assert (rows[3].target_type, rows[3].target_id) == ("transaction", str(first.transaction.id))
    txs = db.session.execute(select(PointTransaction)).scalars().all()
    assert {(t.request_id, t.actor_type, t.actor_label) for t in txs} == {
        ("req-test", "staff", "tester@example.com")}
