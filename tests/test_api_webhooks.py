"""The webhook endpoint routes: the secret once, lists without it, deletes,
deliveries paged; permissions, tenants and production URL checks."""
from __future__ import annotations

from app.services import ledger
from app.services.webhooks import delivery
from tests.api_fixtures import API_ACTOR, assert_error, assert_success

PATH = "/api/v1/webhooks/endpoints/"


def create(api, receiver, **extra):
    return api.post(PATH, json={"url": receiver.url(), "event_types": ["points.earned"],
                                "description": "crm", **extra})


def test_it_creates_an_endpoint_and_shows_the_secret_once(app, full, receiver):
    created = assert_success(create(full, receiver), 201)
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["points.earned"]
    listed = assert_success(full.get(PATH))
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]


def test_a_create_replays_with_its_idempotency_key(app, full, receiver):
    headers = {"Idempotency-Key": "hook-1"}
    first = full.post(PATH, json={"url": receiver.url(), "event_types": ["*"]}, headers=headers)
    again = full.post(PATH, json={"url": receiver.url(), "event_types": ["*"]}, headers=headers)
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(assert_success(full.get(PATH))) == 1


def test_it_refuses_bad_endpoints(app, full, receiver):
    details = assert_error(full.post(PATH, json={"url": "ftp://x", "event_types": ["nope"]}),
                           422, "VALIDATION_ERROR")
    assert set(details["field_errors"]) == {"url", "event_types"}
    app.config["ENV_NAME"] = "production"
    assert_error(create(full, receiver), 422, "VALIDATION_ERROR")  # http, and loopback


def test_deliveries_are_paged_newest_first_and_delete_stops_sending(app, full, programme,
                                                                    receiver):
    endpoint = assert_success(create(full, receiver), 201)
    for points in (1, 2, 3):
        ledger.earn(programme["silver"].tenant_id, API_ACTOR, user_id="alice",
                    points_amount=points, category="login")
    delivery.deliver_endpoint(endpoint["id"])
    page = full.get(f"{PATH}{endpoint['id']}/deliveries/?page_size=2")
    rows = assert_success(page, paged=True)
    assert [r["status"] for r in rows] == ["delivered", "delivered"]
    assert set(rows[0]) == {"id", "type", "created_at", "status", "attempts",
                            "last_status_code", "next_attempt_at"}
    assert rows[0]["id"] == receiver.requests[2].id
    assert rows[0]["last_status_code"] == 200
    assert_success(full.client.delete(f"{PATH}{endpoint['id']}/", headers=full.headers()))
    assert assert_success(full.get(PATH)) == []
    ledger.earn(programme["silver"].tenant_id, API_ACTOR, user_id="alice", points_amount=4,
                category="login")
    delivery.deliver_endpoint(endpoint["id"])
    assert len(receiver.requests) == 3
    assert_error(full.get(f"{PATH}{endpoint['id']}/deliveries/"), 404, "NOT_FOUND")


def test_other_tenants_and_lesser_permissions_are_refused(app, full, limited, outsider,
                                                          receiver):
    endpoint = assert_success(create(full, receiver), 201)
    assert_error(limited.get(PATH), 403, "INSUFFICIENT_PERMISSIONS")
    assert_error(create(limited, receiver), 403, "INSUFFICIENT_PERMISSIONS")
    assert assert_success(outsider.get(PATH)) == []
    assert_error(outsider.get(f"{PATH}{endpoint['id']}/deliveries/"), 404, "NOT_FOUND")
    assert_error(outsider.client.delete(f"{PATH}{endpoint['id']}/", headers=outsider.headers()),
                 404, "NOT_FOUND")
    assert len(assert_success(full.get(PATH))) == 1
