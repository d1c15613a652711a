"""Events: what a member did, turned into awards by the tenant's rules.

`record` writes the event, its awards, their earn entries and lots (or pending
awards) in one transaction with the member locked, so limits are counted under
the lock and two events never award past them. An event is recorded once
forever by its `event_id`: a repeat with the same body gets the first answer.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select, text, update

from app.extensions import db
from app.models import EventAward, PendingAward, ProgrammeEvent
from app.services import audit, bulk, clock, levels, members, tenants
from app.services.context import Actor
from app.services.errors import (
    EVENT_EXISTS, EVENT_NOT_FOUND, MEMBER_NOT_FOUND, POINTS_DISABLED, DomainError,
)
from app.services.ledger.entries import (
    default_expiry, ledger_row, lots_table, members_table, tx_table,
)
from app.services.programme import rules
from app.services.programme.checks import check_event_type, check_money
from app.services.programme.evaluation import (
    Facts, Line, MemberState, Terms, evaluate, period_bounds,
)
from app.services.uow import transactional
from app.services.webhooks import events as webhook_events
from app.services.validation import (
    IDEMPOTENCY_KEY_MAX, REASON_MAX, FieldErrors, check_user_id, parse_datetime,
)

ATTRIBUTES_MAX_BYTES = 4096
FIELDS = ("event_id", "user_id", "event_type", "amount", "occurred_at", "attributes")
_m = members_table
_events, _awards, _pending = (ProgrammeEvent.__table__, EventAward.__table__,
                              PendingAward.__table__)


@dataclass(frozen=True)
class Input:
    """A checked event body."""

    event_id: str | None
    user_id: str
    event_type: str
    amount: Decimal | None
    occurred_at: datetime
    attributes: dict[str, Any]
    fingerprint: str


@dataclass
class AwardView:
    rule_id: int
    rule_name: str
    points: int
    status: str
    available_at: datetime
    transaction_id: int | None = None
    revoked_points: int = 0
    category: str = ""
    id: int | None = None


@dataclass
class EventView:
    event_id: str | None
    user_id: str
    event_type: str
    amount: Decimal | None
    occurred_at: datetime
    attributes: dict[str, Any]
    points_awarded: int
    refunded_amount: Decimal = Decimal("0.00")
    revoked: bool = False
    created_at: datetime | None = None
    id: int | None = None

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        return "partially_revoked" if self.refunded_amount else "recorded"

    def as_dict(self) -> dict[str, Any]:
        """The event as integrations see it (the API, the event.revoked webhook)."""
        return {"event_id": self.event_id, "user_id": self.user_id,
                "event_type": self.event_type, "amount": money_text(self.amount),
                "occurred_at": self.occurred_at, "attributes": self.attributes,
                "points_awarded": self.points_awarded,
                "refunded_amount": money_text(self.refunded_amount), "status": self.status,
                "created_at": self.created_at}


def money_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass
class EventOutcome:
    event: EventView
    awards: list[AwardView]
    profile: members.Profile | None
    lines: list[Line] = field(default_factory=list)
    preview: bool = False

    @property
    def points_awarded(self) -> int:
        return sum(a.points for a in self.awards)


@dataclass(frozen=True)
class Recorded:
    """The answer to a POST: `text` as first rendered, and whether this is a repeat."""

    text: str
    replayed: bool
    outcome: EventOutcome | None = None


# --------------------------------------------------------------------------- input

def _check_attributes(errors: FieldErrors, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("attributes", _("Attributes are a JSON object."))
        return {}
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(encoded.encode()) > ATTRIBUTES_MAX_BYTES or "\\u0000" in encoded:
        errors.add("attributes", _("Attributes are at most 4 KiB of JSON, without NUL."))
        return {}
    return value


def check_input(*, now: datetime, user_id: Any, event_type: Any, event_id: Any = None,
                amount: Any = None, occurred_at: Any = None, attributes: Any = None,
                require_event_id: bool = True) -> Input:
    errors = FieldErrors()
    if event_id is None and not require_event_id:
        clean_id = None
    elif not isinstance(event_id, str) or not 1 <= len(event_id) <= IDEMPOTENCY_KEY_MAX \
            or "\x00" in event_id:
        errors.add("event_id", _("An event id is 1 to %(max)s characters of text.",
                                 max=IDEMPOTENCY_KEY_MAX))
        clean_id = None
    else:
        clean_id = event_id
    clean_user = check_user_id(errors, user_id)
    clean_type = check_event_type(errors, event_type)
    clean_amount = check_money(errors, "amount", amount)
    when = now
    if occurred_at is not None:
        parsed = parse_datetime(occurred_at)
        if parsed is None:
            errors.add("occurred_at", _("Use an ISO 8601 date and time, "
                                        "e.g. 2030-12-31T23:59:59Z."))
        elif parsed > now:
            errors.add("occurred_at", _("An event cannot have happened in the future."))
        else:
            when = parsed
    clean_attributes = _check_attributes(errors, attributes)
    errors.raise_if_any()
    body = {"user_id": clean_user, "event_type": clean_type,
            "amount": None if clean_amount is None else str(clean_amount),
            "occurred_at": None if occurred_at is None else when.isoformat(),
            "attributes": clean_attributes}
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                                 .encode()).hexdigest()
    return Input(clean_id, clean_user, clean_type, clean_amount, when,  # type: ignore[arg-type]
                 clean_attributes, fingerprint)


# --------------------------------------------------------------------------- computing

def awarded_counts(member_id: int, terms: list[Terms], at: datetime, zone: Any
                   ) -> dict[int, int]:
    """How many awards each limited rule gave the member in the period holding `at`:
    one statement, whatever the number of rules and the length of the history
    (an index range per rule). Awards later refunded still count: the member did
    sign in, or pay, that day."""
    limited = [t for t in terms if t.limit_count is not None and t.active]
    if not limited:
        return {}
    conditions = []
    for t in limited:
        start, end = period_bounds(t.limit_period or "lifetime", at, zone)
        parts = [_awards.c.rule_id == t.id]
        if start is not None:
            parts += [_awards.c.occurred_at >= start, _awards.c.occurred_at < end]
        conditions.append(and_(*parts))
    rows = db.session.execute(
        select(_awards.c.rule_id, func.count()).where(_awards.c.member_id == member_id,
                                                      or_(*conditions))
        .group_by(_awards.c.rule_id)).all()
    return {rule_id: count for rule_id, count in rows}


def compute(tenant: Any, member_row: Any, facts: Facts) -> list[Line]:
    """The lines an event earns the member now (reads, writes nothing)."""
    terms = rules.terms_for(tenant.id, facts.event_type)
    counts = awarded_counts(member_row.id, terms, facts.occurred_at, tenants.zone(tenant))
    return evaluate(terms, MemberState(member_row.level_id, counts), facts,
                    tenant.max_points_per_operation)


def _award_views(lines: list[Line], facts: Facts, now: datetime) -> list[AwardView]:
    views = []
    for line in lines:
        if line.points <= 0:
            continue
        available_at = facts.occurred_at + timedelta(days=line.terms.pending_days)
        status = "pending" if available_at > now else "available"
        views.append(AwardView(line.terms.id, line.terms.name, line.points, status,
                               available_at, category=line.terms.category))
    return views


# --------------------------------------------------------------------------- reading

def _event_view(row: Any, user_id: str) -> EventView:
    return EventView(row.event_id, user_id, row.event_type, row.amount, row.occurred_at,
                     row.attributes or {}, row.points_awarded, row.refunded_amount or
                     Decimal("0.00"), row.revoked, row.created_at, row.id)


def award_rows(event_pk: int) -> list[Any]:
    return list(db.session.execute(
        select(_awards).where(_awards.c.event_id == event_pk).order_by(_awards.c.id)))


def award_view(row: Any) -> AwardView:
    return AwardView(row.rule_id, row.rule_name, row.points, row.status, row.available_at,
                     row.transaction_id, row.revoked_points,
                     (row.rule_values or {}).get("category", ""), row.id)


def find_event_row(tenant_id: int, event_id: Any) -> Any:
    """The tenant-scoped loader of events (with the member's user_id)."""
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= IDEMPOTENCY_KEY_MAX \
            or "\x00" in event_id:
        raise DomainError(EVENT_NOT_FOUND)
    row = db.session.execute(
        select(_events, _m.c.user_id).join(_m, _m.c.id == _events.c.member_id)
        .where(_events.c.tenant_id == tenant_id, _events.c.event_id == event_id)).first()
    if row is None:
        raise DomainError(EVENT_NOT_FOUND)
    return row


def get(tenant_id: int, event_id: Any) -> EventOutcome:
    row = find_event_row(tenant_id, event_id)
    return EventOutcome(_event_view(row, row.user_id),
                        [award_view(a) for a in award_rows(row.id)], None)


def recent_for_member(tenant_id: int, member_id: int, limit: int = 10) -> list[EventOutcome]:
    """The member's latest events with their awards (two statements)."""
    rows = db.session.execute(
        select(_events, _m.c.user_id).join(_m, _m.c.id == _events.c.member_id)
        .where(_events.c.tenant_id == tenant_id, _events.c.member_id == member_id)
        .order_by(_events.c.id.desc()).limit(limit)).all()
    if not rows:
        return []
    by_event: dict[int, list[AwardView]] = {}
    for a in db.session.execute(select(_awards).where(
            _awards.c.event_id.in_([r.id for r in rows])).order_by(_awards.c.id)):
        by_event.setdefault(a.event_id, []).append(award_view(a))
    return [EventOutcome(_event_view(r, r.user_id), by_event.get(r.id, []), None)
            for r in rows]


# --------------------------------------------------------------------------- preview

def preview(tenant_id: int, **body: Any) -> EventOutcome:
    """What `record` would award now, writing nothing."""
    tenant = tenants.get(tenant_id)
    now = clock.now()
    given = check_input(now=now, require_event_id=False, **body)
    member = members.locate(tenant_id, given.user_id)
    facts = Facts(given.event_type, given.amount, given.occurred_at)
    lines = compute(tenant, member, facts)
    awards = _award_views(lines, facts, now)
    event = EventView(given.event_id, given.user_id, given.event_type, given.amount,
                      given.occurred_at, given.attributes, sum(a.points for a in awards))
    return EventOutcome(event, awards, members.profile_of(tenant_id, member), lines, True)


# --------------------------------------------------------------------------- recording

_LOCK_MEMBER = (select(_m).where(_m.c.tenant_id == bindparam("tenant_id"),
                                 _m.c.user_id == bindparam("user_id")).with_for_update())


# INSERT … ON CONFLICT DO NOTHING RETURNING id: a concurrent event with the same id
# (another member's) waits for it and then yields no row, not an error. Written as
# text, which PostgreSQL and SQLite both read: the dialects' upsert constructs are
# not cacheable and would be compiled again on every event.
_INSERT_EVENT = text(
    "INSERT INTO programme_events (tenant_id, member_id, event_id, event_type, amount, "
    "refunded_amount, occurred_at, attributes, points_awarded, fingerprint, revoked, "
    "created_at) VALUES (:tenant_id, :member_id, :event_id, :event_type, :amount, 0, "
    ":occurred_at, :attributes, :points_awarded, :fingerprint, false, :created_at) "
    "ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING id"
).bindparams(bindparam("amount", type_=_events.c.amount.type),
             bindparam("occurred_at", type_=_events.c.occurred_at.type),
             bindparam("attributes", type_=_events.c.attributes.type),
             bindparam("created_at", type_=_events.c.created_at.type))


def _existing(tenant_id: int, given: Input) -> Recorded:
    row = db.session.execute(
        select(_events.c.fingerprint, _events.c.answer)
        .where(_events.c.tenant_id == tenant_id, _events.c.event_id == given.event_id)).one()
    if row.fingerprint != given.fingerprint:
        raise DomainError(EVENT_EXISTS, {"event_id": given.event_id})
    return Recorded(row.answer or "", True)


def _reason(terms: Terms) -> str:
    return terms.name[:REASON_MAX]


@transactional
def record(tenant_id: int, actor: Actor, render: Callable[[EventOutcome], str], *,
           event_id: Any, user_id: Any, event_type: Any, amount: Any = None,
           occurred_at: Any = None, attributes: Any = None) -> Recorded:
    """Record an event and award what the rules say. `render` turns the outcome into
    the answer kept with the event, returned again to a repeat of the same body."""
    tenant = tenants.get_for_level_write(tenant_id)  # credits move levels
    now = clock.now()
    given = check_input(now=now, event_id=event_id, user_id=user_id, event_type=event_type,
                        amount=amount, occurred_at=occurred_at, attributes=attributes)
    member = db.session.execute(_LOCK_MEMBER, {"tenant_id": tenant_id,
                                               "user_id": given.user_id}).first()
    if member is None:
        if db.session.execute(select(_events.c.id).where(
                _events.c.tenant_id == tenant_id, _events.c.event_id == given.event_id)).first():
            return _existing(tenant_id, given)
        raise DomainError(MEMBER_NOT_FOUND)
    facts = Facts(given.event_type, given.amount, given.occurred_at)
    lines = compute(tenant, member, facts)
    awards = _award_views(lines, facts, now)
    event_pk = db.session.execute(_INSERT_EVENT, {
        "tenant_id": tenant_id, "member_id": member.id, "event_id": given.event_id,
        "event_type": given.event_type, "amount": given.amount,
        "occurred_at": given.occurred_at, "attributes": given.attributes,
        "points_awarded": sum(a.points for a in awards), "fingerprint": given.fingerprint,
        "created_at": now}).scalar()
    if event_pk is None:
        return _existing(tenant_id, given)
    if not member.is_points_enabled:
        raise DomainError(POINTS_DISABLED, {"user_id": member.user_id})
    row = _write_awards(tenant, actor, member, event_pk, given, lines, awards, now)
    event = EventView(given.event_id, member.user_id, given.event_type, given.amount,
                      given.occurred_at, given.attributes, sum(a.points for a in awards),
                      created_at=now, id=event_pk)
    outcome = EventOutcome(event, awards,
                           members.profile_of(tenant_id, members.MemberRecord.of(row)), lines)
    text = render(outcome)
    db.session.execute(update(_events).where(_events.c.id == event_pk).values(answer=text))
    return Recorded(text, False, outcome)


def _write_awards(tenant: Any, actor: Actor, member: Any, event_pk: int, given: Input,
                  lines: list[Line], awards: list[AwardView], now: datetime) -> Any:
    """Earn entries and lots for available awards, pending awards for the others, the
    award rows, and the member's balances in one UPDATE. Returns the member's row."""
    by_rule = {line.terms.id: line.terms for line in lines}
    available = [a for a in awards if a.status == "available"]
    pending = [a for a in awards if a.status == "pending"]
    gained = sum(a.points for a in available)
    held = sum(a.points for a in pending)
    new_lifetime = _m.c.lifetime_points + gained
    row = db.session.execute(
        update(_m).where(_m.c.id == member.id)
        .values(total_points=_m.c.total_points + gained, lifetime_points=new_lifetime,
                pending_points=_m.c.pending_points + held,
                level_id=levels.level_subquery(new_lifetime), updated_at=now,
                last_activity_at=now)
        .returning(*_m.c)).one()
    balance = member.total_points
    entries = []
    for award in available:
        terms = by_rule[award.rule_id]
        balance += award.points
        entries.append(ledger_row(
            tenant_id=tenant.id, member_id=member.id, kind="earn", amount=award.points,
            balance_after=balance, category=terms.category, reason=_reason(terms),
            actor=actor, now=now,
            expires_at=default_expiry(terms.expires_in_days or tenant.default_expiry_days, now)))
    tx_ids = bulk.insert_rows(tx_table, entries, with_ids=True)
    bulk.insert_rows(lots_table, [
        {"tenant_id": tenant.id, "member_id": member.id, "transaction_id": tx_id,
         "amount": e["amount"], "remaining": e["amount"], "expires_at": e["expires_at"],
         "created_at": now} for e, tx_id in zip(entries, tx_ids, strict=True)])
    for award, tx_id in zip(available, tx_ids, strict=True):
        award.transaction_id = tx_id
    award_rows_ = [{
        "tenant_id": tenant.id, "event_id": event_pk, "member_id": member.id,
        "rule_id": a.rule_id, "rule_name": a.rule_name,
        "rule_values": by_rule[a.rule_id].snapshot(), "points": a.points,
        "revoked_points": 0, "status": a.status, "occurred_at": given.occurred_at,
        "available_at": a.available_at, "transaction_id": a.transaction_id,
        "created_at": now} for a in awards]
    award_ids = bulk.insert_rows(_awards, award_rows_, with_ids=True)
    for award, award_id in zip(awards, award_ids, strict=True):
        award.id = award_id
    bulk.insert_rows(_pending, [
        {"tenant_id": tenant.id, "member_id": member.id, "award_id": a.id, "points": a.points,
         "available_at": a.available_at, "settled_at": None} for a in pending])
    webhook_events.entries_written(tenant.id, tx_ids,
                                   lifetimes_before={member.id: member.lifetime_points})
    audit.record(tenant.id, actor, "programme.event", "event", given.event_id or "",
                 {"user_id": member.user_id, "event_type": given.event_type,
                  "points_awarded": gained + held, "pending_points": held,
                  "transaction_ids": tx_ids}, at=now)
    return row


def simulate(tenant_id: int, *, event_type: Any, amount: Any = None, occurred_at: Any = None,
             user_id: Any = None, level_id: int | None = None) -> list[Line]:
    """The portal's simulator: every rule of the event type, line by line, for a
    member (with their limits so far) or for a level. Writes nothing."""
    tenant = tenants.get(tenant_id)
    now = clock.now()
    errors = FieldErrors()
    clean_type = check_event_type(errors, event_type)
    clean_amount = check_money(errors, "amount", amount)
    when = now
    if occurred_at is not None:
        parsed = parse_datetime(occurred_at)
        if parsed is None:
            errors.add("occurred_at", _("Use an ISO 8601 date and time, "
                                        "e.g. 2030-12-31T23:59:59Z."))
        else:
            when = parsed
    errors.raise_if_any()
    facts = Facts(clean_type, clean_amount, when)  # type: ignore[arg-type]
    if user_id:
        return compute(tenant, members.locate(tenant_id, user_id), facts)
    return evaluate(rules.terms_for(tenant_id, facts.event_type), MemberState(level_id), facts,
                    tenant.max_points_per_operation)
