"""Property tests of the programme's arithmetic (a pure function: no database)."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from app.services.programme.evaluation import (
    FIXED, MULTIPLIER, PER_AMOUNT, Facts, MemberState, Terms, evaluate, period_bounds, recompute,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
amounts = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2)
times = st.integers(0, 400 * 24).map(lambda h: START + timedelta(hours=h))
factors = st.decimals(min_value=1, max_value=10, places=2)


@st.composite
def rules(draw, rule_id: int) -> Terms:
    kind = draw(st.sampled_from((FIXED, PER_AMOUNT, MULTIPLIER)))
    starts = draw(st.none() | times)
    return Terms(
        id=rule_id, name=f"r{rule_id}", event_type="payment", category="payment",
        award_type=kind,
        points=draw(st.integers(1, 5000)) if kind != MULTIPLIER else None,
        per=draw(st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2))
        if kind == PER_AMOUNT else None,
        factor=draw(factors) if kind == MULTIPLIER else None,
        min_amount=draw(st.none() | amounts),
        level_ids=draw(st.none() | st.just((1,)) | st.just((2,))),
        starts_at=starts,
        ends_at=None if starts is None else starts + timedelta(days=draw(st.integers(1, 60))),
        limit_count=draw(st.none() | st.integers(1, 3)),
        max_points=draw(st.none() | st.integers(1, 20000)),
        active=draw(st.booleans()),
    )


rule_lists = st.integers(1, 6).flatmap(lambda n: st.tuples(*[rules(i + 1) for i in range(n)]))


@given(rule_lists, amounts, times, st.sampled_from((None, 1, 2)), st.integers(1, 100000))
def test_awards_are_never_negative_and_the_total_is_cut(rule_set, amount, at, level, max_total):
    lines = evaluate(rule_set, MemberState(level), Facts("payment", amount, at), max_total)
    assert all(line.points >= 0 for line in lines)
    assert sum(line.points for line in lines) <= max_total
    assert len(lines) == len(rule_set)


@given(st.integers(1, 5000), st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2),
       amounts)
def test_per_amount_is_exactly_floor_amount_over_per_times_points(points, per, amount):
    terms = Terms(1, "pay", "payment", "payment", PER_AMOUNT, points=points, per=per)
    [line] = evaluate([terms], MemberState(None), Facts("payment", amount, START), 10**18)
    assert line.points == int((amount / per).to_integral_value(ROUND_FLOOR)) * points
    # the same as integer arithmetic on cents: no float anywhere
    assert line.points == (int(amount * 100) // int(per * 100)) * points


@given(st.integers(1, 5000), st.lists(factors, min_size=1, max_size=4))
def test_the_largest_multiplier_applies_once(points, factor_list):
    base = Terms(1, "fixed", "payment", "payment", FIXED, points=points)
    multipliers = [Terms(i + 2, f"x{f}", "payment", "payment", MULTIPLIER, factor=f)
                   for i, f in enumerate(factor_list)]
    lines = evaluate([base, *multipliers], MemberState(None), Facts("payment", None, START),
                     10**18)
    best = max(factor_list)
    total = sum(line.points for line in lines)
    assert total == int((Decimal(points) * best).to_integral_value(ROUND_FLOOR))
    assert sum(1 for line in lines[1:] if line.points > 0) <= 1


@given(rule_lists, amounts, times)
def test_outside_its_window_or_inactive_a_rule_gives_nothing(rule_set, amount, at):
    lines = evaluate(rule_set, MemberState(1), Facts("payment", amount, at), 10**18)
    for terms, line in zip(sorted(rule_set, key=lambda t: t.id), lines, strict=True):
        outside = (terms.starts_at is not None and at < terms.starts_at) or (
            terms.ends_at is not None and at >= terms.ends_at)
        if outside or not terms.active:
            assert line.points == 0


@settings(max_examples=60)
@given(st.integers(1, 3), st.sampled_from(("day", "week", "month", "lifetime")),
       st.lists(st.integers(0, 90 * 24), min_size=1, max_size=40),
       st.sampled_from(("UTC", "Asia/Shanghai", "America/New_York")))
def test_limits_hold_across_any_sequence(count, period, hours, zone_name):
    """Feed each award back as the member's history, as the service does under the
    member's lock: no period ever holds more than `count` awards."""
    zone = ZoneInfo(zone_name)
    terms = Terms(1, "daily", "login", "login", FIXED, points=5, limit_count=count,
                  limit_period=period)
    awarded: list[datetime] = []
    for h in hours:
        at = START + timedelta(hours=h)
        start, end = period_bounds(period, at, zone)
        in_period = sum(1 for t in awarded if (start is None or start <= t < end))
        [line] = evaluate([terms], MemberState(None, {1: in_period}),
                          Facts("login", None, at), 10**18)
        if line.points:
            awarded.append(at)
    for at in awarded:
        start, end = period_bounds(period, at, zone)
        assert sum(1 for t in awarded if start is None or start <= t < end) <= count


@given(rule_lists, amounts, amounts)
def test_a_refund_never_gives_more_than_was_awarded(rule_set, amount, refund):
    lines = evaluate(rule_set, MemberState(1), Facts("payment", amount, START), 10**6)
    awarded = [(line.terms, line.points) for line in lines if line.points > 0]
    left = max(amount - refund, Decimal(0))
    again = recompute(awarded, left)
    assert all(0 <= new <= old for new, (_, old) in zip(again, awarded, strict=True))
    if left == 0:
        assert sum(again) == 0
