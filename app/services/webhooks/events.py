"""What each change tells the webhooks: the contract's event types and `data`
shapes, built only when an endpoint listens. The services call these at one
place per operation, inside their transaction."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Member
from app.services import clock, levels
from app.services.webhooks.outbox import Subscribers, subscribers, subscribers_if, write

POINT_EVENTS = {"earn": "points.earned", "spend": "points.spent", "adjust": "points.adjusted",
                "reversal": "points.reversed", "expire": "points.expired"}


def profile_data(profile: Any) -> dict[str, Any]:
    """A profile as the API shows it, without email and phone."""
    from app.services.members import PUBLIC_PROFILE_FIELDS  # members emits events too

    return profile.as_dict(PUBLIC_PROFILE_FIELDS)


def _level(level: Any) -> dict[str, Any] | None:
    if level is None:
        return None
    return {"id": level.id, "level_name": level.level_name, "min_points": level.min_points}


def ledger_change(tenant_id: int, outcome: Any | Callable[[], Any], *,
                  lifetime_before: int | None = None, subs: Subscribers | None = None) -> None:
    """points.<kind> for one ledger entry, and level.changed when the entry moved
    the member's level (`lifetime_before`: the lifetime points before it)."""
    subs = subs if subs is not None else subscribers(tenant_id)
    if not subs:
        return
    result = outcome() if callable(outcome) else outcome
    tx = result.transaction
    write(subs, POINT_EVENTS[tx.kind], lambda: {"transaction": tx.as_dict(),
                                                "profile": profile_data(result.profile)},
          at=tx.created_at)
    if lifetime_before is not None:
        level_changed(subs, result.profile, lifetime_before, at=tx.created_at)


def level_changed(subs: Subscribers, profile: Any, lifetime_before: int,
                  at: datetime | None = None) -> None:
    if not subs.of("level.changed"):
        return
    before = levels.level_for(levels.list_levels(subs.tenant_id, fresh=True), lifetime_before)
    before_id = before.id if before is not None else None
    after_id = profile.level.id if profile.level is not None else None
    if before_id != after_id:
        write(subs, "level.changed", lambda: {"profile": profile_data(profile),
                                              "from_level": _level(before),
                                              "to_level": _level(profile.level)}, at=at)


def levels_before(tenant_id: int) -> dict[int, int | None] | None:
    """Every member's level before the tenant's levels change (None when nobody
    listens for level.changed: a large tenant is not read for nothing)."""
    if not subscribers(tenant_id).of("level.changed"):
        return None
    table = Member.__table__
    return dict(db.session.execute(
        select(table.c.id, table.c.level_id).where(table.c.tenant_id == tenant_id)).all())


def levels_recomputed(tenant_id: int, before: dict[int, int | None] | None) -> None:
    """level.changed for every member whose level an edit of the levels moved."""
    if before is None:
        return
    from app.services import members

    table = Member.__table__
    rows = db.session.execute(select(table).where(table.c.tenant_id == tenant_id)).all()
    moved = [r for r in rows if before.get(r.id) != r.level_id]
    if not moved:
        return
    subs = subscribers(tenant_id)
    level_list = {lv.id: lv for lv in levels.list_levels(tenant_id, fresh=True)}
    for profile in members.profiles(tenant_id, [members.MemberRecord.of(r) for r in moved]):
        old = level_list.get(before.get(profile.id))
        write(subs, "level.changed", {"profile": profile_data(profile), "from_level": _level(old),
                                      "to_level": _level(profile.level)})


def batch_earned(tenant_id: int, outcomes: list[Any], lifetimes_before: dict[str, int]) -> None:
    """A batch: one points.earned per entry, one level.changed per member whose
    level the whole batch moved."""
    subs = subscribers(tenant_id)
    if not subs:
        return
    for outcome in outcomes:
        ledger_change(tenant_id, outcome, subs=subs)
    finals = {o.profile.user_id: o.profile for o in outcomes}
    for user_id, profile in finals.items():
        level_changed(subs, profile, lifetimes_before[user_id], at=outcomes[0].transaction.created_at)


def expired(member_ids: Iterable[int], at: datetime) -> None:
    """points.expired for the expire entries just written at `at` for these members.
    One statement when none of their tenants has an endpoint (the expiry job's
    batches span many members)."""
    from app.models import WebhookEndpoint
    from app.services.ledger.entries import members_table, tx_table

    ids = sorted(set(member_ids))
    if not ids:
        return
    endpoints = WebhookEndpoint.__table__
    listening = db.session.execute(
        select(members_table.c.tenant_id).distinct()
        .join(endpoints, endpoints.c.tenant_id == members_table.c.tenant_id)
        .where(members_table.c.id.in_(ids), endpoints.c.is_active.is_(True),
               endpoints.c.deleted_at.is_(None))
    ).scalars().all()
    for tenant_id in listening:
        subs = subscribers(tenant_id)
        if subs.of("points.expired"):
            _write_entries(subs, tx_table.c.member_id.in_(ids) & (tx_table.c.kind == "expire")
                           & (tx_table.c.created_at == at))


def entries_written(tenant_id: int, tx_ids: list[int], *, event_type: str | None = None,
                    lifetimes_before: dict[int, int] | None = None,
                    listening: bool = True) -> None:
    """points.* (or `event_type`) for entries a service wrote in bulk itself (the
    programme's awards and activations, a partial refund), and level.changed for
    each member whose level they moved (`lifetimes_before` by member id).
    `listening`: the tenant may have endpoints (tenants.WriteTenant.listening)."""
    from app.services.ledger.entries import tx_table

    subs = subscribers_if(tenant_id, listening)
    if not subs or not tx_ids:
        return
    profiles = _write_entries(subs, tx_table.c.id.in_(tx_ids), event_type)
    for member_id, lifetime in (lifetimes_before or {}).items():
        if member_id in profiles:
            level_changed(subs, profiles[member_id], lifetime)


def _write_entries(subs: Subscribers, where: Any, event_type: str | None = None
                   ) -> dict[int, Any]:
    """One message per ledger entry matching `where` in the subscribers' tenant;
    returns the members' profiles by id."""
    from app.services import members
    from app.services.ledger.entries import Outcome, TxView, members_table, tx_table

    rows = db.session.execute(
        select(tx_table, members_table.c.user_id)
        .join(members_table, members_table.c.id == tx_table.c.member_id)
        .where(where, tx_table.c.tenant_id == subs.tenant_id)
        .order_by(tx_table.c.id)
    ).all()
    if not rows:
        return {}
    member_rows = db.session.execute(
        select(members_table).where(members_table.c.id.in_({r.member_id for r in rows}))
    ).all()
    profiles = {p.id: p for p in members.profiles(
        subs.tenant_id, [members.MemberRecord.of(m) for m in member_rows])}
    for r in rows:
        view = TxView(r.id, r.user_id, r.kind, r.amount, r.balance_after, r.category,
                      r.reason or "", r.expires_at, r.created_at, r.idempotency_key,
                      r.reverses_id, r.actor_type, r.actor_label or "")
        outcome = Outcome(view, profiles[r.member_id])
        write(subs, event_type or POINT_EVENTS[r.kind],
              lambda o=outcome: {"transaction": o.transaction.as_dict(),
                                 "profile": profile_data(o.profile)},
              at=r.created_at)
    return profiles


def event_revoked(tenant_id: int, event: dict[str, Any], taken_back: int, profile: Any) -> None:
    subs = subscribers(tenant_id)
    write(subs, "event.revoked", lambda: {"event": event, "taken_back": taken_back,
                                          "profile": profile_data(profile)})


def member_created(tenant_id: int, profile: Any) -> None:
    subs = subscribers(tenant_id)
    write(subs, "member.created", lambda: {"profile": profile_data(profile)},
          at=profile.created_at)


def tag_granted(tenant_id: int, user_id: str, holdings: list[Any], tag_id: int) -> None:
    subs = subscribers(tenant_id)
    if not subs.of("vip_tag.granted"):
        return
    from app.services import members

    profile = members.get_profile(tenant_id, user_id)
    tag = next((h for h in holdings if h.id == tag_id), None)
    write(subs, "vip_tag.granted", lambda: {"profile": profile_data(profile),
                                            "tag": tag.as_dict() if tag else None})


def tags_expired(holdings: list[Any]) -> None:
    """vip_tag.expired for holdings the expiry job is closing (rows with tenant_id,
    member_id, holding id, tag_id); one notice per holding and endpoint."""
    from app.services import members

    by_tenant: dict[int, list[Any]] = {}
    for h in holdings:
        by_tenant.setdefault(h.tenant_id, []).append(h)
    for tenant_id, rows in by_tenant.items():
        subs = subscribers(tenant_id)
        if not subs.of("vip_tag.expired"):
            continue
        member_rows = db.session.execute(
            select(Member.__table__)
            .where(Member.__table__.c.id.in_({r.member_id for r in rows}))).all()
        profiles = {p.id: p for p in members.profiles(
            tenant_id, [members.MemberRecord.of(r) for r in member_rows])}
        for h in rows:
            tag = {"id": h.tag_id, "tag_name": h.tag_name, "tag_type": h.tag_type,
                   "rank": h.rank, "expires_at": h.expires_at}
            write(subs, "vip_tag.expired", {"profile": profile_data(profiles[h.member_id]),
                                            "tag": tag},
                  dedupe_key=f"holding:{h.id}:expired")


def ping(tenant_id: int, endpoint_id: int) -> int:
    """The portal's "Send a test": one message to one endpoint."""
    subs = subscribers(tenant_id)
    return write(subs, "ping", {"message": "ping"}, endpoint_ids=[endpoint_id], at=clock.now())
