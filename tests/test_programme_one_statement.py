"""PostgreSQL writes an event in two statements (`programme/event_statement.py`,
then `bulk.insert_all`); SQLite statement by statement. Both must write the same
rows and answer the same outcome."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import levels, programme
from app.services.context import Actor
from app.services.errors import POINTS_DISABLED, DomainError
from app.services.programme import events
from tests.ledger_invariants import assert_consistent

pytestmark = [pytest.mark.postgresql, pytest.mark.usefixtures("clk")]
ACTOR = Actor(type="system", label="programme-tests")


def build(tenant, make_member) -> None:
    levels.create(tenant.id, ACTOR, level_name="Bronze", min_points=0, benefits="")
    levels.create(tenant.id, ACTOR, level_name="Silver", min_points=50, benefits="")
    for rule in (
            {"name": "1 per 10", "event_type": "payment", "category": "payment",
             "award": {"type": "per_amount", "points": 1, "per": "10.00"}},
            {"name": "5 each, once a day", "event_type": "payment",
             "award": {"type": "fixed", "points": 5}, "limit": {"count": 1, "period": "day"}},
            {"name": "held 2 days", "event_type": "payment",
             "award": {"type": "fixed", "points": 3}, "pending_days": 2},
            {"name": "other type", "event_type": "login", "award": {"type": "fixed", "points": 9}}):
        programme.create_rule(tenant.id, ACTOR, rule)
    make_member(tenant, "ann", email="ann@example.com")
    make_member(tenant, "ben")


def events_for(tenant) -> list[Any]:
    def record(event_id: str, user_id: str, amount: str) -> Any:
        return programme.record(tenant.id, ACTOR, lambda outcome: "answer", event_id=event_id,
                                user_id=user_id, event_type="payment", amount=amount,
                                attributes={"café": "咖啡"})
    return [record("e-1", "ann", "123.45"), record("e-2", "ann", "400"),
            record("e-3", "ben", "9.99"), record("e-1", "ann", "123.45")]  # a repeat


def outcome_of(recorded: Any) -> Any:
    if recorded.outcome is None:
        return recorded.replayed, recorded.text
    o = recorded.outcome
    return (recorded.replayed, o.event.event_id, o.event.points_awarded,
            [(a.rule_name, a.points, a.status, a.available_at) for a in o.awards],
            o.profile.total_points, o.profile.pending_points, o.profile.lifetime_points,
            o.profile.level and o.profile.level.level_name, o.profile.email)


def written(tenant_id: int) -> dict[str, list[Any]]:
    """What the events wrote for one tenant, ids replaced by their rank."""
    def rows(sql: str) -> list[Any]:
        return [tuple(r) for r in db.session.execute(text(sql), {"t": tenant_id})]

    def ranks(table: str) -> dict[int, int]:
        return {i: n for n, (i,) in enumerate(
            rows(f"SELECT id FROM {table} WHERE tenant_id = :t ORDER BY id"))}

    user = dict(rows("SELECT id, user_id FROM members WHERE tenant_id = :t"))
    rule = dict(rows("SELECT id, name FROM earning_rules WHERE tenant_id = :t"))
    tx, ev, aw = ranks("point_transactions"), ranks("programme_events"), ranks("event_awards")
    return {
        "events": [(ev[i], user[m], *rest) for i, m, *rest in rows(
            "SELECT id, member_id, event_id, event_type, amount, occurred_at, attributes::text,"
            " points_awarded, fingerprint, answer, created_at FROM programme_events"
            " WHERE tenant_id = :t ORDER BY id")],
        "entries": [(tx[i], user[m], *rest) for i, m, *rest in rows(
            "SELECT id, member_id, kind, amount, balance_after, category, reason, expires_at,"
            " created_at FROM point_transactions WHERE tenant_id = :t ORDER BY id")],
        "lots": [(tx[t], *rest) for t, *rest in rows(
            "SELECT transaction_id, amount, remaining, expires_at FROM point_lots"
            " WHERE tenant_id = :t ORDER BY id")],
        "awards": [(aw[i], ev[e], rule[r], t if t is None else tx[t], name,
                    {**values, "id": rule[values["id"]]}, *rest)
                   for i, e, r, t, name, values, *rest in rows(
            "SELECT id, event_id, rule_id, transaction_id, rule_name, rule_values::jsonb, points,"
            " status, occurred_at, available_at FROM event_awards WHERE tenant_id = :t"
            " ORDER BY id")],
        "pending": [(aw[a], *rest) for a, *rest in rows(
            "SELECT award_id, points, available_at, settled_at FROM pending_awards"
            " WHERE tenant_id = :t ORDER BY id")],
        "audit": [(*rest, {**data, "transaction_ids": [tx[i] for i in data["transaction_ids"]]})
                  for *rest, data in rows(
            "SELECT action, target_id, created_at, data::jsonb FROM audit_logs"
            " WHERE tenant_id = :t AND action = 'programme.event' ORDER BY id")],
        "balances": [(user[m], *rest) for m, *rest in rows(
            "SELECT id, total_points, pending_points, lifetime_points, level_id IS NOT NULL,"
            " updated_at FROM members WHERE tenant_id = :t ORDER BY user_id")],
    }


def test_the_two_statement_event_writes_what_the_generic_path_writes(
        tenant, other_tenant, make_member, monkeypatch):
    build(tenant, make_member)
    build(other_tenant, make_member)
    with monkeypatch.context() as patch:
        patch.setattr(events, "_in_one_statement", lambda: False)
        generic = events_for(tenant)
    in_sql = events_for(other_tenant)

    assert [outcome_of(r) for r in in_sql] == [outcome_of(r) for r in generic]
    ours, theirs = written(other_tenant.id), written(tenant.id)
    assert len(ours["entries"]) == 4 and len(ours["pending"]) == 3 and len(ours["audit"]) == 3
    for part in ours:
        assert ours[part] == theirs[part], part
    assert_consistent()


def test_an_event_for_a_member_whose_points_are_disabled_writes_nothing(tenant, make_member,
                                                                        actor):
    from app.services import members

    build(tenant, make_member)
    members.set_points_enabled(tenant.id, actor, "ben", False)
    before = written(tenant.id)
    with pytest.raises(DomainError) as refused:
        programme.record(tenant.id, ACTOR, lambda outcome: "answer", event_id="e-9",
                         user_id="ben", event_type="payment", amount="50")
    assert refused.value.code == POINTS_DISABLED
    assert written(tenant.id) == before
