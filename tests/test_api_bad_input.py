"""Bad input on every write: a clear envelope, and nothing changed or stored.

Each write is sent a valid body with one value replaced, and bodies that are not
acceptable JSON objects at all. Every request carries an Idempotency-Key, so
"nothing stored" covers the key too.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.services import ledger
from tests.api_fixtures import API_ACTOR, assert_error, assert_success, ledger_state


@dataclass
class Write:
    name: str
    path: Callable[[dict], str]
    body: Callable[[dict], dict[str, Any]]
    number_field: str  # the integer the bad numbers go into
    text_field: str


def _reversible(ctx: dict) -> str:
    return f"/api/v1/points/transactions/{ctx['tx_id']}/reverse/"


WRITES = [
    Write("create-profile", lambda c: "/api/v1/points/profiles/",
          lambda c: {"user_id": "newbie", "display_name": "N"}, "user_id", "display_name"),
    Write("earn", lambda c: "/api/v1/points/earn/",
          lambda c: {"user_id": "alice", "points_amount": 10, "category": "login"},
          "points_amount", "reason"),
    Write("spend", lambda c: "/api/v1/points/spend/",
          lambda c: {"user_id": "alice", "points_amount": 10, "category": "payment"},
          "points_amount", "reason"),
    Write("adjust", lambda c: "/api/v1/points/adjust/",
          lambda c: {"user_id": "alice", "points_amount": -10, "reason": "fix"},
          "points_amount", "reason"),
    Write("batch-earn", lambda c: "/api/v1/points/batch-earn/",
          lambda c: {"operations": [{"user_id": "alice", "points_amount": 10,
                                     "category": "login"}]},
          "points_amount", "reason"),
    Write("reverse", _reversible, lambda c: {"reason": "mistake"}, "reason", "reason"),
    Write("vip-grant", lambda c: "/api/v1/points/profiles/alice/vip-tags/",
          lambda c: {"tag_id": c["tag_id"]}, "tag_id", "resolution"),
]
IDS = [w.name for w in WRITES]


@pytest.fixture
def ctx(programme, tenant):
    tx = ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=100,
                     category="login").transaction
    return {"tx_id": tx.id, "tag_id": programme["silver"].id}


def _with(write: Write, ctx: dict, field: str, value: Any) -> dict[str, Any]:
    body = write.body(ctx)
    if write.name == "batch-earn":
        body["operations"][0][field] = value
    else:
        body[field] = value
    return body


def _post(api, write: Write, ctx: dict, **kwargs: Any):
    return api.post(write.path(ctx), headers={"Idempotency-Key": f"bad-{write.name}"}, **kwargs)


def _assert_refused_for(response, field: str) -> None:
    """A 422 whose field errors (the batch's first operation's, for a batch) name `field`."""
    details = assert_error(response, 422, "VALIDATION_ERROR")
    if details.get("validation_errors"):
        details = details["validation_errors"][0]
    assert field in details["field_errors"]


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_a_valid_body_is_accepted(full, ctx, write):
    """The baseline the bad cases vary from: each write succeeds as given."""
    assert_success(_post(full, write, ctx, json=write.body(ctx)), 201)


BAD_NUMBERS = [2**63, -(2**63), 1e3, "10", True, None, [], {}, 10.5]


# A string is a valid value of the writes whose only scalar field is text.
NUMBER_CASES = [pytest.param(w, v, id=f"{w.name}-{v!r}") for w in WRITES for v in BAD_NUMBERS
                if not (isinstance(v, str) and w.number_field in ("user_id", "reason"))]


@pytest.mark.parametrize("write, value", NUMBER_CASES)
def test_bad_numbers_are_refused(full, ctx, write, value):
    before = ledger_state()
    response = _post(full, write, ctx, json=_with(write, ctx, write.number_field, value))
    if write.name == "vip-grant" and isinstance(value, int) and not isinstance(value, bool):
        # An integer id out of range names no tag.
        assert_error(response, 404, "NOT_FOUND")
    else:
        _assert_refused_for(response, write.number_field)
    assert ledger_state() == before


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_a_string_of_digits_is_not_an_integer_and_a_float_is_not_text(full, ctx, write):
    before = ledger_state()
    for value in (12.0, 7, False):
        _assert_refused_for(_post(full, write, ctx, json=_with(write, ctx, write.text_field,
                                                                value)), write.text_field)
    assert ledger_state() == before


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_unknown_keys_are_refused(full, ctx, write):
    before = ledger_state()
    body = {**write.body(ctx), "points_bonus": 1}
    details = assert_error(_post(full, write, ctx, json=body), 422, "VALIDATION_ERROR")
    assert details["field_errors"] == {"points_bonus": ["Unknown field."]}
    assert ledger_state() == before


@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_a_body_over_one_mebibyte_is_too_large(full, ctx, write):
    before = ledger_state()
    body = write.body(ctx)
    body["padding"] = "x" * (1024 * 1024)
    details = assert_error(_post(full, write, ctx, data=json.dumps(body),
                                 content_type="application/json"), 413, "PAYLOAD_TOO_LARGE")
    assert details == {"max_bytes": 1024 * 1024}
    assert ledger_state() == before


@pytest.mark.parametrize("raw, problem", [
    ("[" * 10_000 + "]" * 10_000, "too_deep"),
    ('{"a":' * 10_000 + "1" + "}" * 10_000, "too_deep"),
    ('{"user_id": ' + "[" * 40 + "]" * 40 + "}", "too_deep"),
    (b'{"user_id": "alice", "reason": "\xff\xfe"}', "invalid_utf8"),
    (b'\xef\xbb\xbf{"user_id": "alice"}', "invalid_json"),
    ("", "invalid_json"),
    ("{not json}", "invalid_json"),
    ('{"points_amount": NaN}', "invalid_json"),
    ('{"points_amount": Infinity}', "invalid_json"),
    ('{"points_amount": ' + "9" * 5000 + "}", "invalid_json"),
    ("[]", "not_an_object"),
    ('"alice"', "not_an_object"),
    ("42", "not_an_object"),
    ("null", "not_an_object"),
], ids=["array-10000-deep", "object-10000-deep", "value-40-deep", "invalid-utf8", "bom",
        "empty", "not-json", "nan", "infinity", "5000-digits", "array", "string", "number",
        "null"])
@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_bodies_that_are_not_a_json_object_are_bad_requests(full, ctx, write, raw, problem):
    before = ledger_state()
    details = assert_error(_post(full, write, ctx, data=raw, content_type="application/json"),
                           400, "BAD_REQUEST")
    assert details["problem"] == problem
    assert ledger_state() == before


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
@pytest.mark.parametrize("write", WRITES, ids=IDS)
def test_a_wrong_content_type_is_a_bad_request(full, ctx, write, content_type):
    before = ledger_state()
    kwargs: dict[str, Any] = {"data": json.dumps(write.body(ctx))}
    if content_type:
        kwargs["content_type"] = content_type
    details = assert_error(_post(full, write, ctx, **kwargs), 400, "BAD_REQUEST")
    assert details["problem"] == "content_type"
    assert ledger_state() == before


def test_a_json_content_type_with_a_charset_is_fine(full, ctx):
    response = full.post("/api/v1/points/earn/", data=json.dumps(
        {"user_id": "alice", "points_amount": 1, "category": "login"}),
        content_type="application/json; charset=utf-8")
    assert_success(response, 201)


TRICKY = "<script>alert('积分')</script> & \"quotes\" 'single' 🎉 \u202eevil\u202c \t tab\nnewline"


def test_unicode_and_markup_are_stored_and_returned_exactly(full, ctx):
    earned = assert_success(full.post("/api/v1/points/earn/", json={
        "user_id": "alice", "points_amount": 1, "category": "login", "reason": TRICKY}), 201)
    assert earned["transaction"]["reason"] == TRICKY
    history = assert_success(full.get("/api/v1/points/profiles/alice/transactions/"), paged=True)
    assert history[0]["reason"] == TRICKY
    reversed_ = assert_success(full.post(
        f"/api/v1/points/transactions/{earned['transaction']['id']}/reverse/",
        json={"reason": TRICKY[::-1]}), 201)
    assert reversed_["transaction"]["reason"] == TRICKY[::-1]
    created = assert_success(full.post("/api/v1/points/profiles/", json={
        "user_id": "名字-<b>", "display_name": TRICKY[:200]}), 201)
    assert created["user_id"] == "名字-<b>" and created["display_name"] == TRICKY[:200]
    fetched = assert_success(full.get("/api/v1/points/profiles/名字-<b>/"))
    assert fetched["display_name"] == TRICKY[:200]


def test_a_reason_of_500_characters_is_kept_and_501_refused(full, ctx):
    exact = "理" * 500
    data = assert_success(full.post("/api/v1/points/earn/", json={
        "user_id": "alice", "points_amount": 1, "category": "login", "reason": exact}), 201)
    assert data["transaction"]["reason"] == exact
    before = ledger_state()
    details = assert_error(full.post("/api/v1/points/earn/", json={
        "user_id": "alice", "points_amount": 1, "category": "login", "reason": exact + "x"}),
        422, "VALIDATION_ERROR")
    assert "reason" in details["field_errors"]
    assert ledger_state() == before


def test_a_nul_character_is_refused_not_stripped(full, ctx):
    details = assert_error(full.post("/api/v1/points/earn/", json={
        "user_id": "alice", "points_amount": 1, "category": "login", "reason": "a\x00b"}),
        422, "VALIDATION_ERROR")
    assert "reason" in details["field_errors"]


def test_nul_characters_anywhere_are_refused_cleanly(full, ctx, client):
    """PostgreSQL text cannot hold NUL: every place one can arrive answers 4xx."""
    before = ledger_state()
    assert_error(full.get("/api/v1/points/profiles/a%00b/"), 404, "MEMBER_NOT_FOUND")
    assert_error(full.get("/api/v1/points/profiles/a%00b/transactions/"), 404,
                 "MEMBER_NOT_FOUND")
    assert_error(full.post("/api/v1/points/profiles/a%00b/vip-tags/",
                           json={"tag_id": ctx["tag_id"]}), 404, "MEMBER_NOT_FOUND")
    assert_error(full.post("/api/v1/points/earn/", json={
        "user_id": "alice", "points_amount": 1, "category": "login", "operation_id": "a\x00"}),
        422, "VALIDATION_ERROR")
    details = assert_error(full.post("/api/v1/points/batch-earn/", json={"operations": [
        {"user_id": "alice", "points_amount": 1, "category": "login", "operation_id": "k\x00"}]}),
        422, "VALIDATION_ERROR")
    assert "operation_id" in details["validation_errors"][0]["field_errors"]
    assert_error(full.get("/api/v1/points/profiles/", query_string={"q": "a\x00"}), 422,
                 "VALIDATION_ERROR")
    assert ledger_state() == before
    details = assert_error(client.post("/api/v1/auth/token/", json={"client_id": "jf\x00",
                                                                    "client_secret": "x"}),
                           422, "VALIDATION_ERROR")
    assert list(details["field_errors"]) == ["client_id"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_expiry_off_the_calendar_in_utc_is_refused_not_a_500(full, ctx, value):
    """Valid ISO 8601 whose offset pushes it past year 1 or 9999 when made UTC."""
    before = ledger_state()
    details = assert_error(full.post("/api/v1/points/earn/", json={
        "user_id": "alice", "points_amount": 1, "category": "login", "expires_at": value}),
        422, "VALIDATION_ERROR")
    assert "expires_at" in details["field_errors"]
    details = assert_error(full.post("/api/v1/points/batch-earn/", json={"operations": [
        {"user_id": "alice", "points_amount": 1, "category": "login", "expires_at": value}]}),
        422, "VALIDATION_ERROR")
    assert "expires_at" in details["validation_errors"][0]["field_errors"]
    assert ledger_state() == before
