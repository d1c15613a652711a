"""Issue 15 item 10: the chart's 7/30/90 days (kept in the URL, htmx-enhanced,
working without it), the roll-up and the live sums over 90 days, and the full
cursor-paged list of points expiring soon."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.models import DailyStat
from app.services import clock, dashboard, dashboard_lists, ledger
from app.services.permissions import ROLE_PERMISSIONS, VIEW
from tests.webtools import check_access, is_full_page, text

NOON = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _earn_on(tenant, actor, user_id, days_ago, points):
    with clock.frozen(NOON - timedelta(days=days_ago)):
        ledger.earn(tenant.id, actor, user_id=user_id, points_amount=points, category="login")


def test_the_chart_offers_7_30_and_90_days_in_the_url(people, tenant, make_member, actor):
    make_member(tenant, "a")
    _earn_on(tenant, actor, "a", 60, 900)  # only in the 90 days
    _earn_on(tenant, actor, "a", 2, 7)
    viewer = people["viewer"]
    with clock.frozen(NOON):
        default, week, quarter = (viewer.get(url) for url in (
            "/t/acme/", "/t/acme/?days=7", "/t/acme/?days=90"))
        nonsense = viewer.get("/t/acme/?days=1000")
    assert "last 30 days" in text(default) and 'aria-current="true">30 days' in text(default)
    assert "last 7 days" in text(week) and 'aria-current="true">7 days' in text(week)
    assert text(week).count("<th scope=\"row\">") - text(default).count("<th scope=\"row\">") == -23
    assert "last 90 days" in text(quarter) and ">900<" in text(quarter)
    assert ">900<" not in text(default)
    assert "last 30 days" in text(nonsense)
    for n in (7, 30, 90):  # plain links: the choice works without JavaScript
        assert f'href="/t/acme/?days={n}"' in text(default)


def test_htmx_gets_the_chart_alone_and_pushes_the_url(people):
    partial = people["viewer"].get("/t/acme/?days=7", htmx=True)
    assert partial.status_code == 200 and not is_full_page(partial)
    assert text(partial).startswith('<section class="card chart" id="chart"')
    assert 'hx-push-url="true"' in text(partial) and "Outstanding" not in text(partial)


def test_a_90_day_chart_sums_days_the_roll_up_has_not_reached(tenant, make_member, actor):
    make_member(tenant, "a")
    _earn_on(tenant, actor, "a", 60, 900)
    _earn_on(tenant, actor, "a", 10, 10)
    with clock.frozen(NOON):
        live = dashboard.daily_totals(tenant.id)
        dashboard.roll_up(tenant.id)
        # As the roll-up of a 30-day chart left it: nothing older than 30 days stored.
        db.session.execute(delete(DailyStat).where(
            DailyStat.day < (NOON - timedelta(days=30)).date()))
        partial = dashboard.daily_totals(tenant.id)
        assert [d.totals for d in partial] == [d.totals for d in live]
        assert dashboard.roll_up(tenant.id) == 60  # the older days, filled in once
        assert dashboard.roll_up(tenant.id) == 0
        stored = dashboard.daily_totals(tenant.id)
    assert len(live) == 90 and sum(d.totals.issued for d in live) == 910
    assert [d.totals for d in stored] == [d.totals for d in live]
    days = {r.day for r in db.session.execute(select(DailyStat)).scalars()}
    assert len(days) == 90


def test_the_expiring_list_links_to_every_lot_paged_by_cursor(people, tenant, other_tenant,
                                                              make_member, actor):
    make_member(tenant, "a", display_name="Ann")
    make_member(other_tenant, "theirs")
    soon = (clock.now() + timedelta(days=3)).isoformat()
    for i in range(120):
        ledger.earn(tenant.id, actor, user_id="a", points_amount=i + 1, category="login",
                    expires_at=soon)
    ledger.earn(other_tenant.id, actor, user_id="theirs", points_amount=5, category="login",
                expires_at=soon)
    viewer = people["viewer"]
    board = text(viewer.get("/t/acme/"))
    assert 'href="/t/acme/expiring-points/"' in board
    first = viewer.get("/t/acme/expiring-points/")
    assert first.status_code == 200 and is_full_page(first)
    seen = re.findall(r'<td class="num">(\d+)</td>', text(first))
    cursor = re.search(r"cursor=([\w-]+)", text(first)).group(1)
    while cursor:
        more = viewer.get(f"/t/acme/expiring-points/?cursor={cursor}", htmx=True)
        assert not is_full_page(more)
        seen += re.findall(r'<td class="num">(\d+)</td>', text(more))
        found = re.search(r"cursor=([\w-]+)", text(more))
        cursor = found.group(1) if found else None
    assert sorted(int(s) for s in seen) == list(range(1, 121))  # each lot once
    assert "theirs" not in text(first)
    assert viewer.get("/t/acme/expiring-points/?cursor=%%%").status_code == 400


def test_the_expiring_page_needs_only_view(people):
    check_access(people, "GET", "/t/acme/expiring-points/", VIEW, ROLE_PERMISSIONS)


def test_pages_keep_to_the_soonest_first_order(tenant, make_member, actor):
    make_member(tenant, "a")
    now = clock.now()
    for days in (20, 2, 9, 2, 31):  # 31: outside the window
        ledger.earn(tenant.id, actor, user_id="a", points_amount=days, category="login",
                    expires_at=(now + timedelta(days=days)).isoformat())
    first = dashboard_lists.expiring_lots_page(tenant.id, now, page_size=2)
    second = dashboard_lists.expiring_lots_page(tenant.id, now, cursor=first.next_cursor,
                                                page_size=2)
    assert [lot.points for lot in first.items + second.items] == [2, 2, 9, 20]
    assert second.next_cursor is None
