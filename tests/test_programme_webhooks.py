"""The programme's changes reach the webhooks like every other change: awards
as points.earned, due pending awards as points.activated (the scheduled job),
a partial refund's take-back as points.adjusted, a refund as event.revoked."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import WebhookMessage
from app.services import jobs, programme
from app.services.webhooks import endpoints
from tests.conftest import SYSTEM


def sent() -> list[dict]:
    rows = db.session.execute(select(WebhookMessage).order_by(WebhookMessage.id)).scalars()
    bodies = [json.loads(m.payload) for m in rows]
    db.session.commit()
    return [b for b in bodies if b["type"] != "member.created"]


def record(tenant, event_id, **body):
    return programme.record(tenant.id, SYSTEM, lambda o: str(o.points_awarded),
                            event_id=event_id, user_id="alice", **body)


@pytest.fixture
def listened(app, tenant, actor, make_member):
    make_member(tenant, "alice", email="alice@example.com")
    endpoints.create(tenant.id, actor, url="http://127.0.0.1:9/hook", event_types=["*"])
    return tenant


def test_awards_and_their_activation_are_reported(listened, clk):
    programme.create_rule(listened.id, SYSTEM, {
        "name": "Sign-in", "event_type": "login", "award": {"type": "fixed", "points": 5}})
    programme.create_rule(listened.id, SYSTEM, {
        "name": "Payments", "event_type": "payment", "pending_days": 14,
        "award": {"type": "per_amount", "points": 1, "per": "10.00"}})
    record(listened, "e1", event_type="login")
    (earned,) = sent()
    assert earned["type"] == "points.earned"
    assert earned["data"]["transaction"]["points_amount"] == 5
    assert "email" not in earned["data"]["profile"]
    record(listened, "e2", event_type="payment", amount="125.00")
    assert sent() == [earned]  # held back: no points changed hands yet

    clk.advance(days=15)
    assert jobs.activate_pending() == 1
    activated = sent()[-1]
    assert activated["type"] == "points.activated"
    assert activated["data"]["transaction"]["kind"] == "earn"
    assert activated["data"]["transaction"]["points_amount"] == 12
    assert activated["data"]["profile"]["total_points"] == 17
    assert activated["data"]["profile"]["pending_points"] == 0
    assert jobs.activate_pending() == 0 and sent()[-1] == activated  # once only


def test_a_refund_is_reported_with_what_it_took_back(listened, clk):
    programme.create_rule(listened.id, SYSTEM, {
        "name": "Payments", "event_type": "payment",
        "award": {"type": "per_amount", "points": 1, "per": "10.00"}})
    record(listened, "p1", event_type="payment", amount="100.00")
    programme.revoke(listened.id, SYSTEM, "p1", reason="partial refund", amount="40.00")
    earned, adjusted, revoked = sent()
    assert earned["type"] == "points.earned"
    assert adjusted["type"] == "points.adjusted"
    assert adjusted["data"]["transaction"]["points_amount"] == -4
    assert revoked["type"] == "event.revoked"
    assert revoked["data"]["event"]["event_id"] == "p1"
    assert revoked["data"]["taken_back"] == 4
    assert revoked["data"]["profile"]["total_points"] == 6
