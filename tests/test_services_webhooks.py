"""Webhooks end to end against a real local receiver: the outbox is written with
the change (and only with a committed one), delivery is signed and verifiable
with the standardwebhooks library, retried with the same webhook-id."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import WebhookMessage
from app.services import jobs, ledger, levels, vip
from app.services.errors import DomainError, ValidationFailed
from app.services.uow import atomic
from app.services.webhooks import delivery, endpoints
from tests.conftest import SYSTEM


def messages(**where) -> list[WebhookMessage]:
    query = select(WebhookMessage).order_by(WebhookMessage.id).execution_options(
        populate_existing=True)
    for name, value in where.items():
        query = query.where(getattr(WebhookMessage, name) == value)
    rows = list(db.session.execute(query).scalars())
    db.session.commit()
    return rows


def deliver(endpoint) -> delivery.RunReport:
    report, _retry = delivery.deliver_endpoint(endpoint.id)
    return report


@pytest.fixture
def hook(app, tenant, actor, receiver):
    return endpoints.create(tenant.id, actor, url=receiver.url(), event_types=["*"],
                            description="all")


def test_it_delivers_a_signed_earn_without_pii(app, tenant, actor, make_member, receiver, hook):
    make_member(tenant, "alice", email="alice@example.com", phone="+8613800000000")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=50, category="payment")
    assert deliver(hook).delivered == 2
    created, earned = receiver.verified(hook.secret)
    assert created["type"] == "member.created"
    assert earned["type"] == "points.earned"
    assert earned["tenant"] == "acme"
    assert earned["id"] == receiver.requests[1].id
    assert earned["data"]["transaction"]["points_amount"] == 50
    assert earned["data"]["profile"]["total_points"] == 50
    for request in receiver.requests:
        assert "alice@example.com" not in request.body and "+86138" not in request.body
        assert "email" not in request.json["data"]["profile"]
    assert receiver.requests[0].headers["webhook-signature"].startswith("v1,")
    assert [m.status for m in messages()] == ["delivered", "delivered"]


def test_it_sends_nothing_for_a_rolled_back_change(app, tenant, actor, make_member, hook):
    make_member(tenant, "bob")
    before = len(messages())
    with pytest.raises(DomainError):
        ledger.spend(tenant.id, actor, user_id="bob", points_amount=10, category="payment")
    with pytest.raises(RuntimeError), atomic():
        ledger.earn(tenant.id, actor, user_id="bob", points_amount=5, category="payment")
        raise RuntimeError("the caller fails after the earn")
    assert len(messages()) == before


def test_it_sends_only_changes_committed_after_the_endpoint(app, tenant, actor, make_member,
                                                             receiver):
    make_member(tenant, "carol")
    ledger.earn(tenant.id, actor, user_id="carol", points_amount=5, category="payment")
    late = endpoints.create(tenant.id, actor, url=receiver.url(), event_types=["*"])
    assert messages() == []
    ledger.earn(tenant.id, actor, user_id="carol", points_amount=6, category="payment")
    assert [m.endpoint_id for m in messages()] == [late.id]


def test_it_filters_by_event_type_and_tenant(app, tenant, other_tenant, actor, make_member,
                                             receiver):
    spent_only = endpoints.create(tenant.id, actor, url=receiver.url(),
                                  event_types=["points.spent"])
    theirs = endpoints.create(other_tenant.id, actor, url=receiver.url("/other"),
                              event_types=["*"])
    make_member(tenant, "dave")
    ledger.earn(tenant.id, actor, user_id="dave", points_amount=20, category="payment")
    ledger.spend(tenant.id, actor, user_id="dave", points_amount=5, category="payment")
    assert [(m.endpoint_id, m.event_type) for m in messages()] == [
        (spent_only.id, "points.spent")]
    assert messages(endpoint_id=theirs.id) == []


def test_it_retries_on_schedule_with_the_same_id(app, tenant, actor, make_member, receiver,
                                                 hook, clk):
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 0.5
    receiver.hang_seconds = 1.5
    receiver.script = [500, "hang", 302]
    make_member(tenant, "erin")
    deliver(hook)
    (message,) = messages()
    assert (message.status, message.attempts, message.last_status_code) == ("pending", 1, 500)
    assert message.next_attempt_at == clk.now + timedelta(seconds=5)
    assert deliver(hook).delivered == 0  # not due yet
    clk.advance(seconds=5)
    deliver(hook)
    (message,) = messages()
    assert (message.attempts, message.last_status_code, message.last_error) == (2, None, "timeout")
    assert message.next_attempt_at == clk.now + timedelta(seconds=30)
    clk.advance(seconds=30)
    deliver(hook)  # a redirect is a failure, not followed
    clk.advance(minutes=2)
    assert deliver(hook).delivered == 1
    (message,) = messages()
    assert (message.status, message.attempts) == ("delivered", 4)
    receiver.wait_for(4)
    assert {r.id for r in receiver.requests} == {message.msg_id}
    assert [r.path for r in receiver.requests] == ["/hook"] * 4
    receiver.verified(hook.secret)


def test_it_gives_up_after_the_last_retry(app, tenant, actor, make_member, receiver, hook, clk):
    receiver.script = [503] * 8
    make_member(tenant, "fay")
    for delay in (*delivery.RETRY_DELAYS, None):
        deliver(hook)
        if delay is not None:
            clk.advance(seconds=delay.total_seconds())
    (message,) = messages()
    assert (message.status, message.attempts, message.next_attempt_at) == ("failed", 8, None)
    assert endpoints.deliveries(tenant.id, hook.id).items[0].status == "failed"
    endpoints.send_again(tenant.id, actor, hook.id, message.msg_id)
    assert deliver(hook).delivered == 1


def test_it_reports_level_changes_and_vip_grants(app, tenant, actor, make_member, receiver, hook):
    silver = levels.create(tenant.id, actor, level_name="Silver", min_points=100,
                           benefits="")
    tag = vip.create_tag(tenant.id, actor, tag_name="Gold VIP", tag_type="gold", rank=1,
                         duration_days=30)
    make_member(tenant, "gus")
    ledger.earn(tenant.id, actor, user_id="gus", points_amount=150, category="payment")
    vip.grant(tenant.id, actor, user_id="gus", tag_id=tag.id)
    types = [m.event_type for m in messages()]
    assert types == ["member.created", "points.earned", "level.changed", "vip_tag.granted"]
    deliver(hook)
    changed = receiver.verified(hook.secret)[2]["data"]
    assert changed["to_level"]["id"] == silver.id
    assert changed["profile"]["user_id"] == "gus"
    granted = receiver.verified(hook.secret)[3]["data"]
    assert granted["tag"]["tag_name"] == "Gold VIP"


def test_scheduled_jobs_follow_a_moving_clock(app, tenant, actor, make_member, hook, clk):
    make_member(tenant, "hal")
    ledger.earn(tenant.id, actor, user_id="hal", points_amount=30, category="payment",
                expires_at=clk.later(days=10))
    assert jobs.expiring_soon_notices() == 0  # due in 10 days, notice at 7
    clk.advance(days=4)
    assert jobs.expiring_soon_notices() == 1
    assert jobs.expiring_soon_notices() == 0  # never twice for one lot
    (notice,) = messages(event_type="points.expiring_soon")
    assert '"points":30' in notice.payload
    clk.advance(days=7)
    report, _tags = jobs.expire_points()
    assert report.lots == 1
    jobs.expire_points()  # a second run finds nothing more
    (expired,) = messages(event_type="points.expired")
    assert '"points_amount":-30' in expired.payload


def test_production_refuses_private_and_plain_http_urls(app, tenant, actor, receiver, hook):
    app.config["ENV_NAME"] = "production"
    for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://10.0.0.8/x",
                "https://169.254.169.254/latest", "https://[::1]/x"):
        with pytest.raises(ValidationFailed):
            endpoints.create(tenant.id, actor, url=url, event_types=["*"])
    # An endpoint that got past the check (or whose name now resolves inside) is
    # refused again at send time.
    endpoints.send_test(tenant.id, actor, hook.id)
    deliver(hook)
    (message,) = messages()
    assert message.last_error.startswith("refused") and receiver.requests == []


def test_a_deleted_endpoint_gets_nothing_more(app, tenant, actor, make_member, receiver, hook):
    make_member(tenant, "ivy")
    endpoints.delete(tenant.id, SYSTEM, hook.id)
    make_member(tenant, "jon")
    assert deliver(hook).delivered == 0
    assert [m.status for m in messages()] == ["failed"]
    assert receiver.requests == []


def test_an_edit_of_the_levels_reports_each_member_it_moves(app, tenant, actor, make_member,
                                                            hook):
    make_member(tenant, "kay")
    make_member(tenant, "lee")
    ledger.earn(tenant.id, actor, user_id="kay", points_amount=60, category="payment")
    before = len(messages())
    gold = levels.create(tenant.id, actor, level_name="Gold", min_points=50, benefits="")
    (changed,) = messages()[before:]
    assert changed.event_type == "level.changed"
    assert '"user_id":"kay"' in changed.payload and f'"id":{gold.id}' in changed.payload


def test_two_runs_never_send_to_one_endpoint_at_once(app, tenant, actor, make_member, receiver,
                                                     hook, monkeypatch):
    import threading

    for n in range(6):
        make_member(tenant, f"p{n}")
    receiver.script = ["hang"] * 6
    receiver.hang_seconds = 0.1
    active, peak, lock = [0], [0], threading.Lock()
    original = delivery.send

    def counting_send(*args, **kwargs):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    def run() -> None:
        with app.app_context():
            for _ in range(3):
                delivery.deliver_endpoint(hook.id)

    monkeypatch.setattr(delivery, "send", counting_send)
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r.id for r in receiver.requests]
    assert sorted(ids) == sorted({m.msg_id for m in messages()})  # each exactly once
    assert peak[0] == 1
    assert {m.status for m in messages()} == {"delivered"}


def test_a_vip_tag_expiry_is_reported_once(app, tenant, actor, make_member, hook, clk):
    tag = vip.create_tag(tenant.id, actor, tag_name="Trial", tag_type="trial", rank=1,
                         duration_days=1)
    make_member(tenant, "quinn")
    vip.grant(tenant.id, actor, user_id="quinn", tag_id=tag.id)
    clk.advance(days=2)
    assert jobs.expire_points()[1] == 1
    vip.expire_tags()
    (expired,) = messages(event_type="vip_tag.expired")
    assert '"tag_name":"Trial"' in expired.payload and '"user_id":"quinn"' in expired.payload


def test_a_spend_reports_the_lots_it_expired_first(app, tenant, actor, make_member, hook, clk):
    make_member(tenant, "rae")
    ledger.earn(tenant.id, actor, user_id="rae", points_amount=10, category="payment",
                expires_at=clk.later(days=1))
    ledger.earn(tenant.id, actor, user_id="rae", points_amount=10, category="payment")
    clk.advance(days=2)
    ledger.spend(tenant.id, actor, user_id="rae", points_amount=5, category="payment")
    types = [m.event_type for m in messages()][-2:]
    assert types == ["points.expired", "points.spent"]


def test_old_finished_messages_are_purged_pending_ones_kept(app, tenant, actor, make_member,
                                                            hook, clk):
    make_member(tenant, "sam")
    deliver(hook)
    make_member(tenant, "tia")  # pending
    clk.advance(days=31)
    assert jobs.purge_webhook_messages() == 1
    assert [m.status for m in messages()] == ["pending"]
