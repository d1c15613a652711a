"""Earning rules and events through the API (CONTRACT.md, "Programme")."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest

from app.services import clock, programme
from tests.api_fixtures import (
    API_ACTOR, assert_error, assert_ledger_consistent, assert_success, ledger_state,
)
from tests.ledger_invariants import assert_consistent

RULES = "/api/v1/earning-rules/"
EVENTS = "/api/v1/events/"
PREVIEW = "/api/v1/events/preview/"


def rule(api, **fields):
    body = {"name": "Sign-in", "event_type": "login", "award": {"type": "fixed", "points": 5}}
    body.update(fields)
    return api.post(RULES, json=body)


def event(api, event_id="e1", user_id="alice", event_type="login", **extra):
    return api.post(EVENTS, json={"event_id": event_id, "user_id": user_id,
                                  "event_type": event_type, **extra})


def test_it_creates_lists_gets_and_patches_rules(full, limited, programme):
    created = assert_success(rule(full, limit={"count": 1, "period": "day"}), 201)
    assert created["category"] == "login" and created["active"] is True
    assert created["award"] == {"type": "fixed", "points": 5}
    assert created["limit"] == {"count": 1, "period": "day"} and created["pending_days"] == 0
    per = assert_success(rule(full, name="Payments", event_type="purchase.paid",
                              category="payment",
                              award={"type": "per_amount", "points": 1, "per": "10"},
                              pending_days=14), 201)
    assert per["award"] == {"type": "per_amount", "points": 1, "per": "10.00"}
    listed = assert_success(limited.get(RULES))
    assert [r["id"] for r in listed] == [created["id"], per["id"]]
    assert assert_success(limited.get(f"{RULES}{per['id']}/")) == per
    patched = assert_success(full.client.patch(f"{RULES}{per['id']}/", json={"active": False},
                                               headers=full.headers()))
    assert patched["active"] is False and patched["name"] == "Payments"
    assert [r["id"] for r in assert_success(limited.get(RULES + "?active=true"))] == [
        created["id"]]
    assert [r["id"] for r in assert_success(limited.get(RULES + "?active=false"))] == [per["id"]]


@pytest.mark.parametrize("fields, bad", [
    ({"event_type": "Bad Type"}, "event_type"),
    ({"event_type": "purchase.paid"}, "category"),
    ({"award": {"type": "fixed", "points": 0}}, "award.points"),
    ({"award": {"type": "per_amount", "points": 1}}, "award.per"),
    ({"award": {"type": "per_amount", "points": 1, "per": "0.001"}}, "award.per"),
    ({"award": {"type": "multiplier", "factor": "0.5"}}, "award.factor"),
    ({"award": {"type": "bonus"}}, "award"),
    ({"limit": {"count": 1, "period": "year"}}, "limit.period"),
    ({"levels": [999]}, "levels"),
    ({"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}, "ends_at"),
    ({"name": ""}, "name"),
])
def test_it_refuses_bad_rules(full, programme, fields, bad):
    before = ledger_state()
    details = assert_error(rule(full, **fields), 422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == [bad]
    assert ledger_state() == before


def test_rules_are_scoped_and_need_permissions(full, limited, outsider, programme):
    created = assert_success(rule(full), 201)
    assert_error(outsider.get(f"{RULES}{created['id']}/"), 404, "RULE_NOT_FOUND")
    assert_error(rule(limited), 403, "INSUFFICIENT_PERMISSIONS")
    assert assert_success(outsider.get(RULES)) == []


def test_an_event_awards_its_rules(full, programme):
    assert_success(rule(full), 201)
    data = assert_success(event(full, occurred_at=None), 201)
    assert set(data) == {"event", "awards", "points_awarded", "profile"}
    assert data["points_awarded"] == 5 and data["profile"]["total_points"] == 5
    [award] = data["awards"]
    assert award["points"] == 5 and award["status"] == "available" and award["transaction_id"]
    history = assert_success(full.get("/api/v1/points/profiles/alice/transactions/"),
                             paged=True)
    assert history[0]["id"] == award["transaction_id"] and history[0]["category"] == "login"
    assert history[0]["reason"] == "Sign-in"
    got = assert_success(full.get(EVENTS + "e1/"))
    assert got["awards"] == data["awards"] and got["event"]["event_id"] == "e1"
    assert_consistent()


def test_an_event_matching_no_rule_is_recorded_with_nothing(full, programme):
    data = assert_success(event(full, event_type="share"), 201)
    assert data["points_awarded"] == 0 and data["awards"] == []
    assert assert_success(full.get(EVENTS + "e1/"))["event"]["event_type"] == "share"


def test_an_event_is_recorded_once_forever(full, programme):
    assert_success(rule(full), 201)
    first = event(full, amount="12.50")
    second = event(full, amount="12.5")  # the same amount, written otherwise
    assert second.status_code == 201 and second.headers["Idempotent-Replayed"] == "true"
    assert second.get_data() == first.get_data()
    details = assert_error(event(full, amount="13.00"), 409, "EVENT_EXISTS")
    assert details == {"event_id": "e1"}
    got = assert_success(full.get(EVENTS + "e1/"))["event"]
    assert (got["amount"], got["attributes"], got["status"]) == ("12.50", {}, "recorded")
    data = assert_success(event(full, "e2", event_type="share", amount=7,
                                attributes={"order": "A-1", "n": [1]}),
                          201)
    assert data["event"]["attributes"] == {"order": "A-1", "n": [1]}
    assert assert_success(full.get(EVENTS + "e2/"))["event"]["attributes"] == {
        "order": "A-1", "n": [1]}
    assert assert_success(full.get("/api/v1/points/profiles/alice/"))["total_points"] == 5


def test_a_daily_limit_holds_in_the_tenants_day(full, programme, tenant):
    from app.services import tenants

    tenants.update_settings(tenant.id, API_ACTOR, name=tenant.name,
                            max_points_per_operation=10000, default_expiry_days=None,
                            timezone="Asia/Shanghai")
    assert_success(rule(full, limit={"count": 1, "period": "day"}), 201)
    # 15:30 and 16:30 UTC are 23:30 and 00:30 in Shanghai: two days there.
    day = datetime(2026, 11, 30, tzinfo=UTC)
    with clock.frozen(day + timedelta(days=1)):
        a = assert_success(event(full, "a", occurred_at=(day + timedelta(hours=15)).isoformat()),
                           201)
        b = assert_success(event(full, "b", occurred_at=(day + timedelta(hours=15, minutes=30))
                                 .isoformat()), 201)
        c = assert_success(event(full, "c", occurred_at=(day + timedelta(hours=16, minutes=30))
                                 .isoformat()), 201)
    assert [a["points_awarded"], b["points_awarded"], c["points_awarded"]] == [5, 0, 5]


def test_per_amount_multiplier_and_the_tenant_maximum(full, programme):
    silver = programme["silver_level"].id
    assert_success(rule(full, name="Pay", event_type="payment",
                        award={"type": "per_amount", "points": 1, "per": "10.00"}), 201)
    assert_success(rule(full, name="x1.5 Silver", event_type="payment",
                        award={"type": "multiplier", "factor": "1.5"}, levels=[silver]), 201)
    assert_success(rule(full, name="x2 weekend", event_type="payment",
                        award={"type": "multiplier", "factor": "2"},
                        starts_at="2000-01-01T00:00:00Z", ends_at="2000-01-03T00:00:00Z"), 201)
    data = assert_success(event(full, "p1", event_type="payment", amount="99.99"), 201)
    assert [a["points"] for a in data["awards"]] == [9]  # not Silver, not in the window
    programme_api_earn(full, "alice", 1000)  # now Silver
    data = assert_success(event(full, "p2", event_type="payment", amount=35), 201)
    assert [(a["rule_name"], a["points"]) for a in data["awards"]] == [("Pay", 3),
                                                                       ("x1.5 Silver", 1)]
    data = assert_success(event(full, "p3", event_type="payment", amount="999999"), 201)
    assert data["points_awarded"] == 10000
    assert_consistent()


def programme_api_earn(api, user_id, points):
    assert_success(api.post("/api/v1/points/earn/", json={
        "user_id": user_id, "points_amount": points, "category": "manual"}), 201)


def test_pending_awards_stay_out_of_the_balance_until_activated(full, programme, tenant):
    assert_success(rule(full, name="Pay", event_type="payment",
                        award={"type": "per_amount", "points": 1, "per": "10"},
                        pending_days=14), 201)
    data = assert_success(event(full, "p1", event_type="payment", amount="120"), 201)
    [award] = data["awards"]
    assert award["status"] == "pending" and award["transaction_id"] is None
    assert data["profile"]["total_points"] == 0 and data["profile"]["pending_points"] == 12
    assert_error(full.post("/api/v1/points/spend/", json={
        "user_id": "alice", "points_amount": 1, "category": "payment"}), 422,
        "INSUFFICIENT_POINTS")
    assert programme_activate(tenant, days=13).awards == 0
    report = programme_activate(tenant, days=15)
    assert (report.awards, report.points) == (1, 12)
    profile = assert_success(full.get("/api/v1/points/profiles/alice/"))
    assert (profile["total_points"], profile["pending_points"]) == (12, 0)
    [award] = assert_success(full.get(EVENTS + "p1/"))["awards"]
    assert award["status"] == "available" and award["transaction_id"]
    assert programme_activate(tenant, days=16).awards == 0  # exactly one earn
    assert_consistent()


def programme_activate(tenant, days):
    return programme.activate_due(tenant.id, now=clock.now() + timedelta(days=days))


def test_an_old_event_is_available_at_once(full, programme):
    assert_success(rule(full, event_type="payment", award={"type": "fixed", "points": 7},
                        pending_days=14), 201)
    old = (clock.now() - timedelta(days=20)).isoformat()
    data = assert_success(event(full, "old", event_type="payment", occurred_at=old), 201)
    assert data["awards"][0]["status"] == "available"


def test_preview_writes_nothing(full, limited, programme):
    assert_success(rule(full), 201)
    before = ledger_state()
    data = assert_success(limited.post(PREVIEW, json={"user_id": "alice",
                                                      "event_type": "login"}))
    assert data["preview"] is True and data["points_awarded"] == 5
    assert data["event"]["event_id"] is None
    assert ledger_state() == before
    assert_error(limited.get(EVENTS + "nope/"), 404, "EVENT_NOT_FOUND")


def test_bad_events_are_refused(full, programme):
    before = ledger_state()
    future = (clock.now() + timedelta(hours=1)).isoformat()
    for body, field in ((dict(amount="-1"), "amount"), (dict(amount="1.234"), "amount"),
                        (dict(amount=True), "amount"), (dict(occurred_at=future), "occurred_at"),
                        (dict(attributes={"x": "y" * 5000}), "attributes"),
                        (dict(attributes=[1]), "attributes"), (dict(event_type="A B"),
                                                               "event_type")):
        details = assert_error(event(full, **body), 422, "VALIDATION_ERROR")
        assert list(details["field_errors"]) == [field], body
    assert_error(event(full, user_id="ghost"), 404, "MEMBER_NOT_FOUND")
    assert_error(full.post(EVENTS, json={"event_id": "x", "user_id": "alice",
                                         "event_type": "login", "points": 3}),
                 422, "VALIDATION_ERROR")
    assert ledger_state() == before


def test_full_revoke_takes_back_and_cancels(full, programme):
    assert_success(rule(full, name="Pay", event_type="payment",
                        award={"type": "per_amount", "points": 1, "per": "10"},
                        pending_days=14), 201)
    assert_success(rule(full, name="Bonus", event_type="payment",
                        award={"type": "fixed", "points": 20}), 201)
    assert_success(event(full, "p1", event_type="payment", amount="100"), 201)
    assert_success(full.post("/api/v1/points/spend/", json={
        "user_id": "alice", "points_amount": 15, "category": "payment"}), 201)
    data = assert_success(full.post(EVENTS + "p1/revoke/", json={"reason": "refund"}), 201)
    assert (data["taken_back"], data["cancelled_pending"], data["not_recovered"]) == (5, 10, 15)
    assert data["profile"]["total_points"] == 0 and data["profile"]["pending_points"] == 0
    assert data["event"]["status"] == "revoked"
    assert_error(full.post(EVENTS + "p1/revoke/", json={"reason": "again"}), 409,
                 "ALREADY_REVOKED")
    assert all(a["status"] == "cancelled" for a in
               assert_success(full.get(EVENTS + "p1/"))["awards"])
    assert_consistent()


def test_partial_revoke_works_the_awards_out_again(full, programme):
    assert_success(rule(full, name="Pay", event_type="payment",
                        award={"type": "per_amount", "points": 1, "per": "10"}), 201)
    assert_success(rule(full, name="Pending", event_type="payment",
                        award={"type": "per_amount", "points": 2, "per": "10"},
                        pending_days=5), 201)
    assert_success(event(full, "p1", event_type="payment", amount="100"), 201)  # 10 + 20 pending
    data = assert_success(full.post(EVENTS + "p1/revoke/",
                                    json={"reason": "part", "amount": "35"}), 201)
    # 65 left: 6 + 12 = 18 of 30, so 12 go, pending first.
    assert (data["taken_back"], data["cancelled_pending"], data["not_recovered"]) == (0, 12, 0)
    assert data["event"]["refunded_amount"] == "35.00"
    assert data["event"]["status"] == "partially_revoked"
    data = assert_success(full.post(EVENTS + "p1/revoke/",
                                    json={"reason": "rest", "amount": "65"}), 201)
    assert (data["taken_back"], data["cancelled_pending"]) == (10, 8)
    assert data["profile"]["total_points"] == 0 and data["profile"]["pending_points"] == 0
    assert_error(full.post(EVENTS + "p1/revoke/", json={"reason": "x", "amount": "1"}), 409,
                 "ALREADY_REVOKED")
    assert_consistent()


def test_revoke_refuses_too_much_and_needs_a_reason(full, limited, programme):
    assert_success(rule(full, event_type="payment", award={"type": "fixed", "points": 3}), 201)
    assert_success(event(full, "p1", event_type="payment", amount="10"), 201)
    before = ledger_state()
    assert_error(full.post(EVENTS + "p1/revoke/", json={"reason": "x", "amount": "10.01"}),
                 422, "VALIDATION_ERROR")
    assert_error(full.post(EVENTS + "p1/revoke/", json={}), 422, "VALIDATION_ERROR")
    assert_error(limited.post(EVENTS + "p1/revoke/", json={"reason": "x"}), 403,
                 "INSUFFICIENT_PERMISSIONS")
    assert_error(full.post(EVENTS + "nope/revoke/", json={"reason": "x"}), 404,
                 "EVENT_NOT_FOUND")
    assert ledger_state() == before
    assert_ledger_consistent()


def test_editing_a_rule_changes_later_events_only(full, programme):
    created = assert_success(rule(full, event_type="payment",
                                  award={"type": "per_amount", "points": 1, "per": "10"}), 201)
    assert_success(event(full, "p1", event_type="payment", amount="100"), 201)
    assert_success(full.client.patch(f"{RULES}{created['id']}/", json={
        "award": {"type": "per_amount", "points": 5, "per": "10"}}, headers=full.headers()))
    assert assert_success(event(full, "p2", event_type="payment", amount="100"),
                          201)["points_awarded"] == 50
    data = assert_success(full.post(EVENTS + "p1/revoke/",
                                    json={"reason": "half", "amount": "50"}), 201)
    assert data["taken_back"] == 5  # the 1-per-10 it applied, not today's 5


@pytest.mark.parametrize("code", ["EVENT_EXISTS", "ALREADY_REVOKED", "RULE_NOT_FOUND",
                                  "EVENT_NOT_FOUND"])
def test_the_new_codes_have_pages(app, code):
    response = app.test_client().get(f"/docs/errors/{code}")
    assert response.status_code == 200 and code in response.get_data(as_text=True)


def test_the_openapi_document_names_the_programme(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    for path in (RULES, RULES + "{rule_id}/", EVENTS, PREVIEW, EVENTS + "{event_id}/",
                 EVENTS + "{event_id}/revoke/"):
        assert "/api" + path.removeprefix("/api") in doc["paths"], path


def test_revoke_refuses_a_member_whose_points_are_disabled(full, programme):
    from app.services import members

    assert_success(rule(full, event_type="payment", award={"type": "fixed", "points": 3}), 201)
    assert_success(event(full, "p1", event_type="payment", amount="10"), 201)
    members.set_points_enabled(programme["bronze"].tenant_id, API_ACTOR, "alice", False)
    before = ledger_state()
    assert_error(full.post(EVENTS + "p1/revoke/", json={"reason": "x", "amount": "5"}), 422,
                 "POINTS_DISABLED")
    assert_error(event(full, "p2", event_type="payment"), 422, "POINTS_DISABLED")
    assert ledger_state() == before


@pytest.mark.parametrize("event_id", ["order/2026/0001", "a/revoke", "shop/ünïcode/7"])
def test_an_event_id_with_slashes_is_fetched_and_revoked_by_its_path(full, programme, event_id):
    """CONTRACT allows any event_id of 1-255 characters: one with `/` is reachable raw
    and percent-encoded, even when it ends like the revoke path."""
    from urllib.parse import quote

    assert_success(rule(full), 201)
    assert assert_success(event(full, event_id), 201)["event"]["event_id"] == event_id
    for path in (event_id, quote(event_id, safe="")):
        got = assert_success(full.get(f"{EVENTS}{path}/"))
        assert got["event"]["event_id"] == event_id and got["awards"][0]["points"] == 5
    data = assert_success(full.post(f"{EVENTS}{quote(event_id, safe='')}/revoke/",
                                    json={"reason": "refund"}), 201)
    assert data["event"]["event_id"] == event_id and data["taken_back"] == 5
    assert_error(full.post(f"{EVENTS}{event_id}/revoke/", json={"reason": "again"}), 409,
                 "ALREADY_REVOKED")
    assert_error(full.get(f"{EVENTS}{event_id}/extra/"), 404, "EVENT_NOT_FOUND")
    assert_consistent()
