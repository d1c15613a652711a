"""The programme's arithmetic: rules + member state + event -> award lines.

A pure function of plain values (no database, no clock, no app context), so the
events API, the preview, the portal's simulator and a partial refund all compute
with the same code, and property tests can drive it directly. Money is Decimal
throughout; points are whole numbers, rounded down.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

FIXED, PER_AMOUNT, MULTIPLIER = "fixed", "per_amount", "multiplier"

# Why a line awards what it does (the simulator shows them, translated).
AWARDED = "awarded"
INACTIVE = "inactive"
OUTSIDE_WINDOW = "outside_window"
OTHER_LEVEL = "other_level"
BELOW_MIN_AMOUNT = "below_min_amount"
NO_AMOUNT = "no_amount"
LIMIT_REACHED = "limit_reached"
NOTHING_TO_MULTIPLY = "nothing_to_multiply"
SMALLER_MULTIPLIER = "smaller_multiplier"
CUT_TO_RULE_MAX = "cut_to_rule_max"
CUT_TO_TENANT_MAX = "cut_to_tenant_max"


@dataclass(frozen=True)
class Terms:
    """A rule's values as they apply to one event (kept with each award)."""

    id: int
    name: str
    event_type: str
    category: str
    award_type: str
    points: int | None = None
    per: Decimal | None = None
    factor: Decimal | None = None
    min_amount: Decimal | None = None
    level_ids: tuple[int, ...] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    limit_count: int | None = None
    limit_period: str | None = None
    max_points: int | None = None
    expires_in_days: int | None = None
    pending_days: int = 0
    active: bool = True

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe values (decimals as strings, times as ISO)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Terms:
        values = dict(data)
        for name in ("per", "factor", "min_amount"):
            if values.get(name) is not None:
                values[name] = Decimal(values[name])
        for name in ("starts_at", "ends_at"):
            if values.get(name) is not None:
                values[name] = datetime.fromisoformat(values[name])
        if values.get("level_ids") is not None:
            values["level_ids"] = tuple(values["level_ids"])
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Facts:
    """What happened: the event's type, money amount and time."""

    event_type: str
    amount: Decimal | None
    occurred_at: datetime


@dataclass(frozen=True)
class MemberState:
    """What the rules need to know of the member: the level, and how many awards
    each limited rule has already given in the period of this event."""

    level_id: int | None
    awarded: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    terms: Terms
    points: int
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


def floor_points(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def period_bounds(period: str, at: datetime, zone: ZoneInfo) -> tuple[datetime | None,
                                                                     datetime | None]:
    """The tenant-local day, week (from Monday), month or lifetime holding `at`, in UTC."""
    if period == "lifetime":
        return None, None
    local = at.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if period == "week":
        start -= timedelta(days=start.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = start.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        end = start + timedelta(days=1)
    # Wall-clock midnights made aware in the zone (fold 0: the first one on a DST change).
    return start.replace(tzinfo=zone).astimezone(at.tzinfo), end.replace(tzinfo=zone).astimezone(
        at.tzinfo)


def _gate(terms: Terms, member: MemberState, facts: Facts) -> str | None:
    """Why the rule gives nothing for this event, or None."""
    if not terms.active:
        return INACTIVE
    if (terms.starts_at is not None and facts.occurred_at < terms.starts_at) or (
            terms.ends_at is not None and facts.occurred_at >= terms.ends_at):
        return OUTSIDE_WINDOW
    if terms.level_ids is not None and member.level_id not in terms.level_ids:
        return OTHER_LEVEL
    if terms.min_amount is not None and (facts.amount is None
                                         or facts.amount < terms.min_amount):
        return BELOW_MIN_AMOUNT
    if terms.limit_count is not None and member.awarded.get(terms.id, 0) >= terms.limit_count:
        return LIMIT_REACHED
    return None


def _cap(terms: Terms, points: int) -> tuple[int, str]:
    if terms.max_points is not None and points > terms.max_points:
        return terms.max_points, CUT_TO_RULE_MAX
    return points, AWARDED


def evaluate(rules: Iterable[Terms], member: MemberState, facts: Facts,
             max_total: int) -> list[Line]:
    """One line per rule of the event's type, in rule order; `points` > 0 only on
    lines that award. Multipliers: the largest applicable one multiplies the sum
    of the other lines once, its line holding the extra points. The total is cut
    to `max_total` (the tenant's maximum per operation), last lines first."""
    mine = sorted((t for t in rules if t.event_type == facts.event_type), key=lambda t: t.id)
    lines: dict[int, Line] = {}
    multipliers: list[Terms] = []
    for terms in mine:
        refused = _gate(terms, member, facts)
        if refused is not None:
            lines[terms.id] = Line(terms, 0, refused)
        elif terms.award_type == MULTIPLIER:
            multipliers.append(terms)
        elif terms.award_type == FIXED:
            points, reason = _cap(terms, terms.points or 0)
            lines[terms.id] = Line(terms, points, reason)
        elif facts.amount is None:
            lines[terms.id] = Line(terms, 0, NO_AMOUNT)
        else:
            assert terms.per is not None and terms.points is not None
            units = floor_points(facts.amount / terms.per)
            points, reason = _cap(terms, units * terms.points)
            lines[terms.id] = Line(terms, points, reason, {"units": units})
    base = sum(line.points for line in lines.values())
    if multipliers:
        best = max(multipliers, key=lambda t: (t.factor or Decimal(1), -t.id))
        for terms in multipliers:
            if terms is not best:
                lines[terms.id] = Line(terms, 0, SMALLER_MULTIPLIER)
            elif base == 0:
                lines[terms.id] = Line(terms, 0, NOTHING_TO_MULTIPLY)
            else:
                extra = floor_points(Decimal(base) * (best.factor or Decimal(1))) - base
                points, reason = _cap(terms, max(extra, 0))
                lines[terms.id] = Line(terms, points, reason, {"base": base})
    ordered = [lines[t.id] for t in mine]
    room = max(max_total, 0)
    out = []
    for line in ordered:
        if line.points > room:
            line = Line(line.terms, room, CUT_TO_TENANT_MAX, line.detail)
        room -= line.points
        out.append(line)
    return out


def recompute(awarded: list[tuple[Terms, int]], amount: Decimal) -> list[int]:
    """What each award would be for `amount` (what is left after refunds), with the
    rule values it applied and never more than it was. Windows, levels and limits
    are not asked again: they held when the event was recorded."""
    if amount <= 0:
        return [0] * len(awarded)

    def qualifies(terms: Terms) -> bool:
        return terms.min_amount is None or amount >= terms.min_amount

    out: list[int | None] = []
    for terms, points in awarded:
        if terms.award_type == MULTIPLIER:
            out.append(None)  # after the base
        elif not qualifies(terms):
            out.append(0)
        elif terms.award_type == FIXED:
            out.append(points)
        else:
            assert terms.per is not None and terms.points is not None
            new, _reason = _cap(terms, floor_points(amount / terms.per) * terms.points)
            out.append(min(points, new))
    base = sum(v for v in out if v is not None)
    result = []
    for (terms, points), value in zip(awarded, out, strict=True):
        if value is None:
            extra = 0
            if qualifies(terms) and base > 0:
                extra, _reason = _cap(terms, max(floor_points(
                    Decimal(base) * (terms.factor or Decimal(1))) - base, 0))
            value = min(points, extra)
        result.append(value)
    return result


def total(lines: Iterable[Line]) -> int:
    return sum(line.points for line in lines)
