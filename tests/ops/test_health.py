"""GET /core/health/ and /core/health/live/."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from app import config as app_config
from app.services import jobs
from tests.ops.conftest import free_port


def health_within_3_seconds(client):
    """GET /core/health/, which must answer within 3 seconds whatever is down."""
    started = time.monotonic()
    response = client.get("/core/health/")
    assert time.monotonic() - started < 3
    return response


def app_with_database_at(make_app, port: int):
    """The app with its database at 127.0.0.1:`port`, where no PostgreSQL answers."""
    return make_app(app_config.TestingConfig(f"postgresql+psycopg://nobody@127.0.0.1:{port}/x"))


def test_it_reports_healthy_in_the_seed_shape(app):
    jobs.beat()  # a worker is running
    response = app.test_client().get("/core/health/")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy"
    assert set(body) == {"status", "checks", "timestamp"}
    assert body["timestamp"].endswith("Z")
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["database"]["response_time_ms"] >= 0
    assert checks["disk_space"]["status"] == "ok"
    assert 0 <= checks["disk_space"]["percent_used"] <= 100
    assert isinstance(checks["active_connections"], int)
    assert "redis" not in checks  # REDIS_URL is not set
    assert checks["maintenance"] == {"status": "off"}
    assert checks["worker"]["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.postgresql
def test_it_counts_postgresql_connections(app):
    body = app.test_client().get("/core/health/").get_json()
    assert body["checks"]["active_connections"] >= 1


def test_it_answers_liveness_without_the_database(make_app, database_url):
    unreachable = app_with_database_at(make_app, free_port())
    response = unreachable.test_client().get("/core/health/live/")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_it_is_unhealthy_within_3_seconds_when_the_database_refuses(make_app):
    down = app_with_database_at(make_app, free_port())
    response = health_within_3_seconds(down.test_client())
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "error"
    assert "nobody" not in response.get_data(as_text=True)  # no connection details leak


@pytest.fixture
def hung_server():
    """Accepts TCP connections and never says a word: a database that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    sock.close()


def test_it_is_unhealthy_within_3_seconds_when_the_database_hangs(make_app, hung_server):
    hung = app_with_database_at(make_app, hung_server)
    client = hung.test_client()
    for _ in range(2):  # the second probe must not queue behind the first one's stuck thread
        response = health_within_3_seconds(client)
        assert response.status_code == 503
        database = response.get_json()["checks"]["database"]
        # Our deadline and the driver's own connect timeout race; either way, in time.
        assert database["status"] == "error"
        assert database["error"] in ("timeout", "OperationalError")


def test_it_is_degraded_when_the_disk_is_nearly_full(make_app, database_url):
    app = make_app(HEALTH_DISK_DEGRADED_PERCENT=0.0)
    response = app.test_client().get("/core/health/")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["disk_space"]["status"] == "warning"


@pytest.mark.redis
def test_it_checks_redis_when_configured(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url)
    with app.app_context():
        jobs.beat()
    body = app.test_client().get("/core/health/").get_json()
    assert body["status"] == "healthy"
    assert body["checks"]["redis"]["status"] == "ok"


def test_it_is_degraded_not_down_when_redis_is_down(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = health_within_3_seconds(app.test_client())
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
