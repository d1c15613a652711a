"""Text a database cannot store is refused where the API parses it.

A JSON `\\ud800` escape decodes to a lone UTF-16 surrogate, which UTF-8 (and so
psycopg and sqlite3) cannot encode; PostgreSQL text cannot hold `\\u0000`. Every
string of every body, keys included, is checked once in app/api/parsing.py: a
422 VALIDATION_ERROR naming the field, nothing changed, nothing stored. The
bodies are written as raw text, as an attacker would send them.
"""
from __future__ import annotations

import json

import pytest

from app.services import ledger
from tests.api_fixtures import API_ACTOR, assert_error, assert_success, ledger_state

SURROGATE = "\\ud800"  # as the six characters of a JSON escape
BAD_TEXTS = [SURROGATE, "\\udfff", "a\\udc00b", "\\u0000", "x\\u0000"]


def _raw(body: dict, field: str, escape: str) -> str:
    """The JSON text of `body` with `field`'s value replaced by a string holding `escape`."""
    marker = "@@BAD@@"
    return json.dumps({**body, field: marker}).replace(marker, escape)


@pytest.fixture
def ctx(programme, tenant):
    tx = ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=100,
                     category="login").transaction
    return {"tx_id": tx.id, "tag_id": programme["silver"].id}


EARN = {"user_id": "alice", "points_amount": 1, "category": "payment"}
# (path, a valid body, the string fields it takes)
WRITES = [
    ("/api/v1/points/earn/", EARN, ["user_id", "category", "reason", "expires_at",
                                    "operation_id"]),
    ("/api/v1/points/spend/", EARN, ["user_id", "category", "reason", "operation_id"]),
    ("/api/v1/points/adjust/", {"user_id": "alice", "points_amount": 1, "reason": "r"},
     ["user_id", "reason", "category", "operation_id"]),
    ("/api/v1/points/profiles/", {"user_id": "newbie"},
     ["user_id", "display_name", "email", "phone"]),
    ("/api/v1/points/transactions/{tx_id}/reverse/", {"reason": "r"}, ["reason"]),
    ("/api/v1/points/profiles/alice/vip-tags/", {"tag_id": 0}, ["resolution"]),
]
CASES = [pytest.param(path, body, field, id=f"{path}:{field}")
         for path, body, fields in WRITES for field in fields]


@pytest.mark.parametrize("path, body, field", CASES)
@pytest.mark.parametrize("escape", BAD_TEXTS)
def test_every_string_field_refuses_unstorable_text(full, ctx, path, body, field, escape):
    body = {**body, "tag_id": ctx["tag_id"]} if "tag_id" in body else body
    before = ledger_state()
    response = full.post(path.format(**ctx), data=_raw(body, field, escape),
                         content_type="application/json",
                         headers={"Idempotency-Key": "unstorable"})
    details = assert_error(response, 422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == [field]
    assert "cannot be stored" in details["field_errors"][field][0]
    assert ledger_state() == before


@pytest.mark.parametrize("field", ["user_id", "category", "reason", "expires_at",
                                   "operation_id"])
def test_a_batch_names_the_operation_and_its_field(full, ctx, field):
    before = ledger_state()
    operation = _raw(EARN, field, SURROGATE)
    response = full.post("/api/v1/points/batch-earn/", content_type="application/json",
                         data=f'{{"operations": [{json.dumps(EARN)}, {operation}]}}')
    details = assert_error(response, 422, "VALIDATION_ERROR")
    assert details["validation_errors"] == [{"index": 1, "field_errors": {field: [
        "This text contains a lone UTF-16 surrogate (U+D800) at position 1, which cannot be "
        "stored."]}}]
    assert ledger_state() == before


def test_a_key_that_cannot_be_stored_is_named_without_breaking_the_answer(full, ctx):
    before = ledger_state()
    response = full.post("/api/v1/points/earn/", content_type="application/json",
                         data='{"user_id": "alice", "points_amount": 1, "category": "login", '
                              '"a\\ud800": 1}')
    details = assert_error(response, 422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == ["a\\ud800"]  # the escape, as text
    assert ledger_state() == before


def test_the_first_position_is_reported(full, ctx):
    response = full.post("/api/v1/points/earn/", content_type="application/json",
                         data=_raw(EARN, "reason", "ab\\udc00c\\u0000"))
    details = assert_error(response, 422, "VALIDATION_ERROR")
    assert details["field_errors"]["reason"] == [
        "This text contains a lone UTF-16 surrogate (U+DC00) at position 3, which cannot be "
        "stored."]


def test_a_surrogate_pair_is_a_character_and_is_kept(full, ctx):
    earned = assert_success(full.post("/api/v1/points/earn/", content_type="application/json",
                                      data=_raw(EARN, "reason", "\\ud83c\\udf89")), 201)
    assert earned["transaction"]["reason"] == "🎉"


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/auth/token/", {"client_id": "jf_x", "client_secret": "s"}, "client_id"),
    ("/api/v1/auth/token/", {"client_id": "jf_x", "client_secret": "s"}, "client_secret"),
    ("/api/v1/auth/refresh/", {"refresh_token": "r"}, "refresh_token"),
    ("/api/auth/refresh/", {"refresh_token": "r"}, "refresh_token"),
])
@pytest.mark.parametrize("escape", [SURROGATE, "\\u0000"])
def test_token_routes_refuse_it_without_authentication(client, tenant, path, body, field,
                                                       escape):
    before = ledger_state()
    response = client.post(path, data=_raw(body, field, escape), content_type="application/json")
    details = assert_error(response, 422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == [field]
    assert ledger_state() == before


QUERIES = [
    ("/api/v1/points/profiles/", ["q", "cursor", "fields", "level", "page_size"]),
    ("/api/v1/points/profiles/alice/", ["fields"]),
    ("/api/v1/points/profiles/alice/transactions/", ["cursor", "kind", "category", "page_size"]),
]


@pytest.mark.parametrize("path, name", [pytest.param(p, n, id=f"{p}:{n}")
                                        for p, names in QUERIES for n in names])
def test_a_nul_in_any_query_parameter_is_refused_naming_it(full, ctx, path, name):
    details = assert_error(full.get(path, query_string={name: "a\x00"}), 422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == [name]


def test_an_encoded_surrogate_in_a_query_or_path_is_not_a_500(full, ctx):
    """Werkzeug leaves bytes that are not UTF-8 percent-encoded in a query value,
    and replaces them in a path: neither can reach the database as a surrogate."""
    found = assert_success(full.get("/api/v1/points/profiles/?q=%ED%A0%80"), paged=True)
    assert found == []
    assert_error(full.get("/api/v1/points/profiles/%ED%A0%80/"), 404, "MEMBER_NOT_FOUND")


def test_headers_that_reach_the_database_refuse_it_too(full, ctx):
    """Headers arrive as Latin-1 (no surrogate can), but a NUL can."""
    before = ledger_state()
    details = assert_error(full.post("/api/v1/points/earn/", json=EARN,
                                     headers={"Idempotency-Key": "k\x00"}),
                           422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == ["Idempotency-Key"]
    assert ledger_state() == before
    response = full.get("/api/v1/vip/tags/", headers={"X-Request-ID": "r\x00"})
    assert response.status_code == 200 and "\x00" not in response.headers["X-Request-ID"]
