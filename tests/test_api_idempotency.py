"""Idempotency-Key (and body operation_id): replay, mismatch, failures, races."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import IdempotencyRecord, PointTransaction
from app.services import clock, idempotency
from tests.api_fixtures import (
    assert_error, assert_ledger_consistent, assert_success, ledger_state, login, make_credentials,
)

EARN = "/api/v1/points/earn/"
BODY = {"user_id": "alice", "points_amount": 10, "category": "login"}


def _transactions() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(PointTransaction)).scalar_one()


def test_a_repeat_replays_the_first_response_and_changes_nothing(full, programme):
    first = full.post(EARN, json=BODY, headers={"Idempotency-Key": "k-1"})
    assert_success(first, 201)
    assert "Idempotent-Replayed" not in first.headers
    state = ledger_state()
    again = full.post(EARN, json=BODY, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert ledger_state() == state
    assert first.get_json()["data"]["transaction"]["idempotency_key"] == "k-1"


def test_operation_id_is_the_key_when_no_header_is_sent(full, programme):
    body = {**BODY, "operation_id": "op-77"}
    first = assert_success(full.post(EARN, json=body), 201)
    again = full.post(EARN, json=body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["data"] == first
    assert first["transaction"]["idempotency_key"] == "op-77"
    assert _transactions() == 1


def test_the_header_wins_over_operation_id(full, programme):
    assert_success(full.post(EARN, json={**BODY, "operation_id": "body-key"},
                             headers={"Idempotency-Key": "header-key"}), 201)
    # Same operation_id, no header: a different key, so a new earn.
    assert_success(full.post(EARN, json={**BODY, "operation_id": "body-key"}), 201)
    assert _transactions() == 2


@pytest.mark.parametrize("other", [
    {"path": EARN, "body": {**BODY, "points_amount": 11}},
    {"path": "/api/v1/points/spend/", "body": {**BODY, "category": "payment"}},
])
def test_the_same_key_with_another_request_is_a_mismatch(full, programme, other):
    assert_success(full.post(EARN, json=BODY, headers={"Idempotency-Key": "k-2"}), 201)
    state = ledger_state()
    details = assert_error(full.post(other["path"], json=other["body"],
                                     headers={"Idempotency-Key": "k-2"}),
                           422, "IDEMPOTENCY_KEY_MISMATCH")
    assert details == {"idempotency_key": "k-2"}
    assert ledger_state() == state


def test_a_failed_request_stores_nothing_and_may_be_retried(full, programme):
    body = {"user_id": "alice", "points_amount": 50, "category": "payment"}
    assert_error(full.post("/api/v1/points/spend/", json=body,
                           headers={"Idempotency-Key": "k-3"}), 422, "INSUFFICIENT_POINTS")
    assert db.session.execute(select(IdempotencyRecord)).first() is None
    assert_success(full.post(EARN, json={**BODY, "points_amount": 60}), 201)
    retried = full.post("/api/v1/points/spend/", json=body, headers={"Idempotency-Key": "k-3"})
    assert_success(retried, 201)
    assert "Idempotent-Replayed" not in retried.headers


def test_every_write_replays(full, programme):
    from app.services import ledger
    from tests.api_fixtures import API_ACTOR

    tx = ledger.earn(programme["silver"].tenant_id, API_ACTOR, user_id="bob",
                     points_amount=600, category="login").transaction
    writes = [
        ("/api/v1/points/profiles/", {"user_id": "zed"}),
        (EARN, BODY),
        ("/api/v1/points/spend/", {"user_id": "bob", "points_amount": 1, "category": "payment"}),
        ("/api/v1/points/adjust/", {"user_id": "bob", "points_amount": 2, "reason": "r"}),
        ("/api/v1/points/batch-earn/", {"operations": [BODY]}),
        (f"/api/v1/points/transactions/{tx.id}/reverse/", {"reason": "undo"}),
        ("/api/v1/points/profiles/alice/vip-tags/", {"tag_id": programme["silver"].id}),
    ]
    for index, (path, body) in enumerate(writes):
        key = f"every-{index}"
        first = full.post(path, json=body, headers={"Idempotency-Key": key})
        assert_success(first, 201)
        state = ledger_state()
        again = full.post(path, json=body, headers={"Idempotency-Key": key})
        assert again.headers.get("Idempotent-Replayed") == "true", path
        assert again.status_code == 201 and again.get_data() == first.get_data()
        assert ledger_state() == state, path


@pytest.mark.parametrize("headers, body", [
    ({"Idempotency-Key": "x" * 256}, BODY),
    ({"Idempotency-Key": ""}, BODY),
    ({}, {**BODY, "operation_id": ""}),
    ({}, {**BODY, "operation_id": 12}),
    ({}, {**BODY, "operation_id": "y" * 256}),
])
def test_keys_are_one_to_255_characters(full, programme, headers, body):
    state = ledger_state()
    assert_error(full.post(EARN, json=body, headers=headers), 422, "VALIDATION_ERROR")
    assert ledger_state() == state


def test_a_key_of_255_characters_works(full, programme):
    key = "k" * 255
    assert_success(full.post(EARN, json=BODY, headers={"Idempotency-Key": key}), 201)
    assert full.post(EARN, json=BODY, headers={"Idempotency-Key": key}).headers[
        "Idempotent-Replayed"] == "true"


def test_keys_are_scoped_to_the_tenant(full, outsider, programme):
    assert_success(full.post(EARN, json=BODY, headers={"Idempotency-Key": "shared"}), 201)
    response = outsider.post(EARN, json={**BODY, "user_id": "carol"},
                             headers={"Idempotency-Key": "shared"})
    assert_success(response, 201)
    assert "Idempotent-Replayed" not in response.headers


def test_keys_expire_after_24_hours_and_the_purge_forgets_them(full, programme, app):
    assert_success(full.post(EARN, json=BODY, headers={"Idempotency-Key": "old"}), 201)
    later = clock.now() + timedelta(hours=24, minutes=1)
    with clock.frozen(later):
        assert idempotency.purge() == 1
        result = app.test_cli_runner().invoke(args=["idempotency", "purge"])
        assert result.exit_code == 0 and "removed 0" in result.output


def test_the_purge_command_keeps_young_keys(full, programme, app):
    assert_success(full.post(EARN, json=BODY, headers={"Idempotency-Key": "young"}), 201)
    result = app.test_cli_runner().invoke(args=["idempotency", "purge"])
    assert result.exit_code == 0, result.output
    assert "removed 0 idempotency keys" in result.output
    assert full.post(EARN, json=BODY, headers={"Idempotency-Key": "young"}).headers[
        "Idempotent-Replayed"] == "true"
    refused = app.test_cli_runner().invoke(args=["idempotency", "purge", "--hours", "1"])
    assert refused.exit_code != 0


# --------------------------------------------------------------------------- a live server

@pytest.fixture
def live_server_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.mark.postgresql
def test_thirty_concurrent_requests_with_one_key_make_one_effect(app, live_server_url,
                                                                 tenant, programme):
    token = login(app.test_client(), make_credentials(tenant)).token
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "race-1"}
    barrier = threading.Barrier(30)
    results: list[tuple[int, bytes, str | None]] = []
    lock = threading.Lock()

    def fire() -> None:
        with requests.Session() as session:
            barrier.wait()
            response = session.post(live_server_url + EARN, json=BODY, headers=headers,
                                    timeout=60)
        with lock:
            results.append((response.status_code, response.content,
                            response.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=fire) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 30
    assert {status for status, _body, _replayed in results} == {201}
    assert len({body for _status, body, _replayed in results}) == 1
    assert sum(1 for *_rest, replayed in results if replayed is None) == 1
    assert _transactions() == 1
    assert db.session.execute(select(IdempotencyRecord)).scalars().one().key == "race-1"
    assert_ledger_consistent()


@pytest.mark.postgresql
def test_concurrent_different_keys_all_apply(app, live_server_url, tenant, programme):
    token = login(app.test_client(), make_credentials(tenant)).token
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def fire(index: int) -> None:
        barrier.wait()
        response = requests.post(live_server_url + EARN, json=BODY, timeout=60, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": f"race-{index}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [201] * 20
    assert _transactions() == 20
    assert_ledger_consistent()


def _stored_bodies() -> list[str]:
    db.session.rollback()
    return list(db.session.execute(select(IdempotencyRecord.response_body)).scalars())


def test_stored_responses_hold_no_email_or_phone_in_clear_and_still_replay(full, programme):
    """Issue 11: the members table encrypts email and phone; the stored responses
    (and so every backup) must not keep them in clear either."""
    created_body = {"user_id": "zed", "display_name": "Zed", "email": "zed.secret@example.com",
                    "phone": "+86 139 1234 5678"}
    created = full.post("/api/v1/points/profiles/", json=created_body,
                        headers={"Idempotency-Key": "create-zed"})
    assert_success(created, 201)
    earned = full.post(EARN, json={**BODY, "user_id": "zed"}, headers={"Idempotency-Key": "earn-zed"})
    assert assert_success(earned, 201)["profile"]["phone"] == "+86 139 1234 5678"

    bodies = _stored_bodies()
    assert len(bodies) == 2
    for raw in bodies:
        for secret in ("zed.secret@example.com", "+86 139 1234 5678"):
            assert secret not in raw

    for path, body, key, first in (("/api/v1/points/profiles/", created_body, "create-zed", created),
                                   (EARN, {**BODY, "user_id": "zed"}, "earn-zed", earned)):
        again = full.post(path, json=body, headers={"Idempotency-Key": key})
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.status_code == first.status_code
        assert again.get_data() == first.get_data()


def test_a_response_stored_in_clear_before_the_change_still_replays(full, programme):
    first = full.post(EARN, json=BODY, headers={"Idempotency-Key": "k-old"})
    assert_success(first, 201)
    record = db.session.execute(select(IdempotencyRecord)).scalar_one()
    record.response_body = idempotency.unseal(record.response_body)  # as release 0005 wrote it
    db.session.commit()
    again = full.post(EARN, json=BODY, headers={"Idempotency-Key": "k-old"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert _transactions() == 1
