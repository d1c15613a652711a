"""A write that claims its idempotency key in its own statement (ledger credits on
PostgreSQL: `idempotency.run(..., claimed_by_write=True)`, as the API's earn runs)
keeps every promise of the claim made first: one effect per key under concurrency,
a repeat replayed even when its body would now be refused, another body under the
key a mismatch, a refused request storing nothing. Each runs on both of the
credit's paths (the one statement, and the generic one that claims separately)."""
from __future__ import annotations

from typing import Any

import pytest

from app.models import IdempotencyRecord, PointTransaction
from app.services import idempotency, members, tenants
from app.services.errors import (
    IDEMPOTENCY_KEY_MISMATCH, MEMBER_NOT_FOUND, VALIDATION_ERROR, DomainError,
)
from app.services.ledger import credits
from tests.concurrency import assert_one_effect_under_50_calls, keyed_earn
from tests.ledger_helpers import count

pytestmark = pytest.mark.postgresql


@pytest.fixture(params=["one statement", "generic"])
def path(request, monkeypatch):
    if request.param == "generic":
        monkeypatch.setattr(credits, "_in_one_statement", lambda: False)
    return request.param


def earn(tenant, actor, key: str, **body: Any) -> idempotency.Stored:
    return keyed_earn(tenant.id, actor, key, claimed_by_write=True, **body)


def test_one_key_makes_one_effect_under_50_concurrent_calls(app, tenant, make_member, actor,
                                                             path):
    make_member(tenant, "alice")
    assert_one_effect_under_50_calls(app, tenant.id, actor, claimed_by_write=True)


def test_a_repeat_is_replayed_even_if_its_body_would_now_be_refused(tenant, make_member,
                                                                     actor, path):
    make_member(tenant, "alice")
    body = {"user_id": "alice", "points_amount": 500, "category": "login"}
    first = earn(tenant, actor, "k-1", **body)
    tenants.update_settings(tenant.id, actor, name=tenant.name, max_points_per_operation=100,
                            default_expiry_days=None)
    again = earn(tenant, actor, "k-1", **body)
    assert again.replayed and (again.status, again.text) == (first.status, first.text)
    assert count(PointTransaction) == 1


def test_another_body_under_a_used_key_is_a_mismatch_valid_or_not(tenant, make_member, actor,
                                                                   path):
    make_member(tenant, "alice")
    earn(tenant, actor, "k-1", user_id="alice", points_amount=5, category="login")
    for body in ({"user_id": "alice", "points_amount": 6, "category": "login"},
                 {"user_id": "alice", "points_amount": -6, "category": "login"},
                 {"user_id": "nobody", "points_amount": 6, "category": "login"}):
        with pytest.raises(DomainError) as refused:
            earn(tenant, actor, "k-1", **body)
        assert refused.value.code == IDEMPOTENCY_KEY_MISMATCH, body
    assert count(PointTransaction) == 1


def test_a_refused_request_stores_nothing_and_may_be_retried(tenant, make_member, actor, path):
    body = {"user_id": "alice", "points_amount": 5, "category": "login"}
    with pytest.raises(DomainError) as missing:
        earn(tenant, actor, "k-1", **body)
    assert missing.value.code == MEMBER_NOT_FOUND
    with pytest.raises(DomainError) as invalid:
        earn(tenant, actor, "k-2", **{**body, "points_amount": 0})
    assert invalid.value.code == VALIDATION_ERROR
    assert count(IdempotencyRecord) == 0
    make_member(tenant, "alice")
    assert not earn(tenant, actor, "k-1", **body).replayed
    assert members.get_profile(tenant.id, "alice").total_points == 5
