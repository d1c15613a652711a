"""Levels, profiles (list, create, get), transactions history."""
from __future__ import annotations

import pytest

from app.services import ledger, members
from tests.api_fixtures import (
    API_ACTOR, assert_error, assert_ledger_consistent, assert_success, ledger_state,
)

PROFILES = "/api/v1/points/profiles/"
PROFILE_KEYS = {"user_id", "display_name", "email", "phone", "total_points", "lifetime_points",
                "pending_points",
                "current_level", "tags", "is_points_enabled", "created_at"}


def test_it_lists_the_levels(full, programme):
    data = assert_success(full.get("/api/v1/points/user-levels/"))
    assert data == [
        {"id": programme["bronze"].id, "level_name": "Bronze", "min_points": 0,
         "benefits": "welcome"},
        {"id": programme["silver_level"].id, "level_name": "Silver", "min_points": 1000,
         "benefits": "free shipping"},
    ]


def test_levels_of_another_tenant_are_not_listed(outsider, programme):
    assert assert_success(outsider.get("/api/v1/points/user-levels/")) == []


def test_it_lists_profiles_newest_first(full, programme):
    data = assert_success(full.get(PROFILES), paged=True)
    assert [p["user_id"] for p in data] == ["bob", "alice"]
    assert set(data[0]) == PROFILE_KEYS


def test_another_tenant_sees_only_its_own_profiles(outsider, programme):
    data = assert_success(outsider.get(PROFILES), paged=True)
    assert [p["user_id"] for p in data] == ["carol"]


def test_it_pages_profiles(full, tenant, make_member):
    for i in range(5):
        make_member(tenant, f"p{i}")
    seen, cursor = [], None
    while True:
        response = full.get(PROFILES, query_string={"page_size": 2, **(
            {"cursor": cursor} if cursor else {})})
        data = assert_success(response, paged=True)
        seen += [p["user_id"] for p in data]
        info = response.get_json()["page_info"]
        assert info["page_size"] == 2
        if not info["has_next"]:
            break
        cursor = info["next_cursor"]
    assert seen == ["p4", "p3", "p2", "p1", "p0"]


def test_it_searches_profiles(full, programme):
    assert [p["user_id"] for p in assert_success(full.get(PROFILES, query_string={"q": "ali"}),
                                                 paged=True)] == ["alice"]
    by_email = assert_success(full.get(PROFILES, query_string={"q": "alice@example.com"}),
                              paged=True)
    assert [p["user_id"] for p in by_email] == ["alice"]


def test_it_filters_by_level(full, programme, tenant):
    ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=1000, category="login")
    data = assert_success(full.get(PROFILES, query_string={
        "level": programme["silver_level"].id}), paged=True)
    assert [p["user_id"] for p in data] == ["alice"]
    assert data[0]["current_level"] == {"id": programme["silver_level"].id,
                                        "level_name": "Silver", "min_points": 1000}


@pytest.mark.parametrize("query", [{"page_size": "101"}, {"page_size": "0"},
                                   {"page_size": "abc"}, {"cursor": "!!not-a-cursor"},
                                   {"fields": "user_id,secret"}, {"level": "gold"},
                                   {"q": "x" * 201}])
def test_it_refuses_bad_list_parameters(full, programme, query):
    details = assert_error(full.get(PROFILES, query_string=query), 422, "VALIDATION_ERROR")
    assert details["field_errors"]


def test_page_size_limit_is_described(full):
    details = assert_error(full.get(PROFILES, query_string={"page_size": 500}), 422,
                           "VALIDATION_ERROR")
    assert details["field_constraints"]["page_size"] == {"min": 1, "max": 100, "type": "integer"}


def test_it_selects_fields(full, programme):
    data = assert_success(full.get(PROFILES, query_string={"fields": "user_id,total_points"}),
                          paged=True)
    assert data == [{"user_id": "bob", "total_points": 0}, {"user_id": "alice", "total_points": 0}]
    one = assert_success(full.get(PROFILES + "alice/", query_string={"fields": "email"}))
    assert one == {"email": "alice@example.com"}


def test_it_refuses_unknown_fields(full, programme):
    details = assert_error(full.get(PROFILES + "alice/", query_string={"fields": "email,pin"}),
                           422, "VALIDATION_ERROR")
    assert details["field_errors"] == {"fields": ["Unknown field: pin."]}
    assert "email" in details["valid_fields"]


def test_it_gets_a_profile(full, programme, tenant):
    members.set_points_enabled(tenant.id, API_ACTOR, "bob", False)
    data = assert_success(full.get(PROFILES + "alice/"))
    assert set(data) == PROFILE_KEYS
    assert data["user_id"] == "alice" and data["display_name"] == "Alice"
    assert data["email"] == "alice@example.com" and data["phone"] is None
    assert data["current_level"]["level_name"] == "Bronze"
    assert data["tags"] == [] and data["is_points_enabled"] is True
    assert data["created_at"].endswith("Z")
    assert assert_success(full.get(PROFILES + "bob/"))["is_points_enabled"] is False


def test_a_missing_member_is_not_found(full, programme):
    assert_error(full.get(PROFILES + "nobody/"), 404, "MEMBER_NOT_FOUND")


def test_another_tenants_member_is_not_found_exactly_like_a_missing_one(outsider, full,
                                                                        programme):
    foreign = outsider.get(PROFILES + "alice/")
    missing = outsider.get(PROFILES + "nobody/")
    assert_error(foreign, 404, "MEMBER_NOT_FOUND")
    a, b = foreign.get_json()["error"], missing.get_json()["error"]
    assert (a["message"], a["details"]) == (b["message"], b["details"])
    assert_error(full.get(PROFILES + "carol/"), 404, "MEMBER_NOT_FOUND")


def test_it_creates_a_profile(full, programme):
    response = full.post(PROFILES, json={"user_id": "dave", "display_name": "Dave 大卫",
                                         "email": "dave@example.com", "phone": "+86 138 0000"})
    data = assert_success(response, 201)
    assert data["user_id"] == "dave" and data["display_name"] == "Dave 大卫"
    assert data["email"] == "dave@example.com" and data["phone"] == "+86 138 0000"
    assert data["total_points"] == 0 and data["current_level"]["level_name"] == "Bronze"
    assert response.headers["Location"].endswith("/api/v1/points/profiles/dave/")
    assert assert_success(full.get(PROFILES + "dave/"))["display_name"] == "Dave 大卫"


def test_it_refuses_a_duplicate_member(full, programme):
    before = ledger_state()
    details = assert_error(full.post(PROFILES, json={"user_id": "alice"}), 409, "MEMBER_EXISTS")
    assert details == {"user_id": "alice"}
    assert ledger_state() == before


def test_the_same_user_id_may_exist_in_another_tenant(outsider, programme):
    assert_success(outsider.post(PROFILES, json={"user_id": "alice"}), 201)


@pytest.mark.parametrize("body, field", [
    ({}, "user_id"), ({"user_id": ""}, "user_id"), ({"user_id": "a b"}, "user_id"),
    ({"user_id": "a/b"}, "user_id"), ({"user_id": 5}, "user_id"),
    ({"user_id": "x" * 129}, "user_id"), ({"user_id": "ok", "email": "nope"}, "email"),
    ({"user_id": "ok", "phone": "call me"}, "phone"),
    ({"user_id": "ok", "display_name": "x" * 201}, "display_name"),
    ({"user_id": "ok", "display_name": 7}, "display_name"),
])
def test_it_validates_a_new_profile(full, programme, body, field):
    before = ledger_state()
    details = assert_error(full.post(PROFILES, json=body), 422, "VALIDATION_ERROR")
    assert field in details["field_errors"]
    assert ledger_state() == before


def test_it_lists_a_members_transactions_newest_first(full, programme, tenant):
    first = ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=50,
                        category="login", reason="daily")
    ledger.spend(tenant.id, API_ACTOR, user_id="alice", points_amount=20, category="payment")
    response = full.get(PROFILES + "alice/transactions/")
    data = assert_success(response, paged=True)
    assert [t["kind"] for t in data] == ["spend", "earn"]
    assert data[1] == {
        "id": first.transaction.id, "user_id": "alice", "kind": "earn", "points_amount": 50,
        "balance_after": 50, "category": "login", "reason": "daily", "expires_at": None,
        "created_at": data[1]["created_at"], "idempotency_key": None, "reverses_id": None,
    }
    assert data[0]["points_amount"] == -20 and data[0]["balance_after"] == 30


def test_it_filters_transactions(full, programme, tenant):
    ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=50, category="login")
    ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=5, category="referral")
    ledger.spend(tenant.id, API_ACTOR, user_id="alice", points_amount=20, category="payment")
    kinds = assert_success(full.get(PROFILES + "alice/transactions/",
                                    query_string={"kind": "earn"}), paged=True)
    assert [t["points_amount"] for t in kinds] == [5, 50]
    cats = assert_success(full.get(PROFILES + "alice/transactions/",
                                   query_string={"category": "payment"}), paged=True)
    assert [t["points_amount"] for t in cats] == [-20]


@pytest.mark.parametrize("query", [{"kind": "gift"}, {"category": "food"},
                                   {"page_size": "1000"}, {"cursor": "%%%"}])
def test_it_refuses_bad_history_parameters(full, programme, query):
    assert_error(full.get(PROFILES + "alice/transactions/", query_string=query), 422,
                 "VALIDATION_ERROR")


def test_history_of_a_missing_or_foreign_member_is_not_found(full, outsider, programme):
    assert_error(full.get(PROFILES + "nobody/transactions/"), 404, "MEMBER_NOT_FOUND")
    assert_error(outsider.get(PROFILES + "alice/transactions/"), 404, "MEMBER_NOT_FOUND")
    assert_ledger_consistent()
