"""flask maintenance on/off and what the API, the portal and health do meanwhile."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from app.ops import maintenance as gate
from app.services import clock
from app.services import maintenance as service
from app.services.context import Actor


@pytest.fixture
def cli(app):
    app.config["MAINTENANCE_CACHE_SECONDS"] = 0  # see changes at once
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def until(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_api_answers_503_with_the_window_during_maintenance(app, cli):
    result = cli("maintenance", "on", "--until", until(2), "--message", "Upgrading the ledger")
    assert result.exit_code == 0, result.output
    assert "2 hours" in result.output or "1 hour 59 minutes" in result.output

    response = app.test_client().post("/api/v1/points/earn/", json={"user_id": "a"})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == "Upgrading the ledger"
    window = error["details"]["maintenance_window"]
    start = datetime.fromisoformat(window["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(window["end"].replace("Z", "+00:00"))
    assert timedelta(hours=1, minutes=59) < end - start <= timedelta(hours=2)
    assert error["details"]["estimated_downtime"] in ("2 hours", "1 hour 59 minutes")
    assert 7000 < int(response.headers["Retry-After"]) <= 7200
    # GETs too, and unknown API paths: the whole API is down for maintenance.
    assert app.test_client().get("/api/v1/points/user-levels/").status_code == 503


def test_the_portal_shows_a_maintenance_page_but_sign_in_stays_open(app, cli):
    cli("maintenance", "on", "--until", until(1))
    client = app.test_client()
    page = client.get("/t/acme/")
    assert page.status_code == 503
    assert "Down for maintenance" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]
    assert f"<code data-request-id>{page.headers['X-Request-ID']}</code>" in \
        page.get_data(as_text=True)  # to quote to support
    assert client.get("/login").status_code == 200
    assert client.get("/static/css/app.css").status_code == 200


def test_health_and_metrics_report_the_window(app, cli):
    cli("maintenance", "on", "--until", until(1))
    client = app.test_client()
    health = client.get("/core/health/")
    assert health.status_code == 200
    body = health.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["maintenance"]["status"] == "on"
    assert "jifen_maintenance_active 1.0" in client.get("/metrics").get_data(as_text=True)


def test_off_ends_the_window(app, cli):
    cli("maintenance", "on", "--until", until(1))
    result = cli("maintenance", "off")
    assert result.exit_code == 0 and "maintenance off" in result.output
    response = app.test_client().get("/api/v1/points/user-levels/")
    assert response.status_code == 401  # the API answers again (asking for a token), not 503
    assert cli("maintenance", "off").output.strip() == "maintenance was not on"


def test_the_window_ends_by_itself(app, cli):
    cli("maintenance", "on", "--until", until(1))
    with clock.frozen(datetime.now(UTC) + timedelta(hours=1, seconds=1)):
        assert service.current() is None
        assert app.test_client().get("/api/v1/x/").status_code == 404


def test_extending_a_window_keeps_its_start(app, cli):
    cli("maintenance", "on", "--until", until(1))
    first = service.current()
    cli("maintenance", "on", "--until", until(3))
    second = service.current()
    assert second.start == first.start and second.end > first.end


@pytest.mark.parametrize("value, message", [
    ("yesterday", "ISO 8601"),
    ("2000-01-01T00:00:00Z", "in the future"),
])
def test_it_refuses_a_bad_end(cli, value, message):
    result = cli("maintenance", "on", "--until", value)
    assert result.exit_code == 1
    assert message in result.output
    assert service.current() is None


def test_it_is_audited(app, cli):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AuditLog

    cli("maintenance", "on", "--until", until(1))
    cli("maintenance", "off")
    actions = db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
    assert actions == ["maintenance.on", "maintenance.off"]


def test_workers_cache_the_window_briefly(app):
    app.config["MAINTENANCE_CACHE_SECONDS"] = 60
    with app.test_request_context("/api/x/"):
        assert gate.window_now() is None
        service.turn_on(Actor.system("tests"), until=until(1))
        assert gate.window_now() is None  # cached: at most MAINTENANCE_CACHE_SECONDS late
        gate.forget()
        assert gate.window_now() is not None


def test_an_unreadable_database_never_makes_the_gate_fail(make_app):
    from app import config as app_config
    from tests.ops.conftest import free_port

    down = make_app(app_config.TestingConfig(f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x"))
    with down.test_request_context("/api/x/"):
        assert gate.window_now() is None


def test_the_window_stays_on_for_one_ttl_while_the_database_is_unreadable(app, cli, monkeypatch):
    from sqlalchemy.exc import OperationalError

    cli("maintenance", "on", "--until", until(1))
    app.config["MAINTENANCE_CACHE_SECONDS"] = 30
    client = app.test_client()
    assert client.get("/api/v1/x/").status_code == 503

    def unreadable():
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(service, "stored", unreadable)
    clock = [time.monotonic() + 31]  # past the TTL: the gate tries to read again, and fails
    monkeypatch.setattr(gate.time, "monotonic", lambda: clock[0])
    app.extensions["jifen.maintenance"]["confirmed"] = clock[0] - 29
    response = client.get("/api/v1/x/")  # e.g. migrations took the database down
    assert response.status_code == 503
    assert "maintenance_window" in response.get_json()["error"]["details"]

    # Not confirmed for longer than a TTL: it may have been turned off meanwhile
    # by another process, and an outage must not carry a window that is off.
    clock[0] += 2
    assert gate.window_now() is None
    assert client.get("/api/v1/x/").status_code == 404


def test_the_maintenance_page_needs_no_database(make_app):
    from app import config as app_config
    from tests.ops.conftest import free_port

    down = make_app(app_config.TestingConfig(f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x"))
    now = datetime.now(UTC)
    down.extensions["jifen.maintenance"] = {
        "at": time.monotonic(), "confirmed": time.monotonic(),
        "window": service.Window(now, now + timedelta(hours=1), "")}
    client = down.test_client()
    with client.session_transaction() as session:  # a signed-in operator
        session["_user_id"] = "1"
        session["_fresh"] = True
    page = client.get("/t/acme/")
    assert page.status_code == 503
    assert "Down for maintenance" in page.get_data(as_text=True)
