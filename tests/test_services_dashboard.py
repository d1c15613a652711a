from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from app.extensions import db
from app.models import DailyStat
from app.services import clock, dashboard, ledger, levels, vip
from tests.conftest import SYSTEM

NOON = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _activity(tenant, make_member, actor):
    make_member(tenant, "a")
    make_member(tenant, "b")
    with clock.frozen(NOON - timedelta(days=3)):
        ledger.earn(tenant.id, actor, user_id="a", points_amount=500, category="login")
        ledger.spend(tenant.id, actor, user_id="a", points_amount=100, category="payment")
    with clock.frozen(NOON - timedelta(days=1)):
        ledger.adjust(tenant.id, actor, user_id="a", points_amount=-50, reason="fix")
        ledger.earn(tenant.id, actor, user_id="b", points_amount=70, category="referral",
                    expires_at=(NOON + timedelta(days=5)).isoformat())
    with clock.frozen(NOON):
        ledger.earn(tenant.id, actor, user_id="b", points_amount=30, category="login")


def test_it_sums_periods_and_the_liability(tenant, make_member, actor):
    _activity(tenant, make_member, actor)
    with clock.frozen(NOON):
        board = dashboard.build(tenant.id)
    assert board.members == 2 and board.outstanding == 450
    assert board.periods["today"].issued == 30
    assert board.periods["7d"].issued == 600 and board.periods["7d"].spent == 100
    assert board.periods["7d"].adjusted_out == 50 and board.periods["30d"].net == 450
    assert board.expiring_points == 70 and board.expiring_points_members == 1
    assert [d.totals.issued for d in board.daily][-4:] == [500, 0, 70, 30]
    assert board.latest[0].points_amount == 30


def test_building_the_page_writes_nothing_and_sums_unrolled_days_live(
        tenant, make_member, actor):
    _activity(tenant, make_member, actor)
    writes: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    with clock.frozen(NOON):
        event.listen(db.engine, "before_cursor_execute", spy)
        try:
            live = dashboard.build(tenant.id)
        finally:
            event.remove(db.engine, "before_cursor_execute", spy)
        assert writes == [] and db.session.execute(select(DailyStat)).first() is None
        dashboard.roll_up(tenant.id)
        stored = dashboard.build(tenant.id)
    assert [d.totals for d in live.daily] == [d.totals for d in stored.daily]
    assert [d.totals.issued for d in live.daily][-4:] == [500, 0, 70, 30]


def test_closed_days_are_summed_once_and_read_from_the_table(tenant, make_member, actor):
    _activity(tenant, make_member, actor)
    with clock.frozen(NOON):
        assert dashboard.roll_up(tenant.id) == max(dashboard.CHART_DAYS)
        assert dashboard.roll_up(tenant.id) == 0
    stored = {r.day: r for r in db.session.execute(select(DailyStat)).scalars()}
    three_days_ago = (NOON - timedelta(days=3)).date()
    assert stored[three_days_ago].earned == 500 and stored[three_days_ago].spent == 100
    assert NOON.date() not in stored  # today stays live


def test_the_page_reads_only_today_from_the_ledger(tenant, make_member, actor):
    _activity(tenant, make_member, actor)
    with clock.frozen(NOON):
        dashboard.roll_up(tenant.id)
        seen: list[str] = []

        def spy(conn, cursor, statement, params, context, executemany):
            if "point_transactions" in statement and "GROUP BY" in statement:
                seen.append(str(params))

        event.listen(db.engine, "before_cursor_execute", spy)
        try:
            dashboard.build(tenant.id)
        finally:
            event.remove(db.engine, "before_cursor_execute", spy)
    # one grouped ledger query, starting today (or yesterday, within the grace period)
    assert len(seen) == 1
    assert "2026-03-15" in seen[0] or "2026, 3, 15, 0, 0" in seen[0]


def test_a_day_just_after_midnight_stays_live_for_the_grace_period(tenant, make_member, actor):
    make_member(tenant, "a")
    just_before = datetime(2026, 3, 15, 23, 59, 59, tzinfo=UTC)
    with clock.frozen(just_before):
        ledger.earn(tenant.id, actor, user_id="a", points_amount=10, category="login")
    with clock.frozen(just_before + timedelta(minutes=2)):
        dashboard.roll_up(tenant.id)
        days = dashboard.daily_totals(tenant.id)
    assert db.session.get(DailyStat, (tenant.id, just_before.date())) is None
    assert days[-2].totals.earned == 10


def test_levels_and_expiring_tags(tenant, make_member, actor):
    levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=100)
    make_member(tenant, "a")
    make_member(tenant, "b")
    ledger.earn(tenant.id, actor, user_id="a", points_amount=150, category="login")
    tag = vip.create_tag(tenant.id, SYSTEM, tag_name="VIP", tag_type="vip", rank=1,
                         duration_days=5)
    vip.grant(tenant.id, actor, user_id="b", tag_id=tag.id)
    board = dashboard.build(tenant.id)
    assert [(lv.level_name, lv.members) for lv in board.levels] == [(None, 1), ("Gold", 1)]
    assert board.expiring_tags_count == 1 and board.expiring_tags[0].user_id == "b"
