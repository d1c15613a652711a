"""Finding a transaction from whatever a caller quotes: its id, the idempotency
key or operation id it was written under, the request id of the call that wrote
it (every ledger row records the request id of its request), or a programme
event id (the event's award transactions, and their reversals if it was
revoked). Tenant-scoped like every loader:
another tenant's ids find nothing, the same answer as ids that do not exist."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from app.extensions import db
from app.models import EventAward, Member, PointTransaction, ProgrammeEvent
from app.services.validation import IDEMPOTENCY_KEY_MAX, is_row_id

QUERY_MAX = IDEMPOTENCY_KEY_MAX  # the longest thing a caller can quote (a key)
MATCHES_MAX = 50  # a request id or a batch key can name many rows; more is not a lookup

_tx, _m = PointTransaction.__table__, Member.__table__


@dataclass(frozen=True)
class FoundTransaction:
    id: int
    user_id: str
    display_name: str
    kind: str
    points_amount: int
    created_at: datetime
    matched_by: str  # transaction_id | idempotency_key | request_id | event_id


@dataclass(frozen=True)
class FoundEvent:
    event_id: str
    user_id: str
    event_type: str


@dataclass
class Lookup:
    query: str
    transactions: list[FoundTransaction] = field(default_factory=list)
    events: list[FoundEvent] = field(default_factory=list)
    truncated: bool = False

    @property
    def only_transaction(self) -> FoundTransaction | None:
        """The one transaction to go straight to, if the answer is not ambiguous."""
        if len(self.transactions) == 1 and len(self.events) <= 1:
            return self.transactions[0]
        return None


def find(tenant_id: int, query: str) -> Lookup:
    """Every transaction (and programme event) of the tenant the text names,
    newest first. Empty or over-long text finds nothing."""
    text = (query or "").strip()
    result = Lookup(text)
    if not text or len(text) > QUERY_MAX or "\x00" in text:
        return result
    events = db.session.execute(
        select(ProgrammeEvent.id, ProgrammeEvent.event_id, ProgrammeEvent.event_type,
               Member.user_id)
        .join(Member, (Member.id == ProgrammeEvent.member_id)
              & (Member.tenant_id == ProgrammeEvent.tenant_id))
        .where(ProgrammeEvent.tenant_id == tenant_id, ProgrammeEvent.event_id == text)
    ).all()
    result.events = [FoundEvent(e.event_id, e.user_id, e.event_type) for e in events]
    by_event = select(EventAward.transaction_id).where(
        EventAward.tenant_id == tenant_id, EventAward.event_id.in_([e.id for e in events]),
        EventAward.transaction_id.is_not(None))
    number = int(text) if text.isdigit() and len(text) < 20 else None
    conditions = [_tx.c.idempotency_key == text, _tx.c.request_id == text]
    if number is not None and is_row_id(number):
        conditions.append(_tx.c.id == number)
    if events:  # the event's awards, and their reversals when it was revoked
        conditions += [_tx.c.id.in_(by_event), _tx.c.reverses_id.in_(by_event)]
    rows = db.session.execute(
        select(_tx.c.id, _tx.c.kind, _tx.c.amount, _tx.c.created_at, _tx.c.idempotency_key,
               _tx.c.request_id, _m.c.user_id, _m.c.display_name)
        .join(_m, (_m.c.id == _tx.c.member_id) & (_m.c.tenant_id == _tx.c.tenant_id))
        .where(_tx.c.tenant_id == tenant_id, or_(*conditions))
        .order_by(_tx.c.id.desc()).limit(MATCHES_MAX + 1)
    ).all()
    result.truncated = len(rows) > MATCHES_MAX
    for row in rows[:MATCHES_MAX]:
        how = ("transaction_id" if row.id == number else
               "idempotency_key" if row.idempotency_key == text else
               "request_id" if row.request_id == text else "event_id")
        result.transactions.append(FoundTransaction(
            row.id, row.user_id, row.display_name or "", row.kind, row.amount, row.created_at,
            how))
    return result
