"""PostgreSQL: an event's first write in one statement (one round trip).

After the member's row lock (`events._LOCK_MEMBER`) and the rules' evaluation, one
data-modifying WITH inserts the event (ON CONFLICT DO NOTHING: the event id is
recorded once), moves the member's balances and re-derives its level only if the
event is new, reserves the ids of the entries and award rows to be written next
(`bulk.insert_all`), and reads the member's active tags for the answer. The
member is already locked and the tenant's levels lock already held, so nothing in
it reads a snapshot older than what it must see. SQLite takes the statements one
by one (`events.record`); the programme's tests run on both.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, BigInteger, bindparam, exists, select, text, true

from app.models import ProgrammeEvent
from app.services import member_tags

_events = ProgrammeEvent.__table__


def insert_event(prefix: str = "") -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: a concurrent event with the same
    id (another member's) waits for it and then yields no row, not an error. Written
    as text, which PostgreSQL and SQLite both read: the dialects' upsert constructs
    are not cacheable and would be compiled again on every event. Parameter names
    start with `prefix`."""
    p = prefix
    return text(
        "INSERT INTO programme_events (tenant_id, member_id, event_id, event_type, amount, "
        "refunded_amount, occurred_at, attributes, points_awarded, fingerprint, revoked, "
        f"created_at) VALUES (:{p}tenant_id, :{p}member_id, :{p}event_id, :{p}event_type, "
        f":{p}amount, 0, :{p}occurred_at, :{p}attributes, :{p}points_awarded, :{p}fingerprint, "
        f"false, :{p}created_at) ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING id"
    ).bindparams(bindparam(f"{p}amount", type_=_events.c.amount.type),
                 bindparam(f"{p}occurred_at", type_=_events.c.occurred_at.type),
                 bindparam(f"{p}attributes", type_=_events.c.attributes.type),
                 bindparam(f"{p}created_at", type_=_events.c.created_at.type))


PREFIX = "e_"
# A volatile CTE is evaluated once, however many rows (tags) the statement returns.
_IDS = text(
    "SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('point_transactions', 'id'))"
    " FROM generate_series(1, :n_entries)) AS tx_ids,"
    " ARRAY(SELECT nextval(pg_get_serial_sequence('event_awards', 'id'))"
    " FROM generate_series(1, :n_awards)) AS award_ids"
).columns(tx_ids=ARRAY(BigInteger), award_ids=ARRAY(BigInteger))


def build(member_update: Any, now: Any) -> Any:
    """Around `member_update` (the award's UPDATE … RETURNING every member column)
    and `now` (its time's bind parameter). One row per active tag (at least one):
    event_pk (NULL if the event id was recorded already: nothing moved), the member
    as written, tx_ids and award_ids (reserved, ascending order not guaranteed)."""
    event = insert_event(PREFIX).columns(id=_events.c.id.type).cte("new_event")
    ids = _IDS.cte("new_ids")
    member = member_update.where(exists(select(event.c.id))).cte("awarded_member")
    state = select(select(event.c.id).scalar_subquery().label("event_pk")).subquery("state")
    source = state.join(ids, true()).outerjoin(member, true())
    return (select(state.c.event_pk, ids.c.tx_ids, ids.c.award_ids, member,
                   *member_tags.TAG_COLUMNS)
            .select_from(member_tags.join_active_tags(source, member, now))
            .order_by(member_tags.TAG_ORDER))
