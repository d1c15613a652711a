"""Idempotent writes: replay, mismatch, failures store nothing, 24-hour keys."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import IdempotencyRecord, PointTransaction
from app.services import idempotency, ledger, members
from app.services.errors import DomainError
from tests.ledger_helpers import count

PATH = "/api/v1/points/earn/"


@pytest.fixture
def alice(tenant, make_member, clk):
    return make_member(tenant, "alice")


def earn_once(tenant, actor, key: str, amount: int = 10, path: str = PATH):
    body = {"user_id": "alice", "points_amount": amount, "category": "login"}

    def operation() -> idempotency.Response:
        out = ledger.earn(tenant.id, actor, idempotency_key=key, **body)
        return idempotency.Response(201, {"transaction": out.transaction.as_dict(),
                                          "balance": out.profile.total_points})

    return idempotency.run(tenant.id, key, idempotency.fingerprint("POST", path, body), operation)


def test_it_replays_the_first_response_and_changes_nothing(tenant, alice, actor):
    first = earn_once(tenant, actor, "k1")
    again = earn_once(tenant, actor, "k1")
    assert (first.status, first.replayed) == (201, False)
    assert (again.status, again.replayed) == (201, True)
    assert again.body == first.body
    assert first.body["transaction"]["created_at"].endswith("Z")
    assert count(PointTransaction) == 1
    assert members.get_profile(tenant.id, "alice").total_points == 10


def test_it_refuses_the_same_key_with_another_body_or_path(tenant, alice, actor):
    earn_once(tenant, actor, "k1", amount=10)
    for kwargs in ({"amount": 11}, {"path": "/api/v1/points/spend/"}):
        with pytest.raises(DomainError) as info:
            earn_once(tenant, actor, "k1", **kwargs)
        assert info.value.code == "IDEMPOTENCY_KEY_MISMATCH"
        assert info.value.details == {"idempotency_key": "k1"}
    assert count(PointTransaction) == 1


def test_a_failed_request_stores_nothing_and_may_be_retried(tenant, alice, actor):
    members.set_points_enabled(tenant.id, actor, "alice", False)
    with pytest.raises(DomainError) as info:
        earn_once(tenant, actor, "k1")
    assert info.value.code == "POINTS_DISABLED"
    assert count(IdempotencyRecord) == 0
    members.set_points_enabled(tenant.id, actor, "alice", True)
    assert earn_once(tenant, actor, "k1").replayed is False
    assert count(PointTransaction) == 1


def test_keys_are_kept_24_hours_then_reusable(tenant, alice, actor, clk):
    earn_once(tenant, actor, "k1", amount=10)
    clk.advance(hours=23, minutes=59)
    assert earn_once(tenant, actor, "k1", amount=10).replayed
    with pytest.raises(DomainError):
        earn_once(tenant, actor, "k1", amount=20)
    clk.advance(minutes=2)
    fresh = earn_once(tenant, actor, "k1", amount=20)
    assert fresh.replayed is False and fresh.body["balance"] == 30
    assert earn_once(tenant, actor, "k1", amount=20).replayed
    assert count(IdempotencyRecord) == 1


def test_keys_are_scoped_to_the_tenant(tenant, other_tenant, make_member, alice, actor):
    make_member(other_tenant, "alice")
    earn_once(tenant, actor, "shared")
    assert earn_once(other_tenant, actor, "shared").replayed is False
    assert members.get_profile(other_tenant.id, "alice").total_points == 10
    assert members.get_profile(tenant.id, "alice").total_points == 10


def test_purge_drops_only_records_older_than_the_ttl(tenant, alice, actor, clk):
    earn_once(tenant, actor, "old")
    clk.advance(hours=25)
    earn_once(tenant, actor, "new")
    assert idempotency.purge() == 1
    assert count(IdempotencyRecord) == 1
    assert earn_once(tenant, actor, "new").replayed


def test_the_fingerprint_ignores_key_order_but_not_values(app):
    a = idempotency.fingerprint("POST", PATH, {"a": 1, "b": [1, 2]})
    assert a == idempotency.fingerprint("POST", PATH, {"b": [1, 2], "a": 1})
    assert a != idempotency.fingerprint("POST", PATH, {"a": 1, "b": [2, 1]})
    assert a != idempotency.fingerprint("PUT", PATH, {"a": 1, "b": [1, 2]})
    assert idempotency.fingerprint("POST", PATH, {"n": 1}) != idempotency.fingerprint(
        "POST", PATH, {"n": True})


def test_a_replay_within_the_ttl_survives_a_clock_step(tenant, alice, actor, clk):
    first = earn_once(tenant, actor, "k")
    clk.advance(**{"hours": 1})
    assert earn_once(tenant, actor, "k").body == first.body
    assert timedelta(hours=24) == idempotency.TTL
