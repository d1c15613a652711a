"""Events: what a member did, turned into awards by the tenant's rules.

`record` writes the event, its awards, their earn entries and lots (or pending
awards) in one transaction with the member locked, so limits are counted under
the lock and two events never award past them. An event is recorded once
forever by its `event_id`: a repeat with the same body gets the first answer.
Checking the body is in `event_input`, computing the awards (and the read-only
`preview` and `simulate`) in `simulation`, the views answered in `outcomes`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from app.database import execute_lean, is_postgres
from app.extensions import db
from app.models import EventAward, PendingAward, ProgrammeEvent
from app.services import audit, bulk, clock, levels, member_tags, members, tenants
from app.services.context import Actor
from app.services.errors import (
    EVENT_EXISTS, EVENT_NOT_FOUND, MEMBER_NOT_FOUND, POINTS_DISABLED, DomainError,
)
from app.services.ledger.entries import (
    default_expiry, ledger_row, lots_table, members_table, tx_table,
)
from app.services.programme import event_statement, rules
from app.services.programme.evaluation import Facts, Line, Terms
from app.services.programme.event_input import Input, check_input
from app.services.programme.outcomes import (
    AwardView, EventOutcome, EventView, Recorded, award_view, event_view,
)
from app.services.programme.simulation import award_views, compute
from app.services.uow import transactional
from app.services.webhooks import events as webhook_events
from app.services.validation import IDEMPOTENCY_KEY_MAX, REASON_MAX

_m = members_table
_events, _awards, _pending = (ProgrammeEvent.__table__, EventAward.__table__,
                              PendingAward.__table__)


# --------------------------------------------------------------------------- reading

def award_rows(event_pk: int) -> list[Any]:
    return list(db.session.execute(
        select(_awards).where(_awards.c.event_id == event_pk).order_by(_awards.c.id)))



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
    return EventOutcome(event_view(row, row.user_id),
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
    return [EventOutcome(event_view(r, r.user_id), by_event.get(r.id, []), None)
            for r in rows]

# --------------------------------------------------------------------------- recording

# The member, locked, with the rules an event of its type may match (one row per
# rule): one statement, whatever the number of rules.
_LOCK_MEMBER = (select(_m, *rules.RULE_COLUMNS)
                .select_from(_m.outerjoin(rules.table, rules.rules_for_event(_m)))
                .where(_m.c.tenant_id == bindparam("tenant_id"),
                       _m.c.user_id == bindparam("user_id"))
                .order_by(rules.RULES_ORDER).with_for_update(of=_m))


_INSERT_EVENT = event_statement.insert_event()


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
    locked = execute_lean(_LOCK_MEMBER, {"tenant_id": tenant_id, "user_id": given.user_id,
                                         "event_type": given.event_type})
    member = locked[0] if locked else None
    if member is None:
        if db.session.execute(select(_events.c.id).where(
                _events.c.tenant_id == tenant_id, _events.c.event_id == given.event_id)).first():
            return _existing(tenant_id, given)
        raise DomainError(MEMBER_NOT_FOUND)
    facts = Facts(given.event_type, given.amount, given.occurred_at)
    lines = compute(tenant, member, facts, rules.terms_in(locked))
    awards = award_views(lines, facts, now)
    event_values = {
        "tenant_id": tenant_id, "member_id": member.id, "event_id": given.event_id,
        "event_type": given.event_type, "amount": given.amount,
        "occurred_at": given.occurred_at, "attributes": given.attributes,
        "points_awarded": sum(a.points for a in awards), "fingerprint": given.fingerprint,
        "created_at": now}
    gained, held = _sums(awards)
    moved = {"b_member": member.id, "gained": gained, "held": held, "now": now}
    reserved = None
    if _in_one_statement() and member.is_points_enabled:  # event_statement: one round trip
        rows = execute_lean(_EVENT_PG, {
            **{event_statement.PREFIX + k: v for k, v in event_values.items()}, **moved,
            "n_entries": sum(1 for a in awards if a.status == "available"),
            "n_awards": len(awards)})
        event_pk = rows[0].event_pk
        if event_pk is None:
            return _existing(tenant_id, given)
        row, tags = member_tags.written_with_tags(rows)
        reserved = (sorted(rows[0].tx_ids), sorted(rows[0].award_ids))
    else:
        event_pk = db.session.execute(_INSERT_EVENT, event_values).scalar()
        if event_pk is None:
            return _existing(tenant_id, given)
        if not member.is_points_enabled:
            raise DomainError(POINTS_DISABLED, {"user_id": member.user_id})
        row, tags = members.MemberRecord.of(db.session.execute(_AWARD_MEMBER, moved).one()), None
    _write_awards(tenant, actor, member, event_pk, given, lines, awards, now, reserved)
    event = EventView(given.event_id, member.user_id, given.event_type, given.amount,
                      given.occurred_at, given.attributes, sum(a.points for a in awards),
                      created_at=now, id=event_pk)
    outcome = EventOutcome(event, awards,
                           members.profile_of(tenant_id, row) if tags is None
                           else members.profile_with_tags(tenant_id, row, tags), lines)
    text = render(outcome)
    execute_lean(_KEEP_ANSWER, {"event_pk": event_pk, "e_answer": text})
    return Recorded(text, False, outcome)


_KEEP_ANSWER = (update(_events).where(_events.c.id == bindparam("event_pk"))
                .values(answer=bindparam("e_answer")))


def _award_member_statement() -> Any:
    """The member's balances moved by an event's awards, its level re-derived."""
    gained = bindparam("gained", type_=_m.c.total_points.type)
    new_lifetime = _m.c.lifetime_points + gained
    return (update(_m).where(_m.c.id == bindparam("b_member"))
            .values(total_points=_m.c.total_points + gained, lifetime_points=new_lifetime,
                    pending_points=_m.c.pending_points + bindparam(
                        "held", type_=_m.c.pending_points.type),
                    level_id=levels.level_subquery(new_lifetime), updated_at=_NOW,
                    last_activity_at=_NOW)
            .returning(*_m.c))


_NOW = bindparam("now", type_=_m.c.updated_at.type)
_AWARD_MEMBER = _award_member_statement()
_EVENT_PG = event_statement.build(_award_member_statement(), _NOW)


def _in_one_statement() -> bool:
    """PostgreSQL writes an event in two statements (event_statement, bulk.insert_all);
    elsewhere, and in the test that compares the two, statement by statement."""
    return is_postgres()


def _sums(awards: list[AwardView]) -> tuple[int, int]:
    """Points awarded now (gained) and held back until due (held)."""
    return (sum(a.points for a in awards if a.status == "available"),
            sum(a.points for a in awards if a.status == "pending"))


def _write_awards(tenant: Any, actor: Actor, member: Any, event_pk: int, given: Input,
                  lines: list[Line], awards: list[AwardView], now: datetime,
                  reserved: tuple[list[int], list[int]] | None) -> None:
    """Earn entries and lots for available awards, pending awards for the others, the
    award rows and the audit row, once the member's balances have moved. `reserved`
    (PostgreSQL): the ids of the entries and award rows, reserved by event_statement;
    then every row goes in one statement (bulk.insert_all)."""
    by_rule = {line.terms.id: line.terms for line in lines}
    available = [a for a in awards if a.status == "available"]
    pending = [a for a in awards if a.status == "pending"]
    gained, held = _sums(awards)
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
    in_one = reserved is not None
    if reserved is not None:
        tx_ids, award_ids = reserved
    else:
        tx_ids = bulk.insert_rows(tx_table, entries, with_ids=True)
    lot_rows = [
        {"tenant_id": tenant.id, "member_id": member.id, "transaction_id": tx_id,
         "amount": e["amount"], "remaining": e["amount"], "expires_at": e["expires_at"],
         "created_at": now} for e, tx_id in zip(entries, tx_ids, strict=True)]
    for award, tx_id in zip(available, tx_ids, strict=True):
        award.transaction_id = tx_id
    award_rows_ = [{
        "tenant_id": tenant.id, "event_id": event_pk, "member_id": member.id,
        "rule_id": a.rule_id, "rule_name": a.rule_name,
        "rule_values": by_rule[a.rule_id].snapshot(), "points": a.points,
        "revoked_points": 0, "status": a.status, "occurred_at": given.occurred_at,
        "available_at": a.available_at, "transaction_id": a.transaction_id,
        "created_at": now} for a in awards]
    if not in_one:
        bulk.insert_rows(lots_table, lot_rows)
        award_ids = bulk.insert_rows(_awards, award_rows_, with_ids=True)
    for award, award_id in zip(awards, award_ids, strict=True):
        award.id = award_id
    pending_rows = [
        {"tenant_id": tenant.id, "member_id": member.id, "award_id": a.id, "points": a.points,
         "available_at": a.available_at, "settled_at": None} for a in pending]
    audit_row = audit.values(tenant.id, actor, "programme.event", "event", given.event_id or "",
                             {"user_id": member.user_id, "event_type": given.event_type,
                              "points_awarded": gained + held, "pending_points": held,
                              "transaction_ids": tx_ids}, at=now)
    if in_one:
        bulk.insert_all([(tx_table, entries, tx_ids), (lots_table, lot_rows, None),
                         (_awards, award_rows_, award_ids), (_pending, pending_rows, None),
                         (audit.table, [audit_row], None)])
        audit.logged(audit_row)
    else:
        bulk.insert_rows(_pending, pending_rows)
        audit.insert_row(audit_row)
    webhook_events.entries_written(tenant.id, tx_ids,
                                   lifetimes_before={member.id: member.lifetime_points},
                                   listening=tenant.listening)

