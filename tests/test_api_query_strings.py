"""Query strings are read in one place (app/api/parsing.py): every documented
parameter at most once, numbers in ASCII digits only."""
from __future__ import annotations

import pytest

from app.services import ledger
from tests.api_fixtures import API_ACTOR, assert_error, assert_success

# Each route's documented parameters, with a valid value of each.
ROUTES = {
    "/api/v1/points/profiles/": {"page_size": "5", "cursor": "", "fields": "user_id", "q": "a",
                                 "level": "1"},
    "/api/v1/points/profiles/alice/": {"fields": "user_id"},
    "/api/v1/points/profiles/alice/transactions/": {"page_size": "5", "cursor": "",
                                                    "kind": "earn", "category": "login"},
}
CASES = [pytest.param(path, name, value, id=f"{path}:{name}")
         for path, params in ROUTES.items() for name, value in params.items()]


@pytest.fixture
def ctx(programme, tenant):
    ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=5, category="login")


@pytest.mark.parametrize("path, name, value", CASES)
def test_each_parameter_is_accepted_once(full, ctx, path, name, value):
    assert full.get(path, query_string=[(name, value)]).status_code == 200


@pytest.mark.parametrize("path, name, value", CASES)
def test_a_repeated_parameter_is_a_validation_error(full, ctx, path, name, value):
    for repeat in ([(name, value), (name, value)], [(name, value), (name, "bogus")],
                   [(name, ""), (name, value)]):
        details = assert_error(full.get(path, query_string=repeat), 422, "VALIDATION_ERROR")
        assert list(details["field_errors"]) == [name]


@pytest.mark.parametrize("query", ["page_size=5&page_size=500", "fields=user_id&fields=bogus",
                                   "level=1&level=abc", "q=a&page_size=5&q=b"])
def test_the_reported_repeats_are_refused(full, ctx, query):
    assert_error(full.get(f"/api/v1/points/profiles/?{query}"), 422, "VALIDATION_ERROR")


def test_a_repeat_on_the_token_route_is_refused_too(client):
    response = client.post("/api/v1/auth/token/?x=1&x=2", json={"client_id": "a",
                                                               "client_secret": "b"})
    assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("digits", ["٣", "３", "²", "৫", "1٣", " 5", "+5", "5_0", "-1", "0x5",
                                    "5.0"])
@pytest.mark.parametrize("path, name", [
    ("/api/v1/points/profiles/", "page_size"), ("/api/v1/points/profiles/", "level"),
    ("/api/v1/points/profiles/alice/transactions/", "page_size")])
def test_numbers_are_ascii_digits_only(full, ctx, path, name, digits):
    details = assert_error(full.get(path, query_string={name: digits}), 422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == [name]


def test_a_page_size_refusal_keeps_its_constraints(full, ctx):
    details = assert_error(full.get("/api/v1/points/profiles/?page_size=٣"), 422,
                           "VALIDATION_ERROR")
    assert details["field_constraints"] == {"page_size": {"min": 1, "max": 100,
                                                          "type": "integer"}}
    assert assert_success(full.get("/api/v1/points/profiles/?page_size=3"), paged=True)
