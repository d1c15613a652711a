"""A database that stops answering (issue 11): PostgreSQL frozen with SIGSTOP keeps
its sockets open and answers nothing, so no connection error ever comes. Every
request must still answer within DB_REQUEST_TIMEOUT (503 SERVICE_UNAVAILABLE,
the portal its own 503 page), on pooled connections and new ones alike, and the
app must recover by itself once the server runs again. A private cluster is
frozen, never the shared server."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import request_started
from sqlalchemy import func, select

from app.extensions import db
from app.services import ledger_check, staff, tenants
from app.services.context import Actor
from tests.conftest import PASSWORD
from tests.ops.conftest import applied, assert_unavailable, drill_app
from tests.webtools import Portal, text

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
ACTOR = Actor(type="system", label="hung-database-drill")
LIMIT = 2.0    # DB_REQUEST_TIMEOUT of the drill (the default is 5: same code, longer wait)
MARGIN = 1.5   # the request's own work, and a loaded test machine
EARN = "/api/v1/points/earn/"


@pytest.fixture(params=[False, True], ids=["no-pre-ping", "pre-ping"])
def drill(request, private_postgres, make_app):
    application, token = drill_app(make_app, private_postgres.url, pre_ping=request.param,
                                   pool=4, pool_timeout=LIMIT, connect_timeout=2,
                                   DB_REQUEST_TIMEOUT=LIMIT)
    with application.app_context():
        staff.create_or_add_role(tenants.get_by_slug("acme").id, ACTOR, email="owner@acme.test",
                                 role="owner", password=PASSWORD)
        db.session.remove()
    portal = Portal(application.test_client())
    assert portal.login("owner@acme.test", PASSWORD).status_code == 302
    yield application, private_postgres, token, portal
    private_postgres.thaw()


def earn(application, token: str, key: str, user: str = "alice"):
    started = time.monotonic()
    response = application.test_client().post(
        EARN, json={"user_id": user, "points_amount": 5, "category": "login"},
        headers={"Idempotency-Key": key, "Authorization": f"Bearer {token}"})
    return response, time.monotonic() - started


def timed(fn):
    started = time.monotonic()
    response = fn()
    return response, time.monotonic() - started


def test_a_frozen_database_answers_503_within_the_deadline_and_the_app_recovers(drill):
    application, server, token, portal = drill
    users = ("alice", "bob", "carol", "dave")
    with ThreadPoolExecutor(max_workers=4) as pool:  # four connections in the pool
        warm = list(pool.map(lambda i: earn(application, token, f"warm-{i}", users[i]), range(4)))
    assert [r.status_code for r, _ in warm] == [201] * 4
    assert portal.get("/t/acme/").status_code == 200

    server.freeze()
    try:
        # Pooled connections, several at once: each request waits on its own.
        with ThreadPoolExecutor(max_workers=3) as pool:
            during = list(pool.map(
                lambda i: earn(application, token, f"frozen-{i}", users[i]), range(3)))
        for response, elapsed in during:
            assert_unavailable(response, elapsed, LIMIT + MARGIN)
        # The pool dropped its connections: these need new ones, which never get
        # an answer to their start-up packet either.
        for i in range(2):
            assert_unavailable(*earn(application, token, f"frozen-new-{i}"), LIMIT + MARGIN)
        health, elapsed = timed(lambda: application.test_client().get("/core/health/"))
        assert health.status_code == 503 and health.get_json()["status"] == "unhealthy"
        assert elapsed < LIMIT + MARGIN, elapsed
        # Signed-in staff get the portal's own 503 page, not Werkzeug's.
        page, elapsed = timed(lambda: portal.get("/t/acme/"))
        assert page.status_code == 503, text(page)[:500]
        assert "Temporarily unavailable" in text(page) and "Jifen" in text(page)
        assert elapsed < LIMIT + MARGIN, elapsed
    finally:
        server.thaw()

    # No restart: the next requests connect afresh and work; retries with their
    # keys apply once.
    give_up = time.monotonic() + 15
    while True:
        response, _ = earn(application, token, "frozen-0")
        if response.status_code == 201 or time.monotonic() > give_up:
            break
        time.sleep(0.2)
    assert response.status_code == 201, response.get_data(as_text=True)
    for i in (1, 2):
        assert earn(application, token, f"frozen-{i}", users[i])[0].status_code == 201
    again, _ = earn(application, token, "frozen-0")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [applied(application, f"frozen-{i}") for i in range(3)] == [1, 1, 1]
    assert [applied(application, f"frozen-new-{i}") for i in range(2)] == [0, 0]
    assert portal.get("/t/acme/").status_code == 200
    assert application.test_client().get("/core/health/").status_code == 200
    with application.app_context():
        assert ledger_check.verify() == []
        db.session.remove()


def test_cli_work_is_not_limited_by_the_request_deadline(drill):
    """Backups and expiry runs take as long as they take: only requests are cut."""
    application, _server, _token, _portal = drill
    with application.app_context():
        assert db.session.execute(select(func.pg_sleep(LIMIT + 0.5))).all()
        db.session.remove()
    with application.test_request_context("/"):
        request_started.send(application)  # what a request's dispatch sends first
        with pytest.raises(Exception, match="did not answer within"):
            db.session.execute(select(func.pg_sleep(LIMIT + 0.5))).all()
        db.session.remove()
