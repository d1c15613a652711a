"""/core/health/'s checks.worker: the queue the worker owes and its heartbeat;
degraded past 5 minutes of either."""
from __future__ import annotations

from app.services import jobs, ledger
from app.services.webhooks import endpoints


def worker_check(app) -> tuple[str, dict]:
    body = app.test_client().get("/core/health/").get_json()
    return body["status"], body["checks"]["worker"]


def test_it_is_degraded_without_a_recent_heartbeat(app, clk):
    status, worker = worker_check(app)
    assert status == "degraded" and worker["last_heartbeat"] is None
    jobs.beat()
    status, worker = worker_check(app)
    assert status == "healthy"
    assert worker == {"status": "ok", "queue_depth": 0, "oldest_pending_age_seconds": 0,
                      "last_heartbeat": "2031-03-01T12:00:00.000000Z"}
    clk.advance(minutes=6)
    assert worker_check(app)[1]["status"] == "degraded"


def test_it_is_degraded_when_messages_wait_past_five_minutes(app, tenant, actor, make_member,
                                                             receiver, clk):
    endpoints.create(tenant.id, actor, url=receiver.url(), event_types=["*"])
    make_member(tenant, "zoe")
    ledger.earn(tenant.id, actor, user_id="zoe", points_amount=3, category="payment")
    clk.advance(minutes=4)
    jobs.beat()
    status, worker = worker_check(app)
    assert (status, worker["queue_depth"], worker["oldest_pending_age_seconds"]) == (
        "healthy", 2, 240.0)
    clk.advance(minutes=2)
    jobs.beat()
    status, worker = worker_check(app)
    assert status == "degraded" and worker["oldest_pending_age_seconds"] == 360.0


def test_the_metrics_show_the_queue(app, tenant, actor, make_member, receiver):
    endpoints.create(tenant.id, actor, url=receiver.url(), event_types=["member.created"])
    make_member(tenant, "yan")
    body = app.test_client().get("/metrics").get_data(as_text=True)
    assert "task_queue_depth 1.0" in body
    assert "webhook_endpoints_failing 0.0" in body
