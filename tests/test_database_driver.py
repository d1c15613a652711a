"""The hot writes' statements stay within psycopg's parse cache (app/database.py):
a statement longer than its limits is parsed again, by a regular expression, on
every execution."""
from __future__ import annotations

import pytest
from psycopg import _queries

from tests.api_fixtures import assert_success
from tests.querycount import statements

pytestmark = pytest.mark.postgresql


def test_every_statement_of_an_earn_an_event_and_a_replay_is_cached_by_the_driver(
        full, programme):
    assert_success(full.post("/api/v1/earning-rules/", json={
        "name": "Payments", "event_type": "purchase.paid", "category": "payment",
        "award": {"type": "per_amount", "points": 1, "per": "10.00"}}), 201)
    with statements() as sent:
        body = {"user_id": "alice", "points_amount": 10, "category": "login"}
        for _ in range(2):  # the second one replays the first
            assert full.post("/api/v1/points/earn/", json=body,
                             headers={"Idempotency-Key": "k-1"}).status_code == 201
        assert full.post("/api/v1/points/earn/", json=body).status_code == 201
        assert_success(full.post("/api/v1/events/", json={
            "event_id": "o-1", "user_id": "alice", "event_type": "purchase.paid",
            "amount": "120.00"}), 201)
    assert any(len(s) > 4096 for s in sent), "the claiming credit is no longer over 4 KB"
    too_long = [s[:80] for s in sent if len(s.encode()) > _queries.MAX_CACHED_STATEMENT_LENGTH]
    assert too_long == []
    too_many = [s[:80] for s in sent
                if s.count("%(") > _queries.MAX_CACHED_STATEMENT_PARAMS]
    assert too_many == []


def test_a_lean_statement_answers_as_sqlalchemy_would(app, tenant):
    """Rows by attribute with their types' processing (UTCDateTime's aware UTC
    times), and the driver's errors raised as SQLAlchemy's."""
    from datetime import UTC

    from sqlalchemy import bindparam, exc, func, literal, select, text

    from app.database import execute_lean
    from app.extensions import db
    from app.models import Tenant

    tenants = Tenant.__table__
    # The session's zone is not UTC: psycopg then gives +08:00 times, and only the
    # column's own processor (UTCDateTime) makes them UTC again.
    db.session.execute(text("SET TIME ZONE 'Asia/Shanghai'"))
    [row] = execute_lean(select(tenants.c.slug, tenants.c.created_at)
                         .where(tenants.c.id == bindparam("t")), {"t": tenant.id})
    assert row.slug == tenant.slug and row.created_at.tzinfo is UTC
    with pytest.raises(exc.DataError):  # division by zero
        execute_lean(select(literal(1) / bindparam("zero")), {"zero": 0})
    db.session.rollback()
    with pytest.raises(exc.OperationalError) as lost:
        execute_lean(select(func.pg_terminate_backend(func.pg_backend_pid())), {})
    assert lost.value.connection_invalidated
    db.session.rollback()
    assert execute_lean(select(literal(1).label("one")), {})[0].one == 1  # a fresh connection
