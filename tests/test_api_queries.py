"""Database round trips of the hot paths: the earn route is benchmarked, and a
list or a batch must not cost a query per item."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.services import ledger
from tests.api_fixtures import API_ACTOR, assert_success
from tests.querycount import statements

EARN = {"user_id": "alice", "points_amount": 1, "category": "login"}


def test_an_earn_costs_three_statements_on_postgresql_and_a_keyed_one_four(full, programme):
    assert_success(full.post("/api/v1/points/earn/", json=EARN), 201)  # warm caches
    with statements() as plain:
        assert_success(full.post("/api/v1/points/earn/", json=EARN), 201)
    # Lower than before (7 on PostgreSQL, 8 on SQLite): the tenant's row now says
    # whether it has live webhook endpoints (no separate read of them), and on
    # PostgreSQL the member update, entry, lot, audit row and the profile's tags are
    # one statement (ledger/credit_statement.py).
    # PostgreSQL: token check, the tenant (holding its levels steady: a shared
    # advisory lock) with its endpoints' EXISTS, the credit.
    # SQLite: token check, the tenant, member update, entry, lot, audit row, tags.
    expected = 3 if db.engine.dialect.name == "postgresql" else 7
    assert len(plain) == expected, plain
    with statements() as keyed:
        assert_success(full.post("/api/v1/points/earn/", json=EARN,
                                 headers={"Idempotency-Key": "q-1"}), 201)
    # + storing the response, and on SQLite claiming the key (on PostgreSQL the credit's
    # statement claims it: one fewer than before)
    assert len(keyed) == expected + (1 if db.engine.dialect.name == "postgresql" else 2), keyed
    with statements() as replay:
        full.post("/api/v1/points/earn/", json=EARN, headers={"Idempotency-Key": "q-1"})
    # token check, claim attempt, stored response; on PostgreSQL: token check, the
    # tenant, the credit's statement (its claim fails, and it reads the stored response)
    assert len(replay) == 3, replay


@pytest.mark.postgresql  # SQLite has no multi-row INSERT … RETURNING in order: one per row
def test_a_batch_costs_the_same_for_two_or_two_hundred(full, programme, tenant, make_member):
    for i in range(100):
        make_member(tenant, f"bulk{i}")
    small = [{**EARN, "user_id": f"bulk{i}"} for i in range(2)]
    large = [{**EARN, "user_id": f"bulk{i % 100}"} for i in range(200)]
    with statements() as few:
        assert_success(full.post("/api/v1/points/batch-earn/", json={"operations": small}), 201)
    with statements() as many:
        assert_success(full.post("/api/v1/points/batch-earn/", json={"operations": large}), 201)
    assert len(many) == len(few), (len(few), len(many))


def test_listing_profiles_costs_the_same_for_one_or_a_hundred(full, programme, tenant,
                                                               make_member):
    for i in range(100):
        make_member(tenant, f"many{i}")
        ledger.earn(tenant.id, API_ACTOR, user_id=f"many{i}", points_amount=5, category="login")
    full.get("/api/v1/points/profiles/", query_string={"page_size": 1})  # warm caches
    with statements() as one:
        assert_success(full.get("/api/v1/points/profiles/", query_string={"page_size": 1}),
                       paged=True)
    with statements() as hundred:
        assert_success(full.get("/api/v1/points/profiles/", query_string={"page_size": 100}),
                       paged=True)
    assert len(hundred) == len(one) <= 3, hundred
