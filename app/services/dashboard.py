"""The dashboard's numbers, without scanning the ledger: closed days stored once
by the roll-up, the open day summed live, the page cached per tenant and checked
against the database on every request (docs/ledger.md, "The dashboard's figures").
The page's lists (levels, expiring tags and points, latest, by rule) are in
dashboard_lists."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.database import is_postgres
from app.extensions import cache, db
from app.models import (
    AuditLog, DailyStat, Member, PointLot, PointTransaction, Tenant,
)
from app.models.dashboard import AMOUNT_COLUMNS
from app.services import clock
from app.services.dashboard_lists import (
    EXPIRING_POINTS_DAYS, ExpiringLot, ExpiringTag, LevelCount, RecentTransaction, RuleTotal,
    awarded_by_rule, expiring_lots, expiring_tags, expiring_tags_count, latest,
    level_distribution, members_by_level,
)
from app.services.uow import transactional

WINDOW_DAYS = 30  # the periods' longest, and the rules' window
CHART_DAYS = (7, 30, 90)  # the daily chart's choices; the roll-up keeps the longest
GRACE = timedelta(minutes=10)

_tx = PointTransaction.__table__
_stats = DailyStat.__table__
_members = Member.__table__
_lots = PointLot.__table__
_audit = AuditLog.__table__
_tenants = Tenant.__table__

CACHE_SECONDS = 60
# A cached page is only kept while the tenant's recent activity is this small:
# a busy tenant's figures change on every request anyway, and counting its
# recent rows to check a cached page would cost more than it saves.
ACTIVITY_CAP = 5000


@dataclass
class Totals:
    earned: int = 0
    spent: int = 0
    expired: int = 0
    adjusted_in: int = 0
    adjusted_out: int = 0
    reversed_in: int = 0
    reversed_out: int = 0
    transactions: int = 0

    @property
    def issued(self) -> int:
        """Points given to members: earns and positive adjustments."""
        return self.earned + self.adjusted_in

    @property
    def net(self) -> int:
        """The change of the tenant's liability over the period."""
        return (self.earned + self.adjusted_in + self.reversed_in
                - self.spent - self.expired - self.adjusted_out - self.reversed_out)

    def add(self, other: Totals) -> None:
        for name in AMOUNT_COLUMNS + ("transactions",):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class DayTotals:
    day: date
    totals: Totals



@dataclass
class Dashboard:
    generated_at: datetime
    members: int
    outstanding: int
    periods: dict[str, Totals]  # "today", "7d", "30d"
    daily: list[DayTotals]  # max(CHART_DAYS) days, oldest first
    levels: list[LevelCount]
    expiring_tags: list[ExpiringTag]
    expiring_tags_count: int
    expiring_points: int
    expiring_points_members: int
    expiring_lots: list[ExpiringLot]
    latest: list[RecentTransaction] = field(default_factory=list)
    pending: int = 0  # awarded, not yet in the balance (pending awards)
    by_rule: list[RuleTotal] = field(default_factory=list)




# --------------------------------------------------------------------------- daily sums

def _day_expr() -> Any:
    """The UTC calendar day of a transaction, in SQL."""
    if is_postgres():
        return func.date(func.timezone("UTC", _tx.c.created_at))
    return func.date(_tx.c.created_at)  # SQLite stores naive UTC text


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _sum_days(tenant_id: int, start: datetime, end: datetime | None) -> dict[date, Totals]:
    """Sum the ledger from `start` (to `end`) by day, through the tenant/time index."""
    positive = _tx.c.amount > 0
    day = _day_expr().label("day")
    query = (
        select(day, _tx.c.kind, positive.label("positive"),
               func.sum(_tx.c.amount).label("points"), func.count().label("n"))
        .where(_tx.c.tenant_id == tenant_id, _tx.c.created_at >= start)
        .group_by(day, _tx.c.kind, positive)
    )
    if end is not None:
        query = query.where(_tx.c.created_at < end)
    result: dict[date, Totals] = {}
    for row in db.session.execute(query):
        totals = result.setdefault(_as_date(row.day), Totals())
        points = abs(int(row.points or 0))
        column = {
            ("earn", True): "earned", ("spend", False): "spent", ("expire", False): "expired",
            ("adjust", True): "adjusted_in", ("adjust", False): "adjusted_out",
            ("reversal", True): "reversed_in", ("reversal", False): "reversed_out",
        }.get((row.kind, bool(row.positive)))
        if column is not None:
            setattr(totals, column, getattr(totals, column) + points)
        totals.transactions += int(row.n)
    return result


def closed_through(now: datetime) -> date:
    """The last day whose transactions can no longer change."""
    return (now - GRACE).date() - timedelta(days=1)


@transactional
def roll_up(tenant_id: int, now: datetime | None = None) -> int:
    """Sum the closed days of the window not summed yet; returns how many days.
    Safe to run concurrently: a day already stored is left alone."""
    now = now or clock.now()
    through = closed_through(now)
    first = now.date() - timedelta(days=max(CHART_DAYS))
    stored_first, stored_last = (
        None if value is None else _as_date(value) for value in db.session.execute(
            select(func.min(_stats.c.day), func.max(_stats.c.day))
            .where(_stats.c.tenant_id == tenant_id, _stats.c.day >= first)).one())
    # The days after the last stored one, and those of a longer window before the
    # first stored one (the chart once kept 30 days): stored days stay contiguous.
    spans = [(first, through)] if stored_first is None else [
        (first, stored_first - timedelta(days=1)),
        (stored_last + timedelta(days=1), through)]
    rows = []
    for start, end in spans:
        if start > end:
            continue
        sums = _sum_days(tenant_id, _midnight(start), _midnight(end + timedelta(days=1)))
        day = start
        while day <= end:
            totals = sums.get(day, Totals())
            rows.append({"tenant_id": tenant_id, "day": day, "computed_at": now,
                         **{name: getattr(totals, name) for name in AMOUNT_COLUMNS},
                         "transactions": totals.transactions})
            day += timedelta(days=1)
    if not rows:
        return 0
    insert = pg_insert if is_postgres() else sqlite_insert
    db.session.execute(insert(_stats).on_conflict_do_nothing(
        index_elements=["tenant_id", "day"]), rows)
    return len(rows)


def roll_up_all(now: datetime | None = None) -> int:
    """`roll_up` for every tenant (the CLI's and the daily job's); days stored in all."""
    tenant_ids = db.session.execute(select(_tenants.c.id).order_by(_tenants.c.id)).scalars().all()
    return sum(roll_up(tenant_id, now) for tenant_id in tenant_ids)


def daily_totals(tenant_id: int, now: datetime | None = None) -> list[DayTotals]:
    """The chart's longest window, oldest first: stored rows for the closed days the
    roll-up has summed, live sums for the days after the last of them and before
    the first of them (a window longer than the roll-up has caught up with). The
    page never writes: the roll-up runs from the CLI and on the worker's schedule."""
    now = now or clock.now()
    span = max(CHART_DAYS)
    today = now.date()
    first = today - timedelta(days=span - 1)
    through = closed_through(now)
    by_day: dict[date, Totals] = {}
    for row in db.session.execute(
        select(_stats).where(_stats.c.tenant_id == tenant_id, _stats.c.day >= first,
                             _stats.c.day <= through)
    ):
        by_day[_as_date(row.day)] = Totals(**{name: row._mapping[name]
                                              for name in AMOUNT_COLUMNS + ("transactions",)})
    if by_day and min(by_day) > first:
        by_day.update(_sum_days(tenant_id, _midnight(first), _midnight(min(by_day))))
    live_start = max(by_day) + timedelta(days=1) if by_day else first
    by_day.update(_sum_days(tenant_id, _midnight(live_start), None))
    return [DayTotals(first + timedelta(days=i), by_day.get(first + timedelta(days=i), Totals()))
            for i in range(span)]


def _period(days: list[DayTotals], count: int) -> Totals:
    total = Totals()
    for entry in days[-count:]:
        total.add(entry.totals)
    return total


# --------------------------------------------------------------------------- the page

def cache_key(tenant_id: int) -> str:
    return f"dashboard:{tenant_id}"


def recent_activity(tenant_id: int, since: datetime) -> tuple[int, int]:
    """How many ledger and audit rows of the tenant are stamped at or after
    `since` (each counted up to ACTIVITY_CAP + 1), in one statement through the
    (tenant_id, created_at) indexes."""
    def counted(table: Any) -> Any:
        recent = (select(table.c.id)
                  .where(table.c.tenant_id == tenant_id, table.c.created_at >= since)
                  .limit(ACTIVITY_CAP + 1).subquery())
        return select(func.count()).select_from(recent).scalar_subquery()

    ledger, audit = db.session.execute(select(counted(_tx), counted(_audit))).one()
    return int(ledger), int(audit)


def page(tenant_id: int) -> Dashboard:
    """The dashboard, from this tenant's cached copy while the count of its ledger
    and audit rows stamped since the copy was built is unchanged (nothing the
    page shows can have changed: docs/ledger.md says why), else built afresh."""
    now = clock.now()
    key = cache_key(tenant_id)
    kept = cache.get(key)
    if kept is not None:
        board, since, activity = kept
        built = board.generated_at
        if built <= now < built + timedelta(seconds=CACHE_SECONDS) \
                and built.date() == now.date() and closed_through(built) == closed_through(now) \
                and recent_activity(tenant_id, since) == activity:
            return board
    since = now - GRACE
    activity = recent_activity(tenant_id, since)
    board = build(tenant_id, now)
    if max(activity) <= ACTIVITY_CAP:
        cache.set(key, (board, since, activity), timeout=CACHE_SECONDS)
    return board


def build(tenant_id: int, now: datetime | None = None) -> Dashboard:
    now = now or clock.now()
    days = daily_totals(tenant_id, now)
    by_level = members_by_level(tenant_id)
    count = sum(n for n, _points in by_level.values())
    outstanding = sum(points for _n, points in by_level.values())
    pending = db.session.execute(select(func.coalesce(func.sum(_members.c.pending_points), 0))
                                 .where(_members.c.tenant_id == tenant_id)).scalar_one()
    soon_points, soon_members = db.session.execute(
        select(func.coalesce(func.sum(_lots.c.remaining), 0),
               func.count(func.distinct(_lots.c.member_id)))
        .where(_lots.c.tenant_id == tenant_id, _lots.c.remaining > 0,
               _lots.c.expires_at > now,
               _lots.c.expires_at <= now + timedelta(days=EXPIRING_POINTS_DAYS))
    ).one()
    return Dashboard(
        generated_at=now, members=int(count), outstanding=int(outstanding),
        periods={"today": _period(days, 1), "7d": _period(days, 7),
                 "30d": _period(days, WINDOW_DAYS)},
        daily=days, levels=level_distribution(tenant_id, by_level),
        expiring_tags=expiring_tags(tenant_id, now),
        expiring_tags_count=expiring_tags_count(tenant_id, now),
        expiring_points=int(soon_points), expiring_points_members=int(soon_members),
        expiring_lots=expiring_lots(tenant_id, now), latest=latest(tenant_id),
        pending=int(pending),
        by_rule=awarded_by_rule(tenant_id, now - timedelta(days=WINDOW_DAYS)),
    )
