"""Settings → Webhooks in the portal: add (the secret once, after a redirect),
list with health, send a test, deliveries with payload and response, send
again, disable, delete after a confirmation page; owner and admin only."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, WebhookMessage
from app.services.permissions import MANAGE, ROLE_PERMISSIONS
from app.services.webhooks import delivery, endpoints
from tests.conftest import SYSTEM
from tests.webtools import check_access, fresh, text


def test_it_checks_every_route(people, tenant, receiver):
    hook = endpoints.create(tenant.id, SYSTEM, url=receiver.url(), event_types=["*"])
    base = f"/t/acme/settings/webhooks/{hook.id}"
    for method, url in (("GET", "/t/acme/settings/webhooks/"),
                        ("POST", "/t/acme/settings/webhooks/"), ("GET", f"{base}/"),
                        ("POST", f"{base}/test"), ("POST", f"{base}/active"),
                        ("GET", f"{base}/delete")):
        check_access(people, method, url, MANAGE, ROLE_PERMISSIONS)


def test_another_tenants_endpoint_is_not_found(people, other_tenant, receiver):
    theirs = endpoints.create(other_tenant.id, SYSTEM, url=receiver.url(), event_types=["*"])
    owner = people["owner"]
    assert owner.get(f"/t/acme/settings/webhooks/{theirs.id}/").status_code == 404
    assert owner.post(f"/t/acme/settings/webhooks/{theirs.id}/delete").status_code == 404
    assert owner.post(f"/t/acme/settings/webhooks/{theirs.id}/test").status_code == 404


def test_add_shows_the_secret_once_then_send_a_test(app, people, tenant, receiver):
    admin = people["admin"]
    refused = admin.post("/t/acme/settings/webhooks/", {"url": "ftp://nope"})
    assert refused.status_code == 422
    response = admin.post("/t/acme/settings/webhooks/", {
        "url": receiver.url(), "event_types": ["points.earned", "points.spent"],
        "description": "CRM"})
    assert response.status_code == 302
    cookie = admin.client._client.get_cookie("session").value
    page = admin.get(response.headers["Location"])
    secret = text(page).split('data-secret>')[1].split("<")[0]
    assert secret.startswith("whsec_")
    # Waiting for that page, the secret was in the session cookie only encrypted.
    session_data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert "jifen_once_webhook" in session_data and secret not in repr(session_data)
    assert secret not in text(admin.get(response.headers["Location"]))  # once
    hook_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert admin.post(f"/t/acme/settings/webhooks/{hook_id}/test").status_code == 302
    fresh()
    delivery.deliver_endpoint(hook_id)
    (ping,) = receiver.verified(secret)
    assert ping["type"] == "ping"
    detail = text(admin.get(f"/t/acme/settings/webhooks/{hook_id}/"))
    assert "ping" in detail and "answer 200" in detail and "&#34;type&#34;:&#34;ping&#34;" in detail
    listing = text(admin.get("/t/acme/settings/webhooks/"))
    assert receiver.url() in listing and "CRM" in listing
    fresh()
    actions = set(db.session.execute(select(AuditLog.action)).scalars())
    assert {"webhook.create", "webhook.ping"} <= actions


def test_send_again_disable_and_delete(app, clk, people, tenant, receiver):
    # Signed in on the frozen clock, which then runs through every retry (31 hours):
    # keep the portal session alive that long.
    app.config.update(SESSION_IDLE_MINUTES=10**6, SESSION_MAX_HOURS=10**6)
    owner = people["owner"]
    hook = endpoints.create(tenant.id, SYSTEM, url=receiver.url(), event_types=["*"])
    receiver.script = [500] * 8
    endpoints.send_test(tenant.id, SYSTEM, hook.id)
    for delay in (*delivery.RETRY_DELAYS, None):
        delivery.deliver_endpoint(hook.id)
        if delay is not None:
            clk.advance(seconds=delay.total_seconds())
    fresh()
    message = db.session.execute(select(WebhookMessage)).scalar_one()
    assert message.status == "failed"
    page = text(owner.get(f"/t/acme/settings/webhooks/{hook.id}/?status=failed"))
    assert "Send again" in page
    assert owner.post(f"/t/acme/settings/webhooks/{hook.id}/messages/{message.msg_id}/resend"
                      ).status_code == 302
    fresh()
    assert delivery.deliver_endpoint(hook.id)[0].delivered == 1
    assert owner.post(f"/t/acme/settings/webhooks/{hook.id}/active", {"active": "0"}
                      ).status_code == 302
    fresh()
    assert endpoints.get_view(tenant.id, hook.id).is_active is False
    confirm = owner.get(f"/t/acme/settings/webhooks/{hook.id}/delete")
    assert confirm.status_code == 200 and "Delete this endpoint?" in text(confirm)
    assert owner.post(f"/t/acme/settings/webhooks/{hook.id}/delete").status_code == 302
    fresh()
    assert endpoints.list_endpoints(tenant.id) == []
    assert owner.get(f"/t/acme/settings/webhooks/{hook.id}/").status_code == 404


def test_the_pages_are_translated(people, tenant):
    owner = people["owner"]
    page = text(owner.get("/t/acme/settings/webhooks/", headers={"Accept-Language": "zh-CN"}))
    assert "添加端点" in page
