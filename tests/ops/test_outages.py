"""Requests while a private PostgreSQL restarts: 503 SERVICE_UNAVAILABLE envelopes,
never a 500 or a hang; afterwards everything works again, and writes retried
with their idempotency keys take effect exactly once.

The requests go through the real API: POST /api/v1/points/earn/ with a bearer
token and an Idempotency-Key."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import config as app_config
from app.extensions import db
from app.models import PointTransaction
from app.services import api_clients, ledger_check, tenants
from app.services.context import Actor
from tests.ops.conftest import applied, assert_unavailable, drill_app, migrate

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]  # drills: a private cluster stopped
ACTOR = Actor(type="api_client", id=1, label="outage-test")
DEADLINE = 5.0  # no request may take longer than this, database up or down


@pytest.fixture(params=[False, True], ids=["no-pre-ping", "pre-ping"])
def outage_app(request, private_postgres, make_app):
    # As in production: short connect timeout; pre-ping off (the default) or on
    # (DB_POOL_PRE_PING=1).
    application, token = drill_app(make_app, private_postgres.url, pre_ping=request.param,
                                   pool=8, pool_timeout=5, connect_timeout=3)
    application.config["OUTAGE_TOKEN"] = token
    return application, private_postgres


def post_earn(client, key: str, user: str = "alice", amount: int = 10):
    started = time.monotonic()
    response = client.post("/api/v1/points/earn/",
                           json={"user_id": user, "points_amount": amount, "category": "login"},
                           headers={"Idempotency-Key": key,
                                    "Authorization": f"Bearer {client.application.config['OUTAGE_TOKEN']}"})
    return response, time.monotonic() - started


def test_requests_fail_cleanly_while_postgresql_is_down_and_retries_apply_once(outage_app):
    application, server = outage_app
    client = application.test_client()
    assert post_earn(client, "k-before")[0].status_code == 201

    server.stop("fast")
    for _ in range(3):  # the pool's dead connections and fresh connects alike
        assert_unavailable(*post_earn(client, "k-during"), DEADLINE)
    started = time.monotonic()
    health = client.get("/core/health/")
    assert time.monotonic() - started < 3
    assert health.status_code == 503 and health.get_json()["status"] == "unhealthy"
    assert client.get("/core/health/live/").status_code == 200

    server.start()
    first, _ = post_earn(client, "k-during")
    assert first.status_code == 201, first.get_data(as_text=True)
    again, _ = post_earn(client, "k-during")
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["data"] == first.get_json()["data"]
    assert applied(application, "k-during") == 1
    assert client.get("/core/health/").status_code == 200


def test_a_restart_under_load_gives_503s_never_500s_and_each_write_lands_once(outage_app):
    application, server = outage_app
    statuses: list[int] = []
    written: list[str] = []
    slowest = [0.0]
    lock = threading.Lock()
    restarted = threading.Event()

    def write_until_success(client, key: str, user: str) -> None:
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            response, elapsed = post_earn(client, key, user=user, amount=3)
            with lock:
                statuses.append(response.status_code)
                slowest[0] = max(slowest[0], elapsed)
            if response.status_code == 201:
                with lock:
                    written.append(key)
                return
            assert response.status_code == 503, response.get_data(as_text=True)
            assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            time.sleep(0.05)
        raise AssertionError(f"{key} never succeeded")

    def client_loop(worker: int) -> None:
        # Keep writing, each write retried with its key, until the restart is over.
        client = application.test_client()
        user = ("alice", "bob", "carol", "dave")[worker % 4]
        n = 0
        while not restarted.is_set() or n < 3:
            write_until_success(client, f"load-{worker}-{n}", user)
            n += 1

    def restart() -> None:
        time.sleep(0.5)
        server.stop("fast")
        time.sleep(1.0)
        server.start()
        restarted.set()

    with ThreadPoolExecutor(max_workers=7) as pool:
        restarter = pool.submit(restart)
        workers = [pool.submit(client_loop, w) for w in range(6)]
        for future in [restarter, *workers]:
            future.result(timeout=120)

    assert 503 in statuses  # the outage really was met
    assert 500 not in statuses
    assert slowest[0] < DEADLINE
    assert statuses.count(201) == len(written) == len(set(written))
    with application.app_context():
        counts = dict(db.session.execute(
            select(PointTransaction.idempotency_key, func.count())
            .where(PointTransaction.idempotency_key.like("load-%"))
            .group_by(PointTransaction.idempotency_key)).all())
        assert counts == {key: 1 for key in written}  # each write exactly once
        assert ledger_check.verify() == []
        db.session.remove()


def test_an_outage_after_maintenance_off_never_carries_the_old_window(private_postgres, make_app):
    """Issue 11: `maintenance on`, `maintenance off` (another process: this one's
    cache still holds the window), then the database stops. The outage must not
    answer with the window that is off: at most one cache TTL after the last
    read, the answers are the outage's own."""
    from app.ops import maintenance as gate
    from app.services import maintenance as service

    migrate(private_postgres.url)
    application = make_app(app_config.TestingConfig(private_postgres.url),
                           MAINTENANCE_CACHE_SECONDS=1.0)
    client = application.test_client()
    with application.app_context():
        tenant = tenants.create("acme", "Acme", ACTOR)
        issued = api_clients.create(tenant.id, ACTOR, name="drill",
                                    permissions="can_view_points,can_earn_points")
        db.session.remove()
    token = client.post("/api/v1/auth/token/", json={
        "client_id": issued.client.client_id, "client_secret": issued.client_secret,
    }).get_json()["data"]["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    with application.app_context():
        service.turn_on(ACTOR, until=datetime.now(UTC) + timedelta(hours=1))
        gate.forget()  # this process reads the window at its next request
        db.session.remove()
    during = client.get("/api/v1/points/user-levels/", headers=auth)
    assert during.status_code == 503
    assert "maintenance_window" in during.get_json()["error"]["details"]

    with application.app_context():
        service.turn_off(ACTOR)  # as the CLI does: this process's cache is not told
        db.session.remove()
    private_postgres.stop("fast")
    time.sleep(1.2)  # one TTL: the window read before `off` is no longer confirmed
    for path in ("/api/v1/points/user-levels/", "/api/v1/points/earn/"):
        started = time.monotonic()
        response = (client.post(path, json={"user_id": "a", "points_amount": 1,
                                             "category": "login"}, headers=auth)
                    if path.endswith("earn/") else client.get(path, headers=auth))
        assert time.monotonic() - started < DEADLINE
        assert response.status_code == 503, response.get_data(as_text=True)
        error = response.get_json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert "maintenance_window" not in error["details"], error
        assert "estimated_downtime" not in error["details"]
        assert int(response.headers["Retry-After"]) < 60
    page = client.get("/")  # the portal: no maintenance page either
    assert "Down for maintenance" not in page.get_data(as_text=True)
    with application.app_context():
        assert gate.window_now() is None


def test_signed_in_staff_get_the_portals_503_page_while_postgresql_is_down(
        private_postgres, make_app):
    """Issue 11: the error page's layout loaded the signed-in person from the
    database again, failed inside the error handler, and left Werkzeug's bare
    "Internal Server Error"."""
    from app.services import staff
    from tests.conftest import PASSWORD
    from tests.webtools import Portal, text

    migrate(private_postgres.url)
    application = make_app(app_config.TestingConfig(private_postgres.url),
                           MAINTENANCE_CACHE_SECONDS=0, PROPAGATE_EXCEPTIONS=False)
    with application.app_context():
        tenant = tenants.create("acme", "Acme", ACTOR)
        staff.create_or_add_role(tenant.id, ACTOR, email="owner@acme.test", role="owner",
                                 password=PASSWORD)
        db.session.remove()
    portal = Portal(application.test_client())
    assert portal.login("owner@acme.test", PASSWORD).status_code == 302
    assert portal.get("/t/acme/").status_code == 200

    private_postgres.stop("fast")
    for url, htmx in (("/t/acme/", False), ("/t/acme/members/", False), ("/", False),
                      ("/t/acme/members/", True)):
        page = portal.get(url, htmx=htmx)
        assert page.status_code == 503, (url, text(page)[:300])
        assert "Temporarily unavailable" in text(page) or "briefly unavailable" in text(page)
        assert "Internal Server Error" not in text(page)
        assert page.headers["Retry-After"]
        assert page.headers["X-Request-ID"] in text(page)  # to quote to support
        if not htmx:
            assert '<link rel="stylesheet"' in text(page)  # the project's page, in its layout

    private_postgres.start()
    assert portal.get("/t/acme/").status_code == 200  # still signed in: the session was kept
