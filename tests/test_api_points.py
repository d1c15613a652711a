"""Earn, spend, adjust, batch earn and reverse through the API."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest

from app.services import clock, ledger, members
from tests.api_fixtures import (
    API_ACTOR, assert_error, assert_ledger_consistent, assert_success, ledger_state,
)

EARN = "/api/v1/points/earn/"
SPEND = "/api/v1/points/spend/"
ADJUST = "/api/v1/points/adjust/"
BATCH = "/api/v1/points/batch-earn/"
PROFILES = "/api/v1/points/profiles/"


def reverse_path(tx_id: int) -> str:
    return f"/api/v1/points/transactions/{tx_id}/reverse/"


def earn(api, user_id="alice", amount=100, **extra):
    return api.post(EARN, json={"user_id": user_id, "points_amount": amount,
                                "category": "login", **extra})


def test_it_earns(full, programme):
    data = assert_success(earn(full, amount=120, reason="daily login"), 201)
    assert set(data) == {"transaction", "profile"}
    tx = data["transaction"]
    assert tx["kind"] == "earn" and tx["points_amount"] == 120 and tx["balance_after"] == 120
    assert tx["category"] == "login" and tx["reason"] == "daily login"
    assert tx["user_id"] == "alice" and tx["reverses_id"] is None
    assert data["profile"]["total_points"] == 120 and data["profile"]["lifetime_points"] == 120
    history = assert_success(full.get(PROFILES + "alice/transactions/"), paged=True)
    assert history[0] == tx
    assert_ledger_consistent()


def test_it_earns_with_an_expiry(full, programme):
    data = assert_success(earn(full, expires_at="2099-12-31T23:59:59Z"), 201)
    assert data["transaction"]["expires_at"] == "2099-12-31T23:59:59.000000Z"


def test_earning_moves_the_level(full, programme):
    data = assert_success(earn(full, amount=1000), 201)
    assert data["profile"]["current_level"]["level_name"] == "Silver"


def test_it_records_the_integration_as_the_actor(full, programme, credentials):
    from app.extensions import db
    from app.models import PointTransaction

    earn(full)
    db.session.rollback()
    row = db.session.query(PointTransaction).one()
    assert (row.actor_type, row.actor_id) == ("api_client", credentials.pk)
    assert row.request_id


def test_it_spends(full, programme):
    earn(full, amount=300)
    data = assert_success(full.post(SPEND, json={"user_id": "alice", "points_amount": 120,
                                                 "category": "payment"}), 201)
    assert data["transaction"]["kind"] == "spend"
    assert data["transaction"]["points_amount"] == -120
    assert data["profile"]["total_points"] == 180
    assert_ledger_consistent()


def test_spending_more_than_the_balance_is_insufficient_points(full, programme):
    earn(full, amount=800)
    before = ledger_state()
    details = assert_error(full.post(SPEND, json={"user_id": "alice", "points_amount": 1000,
                                                  "category": "payment"}),
                           422, "INSUFFICIENT_POINTS")
    assert details["required_points"] == 1000 and details["available_points"] == 800
    assert details["shortage"] == 200 and details["suggestions"]
    assert ledger_state() == before


def test_points_of_a_disabled_member_are_refused(full, programme, tenant):
    members.set_points_enabled(tenant.id, API_ACTOR, "bob", False)
    before = ledger_state()
    assert_error(earn(full, "bob"), 422, "POINTS_DISABLED")
    assert_error(full.post(SPEND, json={"user_id": "bob", "points_amount": 1,
                                        "category": "payment"}), 422, "POINTS_DISABLED")
    assert_error(full.post(ADJUST, json={"user_id": "bob", "points_amount": 5,
                                         "reason": "x"}), 422, "POINTS_DISABLED")
    assert ledger_state() == before


@pytest.mark.parametrize("path, body", [
    (EARN, {"points_amount": 1, "category": "login"}),
    (SPEND, {"points_amount": 1, "category": "login"}),
    (ADJUST, {"points_amount": 1, "reason": "r"}),
])
def test_an_unknown_member_is_not_found(full, outsider, programme, path, body):
    before = ledger_state()
    assert_error(full.post(path, json={"user_id": "nobody", **body}), 404, "MEMBER_NOT_FOUND")
    # Another tenant's member is exactly as unknown.
    assert_error(outsider.post(path, json={"user_id": "alice", **body}), 404, "MEMBER_NOT_FOUND")
    assert ledger_state() == before


def test_it_adjusts_both_ways(full, programme):
    up = assert_success(full.post(ADJUST, json={"user_id": "alice", "points_amount": 50,
                                                "reason": "goodwill"}), 201)
    assert up["transaction"]["kind"] == "adjust" and up["transaction"]["category"] == "manual"
    down = assert_success(full.post(ADJUST, json={"user_id": "alice", "points_amount": -20,
                                                  "reason": "correction",
                                                  "category": "community"}), 201)
    assert down["transaction"]["points_amount"] == -20
    assert down["transaction"]["category"] == "community"
    assert down["profile"]["total_points"] == 30
    assert_error(full.post(ADJUST, json={"user_id": "alice", "points_amount": -31,
                                         "reason": "too much"}), 422, "INSUFFICIENT_POINTS")
    assert_ledger_consistent()


@pytest.mark.parametrize("body, field", [
    ({"points_amount": 0, "reason": "r"}, "points_amount"),
    ({"points_amount": 10001, "reason": "r"}, "points_amount"),
    ({"points_amount": -10001, "reason": "r"}, "points_amount"),
    ({"points_amount": 5}, "reason"),
    ({"points_amount": 5, "reason": "   "}, "reason"),
    ({"points_amount": 5, "reason": "r", "category": "bogus"}, "category"),
])
def test_it_validates_adjustments(full, programme, body, field):
    details = assert_error(full.post(ADJUST, json={"user_id": "alice", **body}), 422,
                           "VALIDATION_ERROR")
    assert field in details["field_errors"]
    assert details["field_constraints"]["points_amount"]["min"] == -10000


def test_validation_error_carries_categories_and_constraints(full, programme):
    details = assert_error(earn(full, amount=0, category="gift"), 422, "VALIDATION_ERROR")
    assert set(details["field_errors"]) == {"points_amount", "category"}
    assert details["valid_categories"] == ["login", "license", "referral", "community",
                                           "payment", "manual", "vip_upgrade",
                                           "feature_unlock"]
    assert details["field_constraints"] == {"points_amount": {"min": 1, "max": 10000,
                                                              "type": "integer"}}


def test_an_expiry_in_the_past_is_refused(full, programme):
    details = assert_error(earn(full, expires_at="2001-01-01T00:00:00Z"), 422,
                           "VALIDATION_ERROR")
    assert "expires_at" in details["field_errors"]


def test_the_tenants_maximum_applies(full, programme, tenant):
    from app.services import tenants

    tenants.update_settings(tenant.id, API_ACTOR, name=tenant.name,
                            max_points_per_operation=50, default_expiry_days=None)
    details = assert_error(earn(full, amount=51), 422, "VALIDATION_ERROR")
    assert details["field_constraints"]["points_amount"]["max"] == 50
    assert_success(earn(full, amount=50), 201)


# --------------------------------------------------------------------------- batch earn

def test_it_earns_in_a_batch(full, programme):
    ops = [{"user_id": "alice", "points_amount": 10, "category": "login"},
           {"user_id": "bob", "points_amount": 20, "category": "referral", "reason": "friend"},
           {"user_id": "alice", "points_amount": 5, "category": "community",
            "operation_id": "op-3"}]
    data = assert_success(full.post(BATCH, json={"operations": ops}), 201)
    results = data["results"]
    assert [r["transaction"]["user_id"] for r in results] == ["alice", "bob", "alice"]
    assert [r["transaction"]["balance_after"] for r in results] == [10, 20, 15]
    assert results[2]["transaction"]["idempotency_key"] == "op-3"
    assert results[2]["profile"]["total_points"] == 15
    assert_ledger_consistent()


def test_a_batch_is_all_or_nothing(full, programme):
    before = ledger_state()
    ops = [{"user_id": "alice", "points_amount": 10, "category": "login"},
           {"user_id": "nobody", "points_amount": 10, "category": "login"},
           {"user_id": "carol", "points_amount": 10, "category": "login"},
           {"user_id": "bob", "points_amount": "10", "category": "login"}]
    details = assert_error(full.post(BATCH, json={"operations": ops}), 422, "VALIDATION_ERROR")
    by_index = {e["index"]: e["field_errors"] for e in details["validation_errors"]}
    assert set(by_index) == {1, 2, 3}  # carol is another tenant's: unknown here
    assert "user_id" in by_index[1] and "user_id" in by_index[2]
    assert "points_amount" in by_index[3]
    assert ledger_state() == before


@pytest.mark.parametrize("operations", [[], "all", None, [{"user_id": "alice"}] * 1001])
def test_it_refuses_a_batch_of_the_wrong_size_or_shape(full, programme, operations):
    details = assert_error(full.post(BATCH, json={"operations": operations}), 422,
                           "VALIDATION_ERROR")
    assert "operations" in details["field_errors"]


def test_batch_operations_are_checked_like_bodies(full, programme):
    ops = [{"user_id": "alice", "points_amount": 1, "category": "login", "bonus": 1}, "x"]
    details = assert_error(full.post(BATCH, json={"operations": ops}), 422, "VALIDATION_ERROR")
    assert details["validation_errors"] == [
        {"index": 0, "field_errors": {"bonus": ["Unknown field."]}},
        {"index": 1, "field_errors": {"operation": ["Each operation must be a JSON object."]}},
    ]


def test_a_batch_of_a_thousand(full, programme):
    ops = [{"user_id": "alice" if i % 2 else "bob", "points_amount": 1, "category": "login"}
           for i in range(1000)]
    data = assert_success(full.post(BATCH, json={"operations": ops}), 201)
    assert len(data["results"]) == 1000
    assert data["results"][-1]["profile"]["total_points"] == 500
    assert_ledger_consistent()


# --------------------------------------------------------------------------- reverse

def test_it_reverses_an_earn(full, programme):
    tx = assert_success(earn(full, amount=100), 201)["transaction"]
    data = assert_success(full.post(reverse_path(tx["id"]), json={"reason": "mistake"}), 201)
    assert data["transaction"]["kind"] == "reversal"
    assert data["transaction"]["reverses_id"] == tx["id"]
    assert data["transaction"]["points_amount"] == -100
    assert data["profile"]["total_points"] == 0 and data["profile"]["lifetime_points"] == 0
    assert_ledger_consistent()


def test_it_reverses_a_spend(full, programme):
    earn(full, amount=100)
    spent = assert_success(full.post(SPEND, json={"user_id": "alice", "points_amount": 40,
                                                  "category": "payment"}), 201)
    data = assert_success(full.post(reverse_path(spent["transaction"]["id"]),
                                    json={"reason": "refund"}), 201)
    assert data["transaction"]["points_amount"] == 40
    assert data["profile"]["total_points"] == 100


def test_a_transaction_is_reversed_once(full, programme):
    tx = assert_success(earn(full), 201)["transaction"]
    first = assert_success(full.post(reverse_path(tx["id"]), json={"reason": "x"}), 201)
    before = ledger_state()
    details = assert_error(full.post(reverse_path(tx["id"]), json={"reason": "again"}), 409,
                           "ALREADY_REVERSED")
    assert details == {"reversal_id": first["transaction"]["id"]}
    assert ledger_state() == before


def test_a_reversal_or_an_expiry_is_not_reversible(full, programme, tenant):
    tx = assert_success(earn(full), 201)["transaction"]
    reversal = assert_success(full.post(reverse_path(tx["id"]), json={"reason": "x"}),
                              201)["transaction"]
    details = assert_error(full.post(reverse_path(reversal["id"]), json={"reason": "y"}), 422,
                           "NOT_REVERSIBLE")
    assert details["kind"] == "reversal"
    now = datetime.now(UTC)
    ledger.earn(tenant.id, API_ACTOR, user_id="bob", points_amount=10, category="login",
                expires_at=now + timedelta(days=1))
    with clock.frozen(now + timedelta(days=2)):
        ledger.expire_due()
    history = assert_success(full.get(PROFILES + "bob/transactions/"), paged=True)
    assert history[0]["kind"] == "expire"
    assert_error(full.post(reverse_path(history[0]["id"]), json={"reason": "z"}), 422,
                 "NOT_REVERSIBLE")


def test_another_tenants_transaction_is_not_found(full, outsider, programme):
    tx = assert_success(earn(full), 201)["transaction"]
    before = ledger_state()
    foreign = outsider.post(reverse_path(tx["id"]), json={"reason": "steal"})
    missing = outsider.post(reverse_path(tx["id"] + 1000), json={"reason": "steal"})
    assert_error(foreign, 404, "NOT_FOUND")
    assert_error(missing, 404, "NOT_FOUND")
    assert foreign.get_json()["error"]["details"] == missing.get_json()["error"]["details"]
    assert_error(full.post(reverse_path(2**63), json={"reason": "r"}), 404, "NOT_FOUND")
    assert_error(full.post("/api/v1/points/transactions/-1/reverse/", json={"reason": "r"}),
                 404, "NOT_FOUND")
    assert ledger_state() == before


def test_a_reversal_needs_a_reason(full, programme):
    tx = assert_success(earn(full), 201)["transaction"]
    details = assert_error(full.post(reverse_path(tx["id"]), json={}), 422, "VALIDATION_ERROR")
    assert "reason" in details["field_errors"]
