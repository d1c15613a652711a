"""GET /core/health/ (seed 001's shape) and GET /core/health/live/.

Every check runs in a worker thread with a deadline (HEALTH_CHECK_TIMEOUT), so
a hung database or Redis makes the answer 503 within the deadline instead of
hanging the probe and the worker with it."""
from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from collections.abc import Callable

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from app.database import is_postgres
from app.envelope import iso
from app.extensions import db, limiter

bp = Blueprint("ops_health", __name__)

# A few threads are enough: a check that overstays its deadline keeps its thread
# until the driver gives up, and later checks then queue and time out too, so a
# stuck dependency can never pile up threads.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health-check")


def _timed(fn: Callable[[], Any], timeout: float) -> tuple[Any, float]:
    started = time.perf_counter()
    result = _executor.submit(fn).result(timeout=timeout)
    return result, round((time.perf_counter() - started) * 1000, 2)


def _failure(exc: BaseException) -> dict[str, Any]:
    # The class name only: a driver's message can carry host names and users.
    reason = "timeout" if isinstance(exc, FutureTimeout) else type(exc).__name__
    return {"status": "error", "error": reason}


def _probe_engine(app: Flask, timeout: float) -> Engine:
    """PostgreSQL is probed on its own unpooled connection with short timeouts:
    a pooled connection to a hung server would block, and the probe must not
    take a connection the requests need."""
    engine = app.extensions.get("jifen.health_engine")
    if engine is None:
        if not is_postgres(db.engine):
            engine = db.engine
        else:
            engine = create_engine(
                db.engine.url, poolclass=NullPool,
                connect_args={"connect_timeout": max(1, int(timeout)),
                              "options": f"-c statement_timeout={int(timeout * 1000)}"},
            )
        app.extensions["jifen.health_engine"] = engine
    return engine


def check_database(app: Flask, timeout: float) -> tuple[dict[str, Any], int | None]:
    engine = _probe_engine(app, timeout)
    pool = db.engine.pool

    def probe() -> int | None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if is_postgres(engine):
                return conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                )).scalar_one()
        checked_out = getattr(pool, "checkedout", None)
        return checked_out() if callable(checked_out) else None

    try:
        connections, elapsed = _timed(probe, timeout)
    except Exception as exc:
        return _failure(exc), None
    return {"status": "ok", "response_time_ms": elapsed}, connections


def check_redis(url: str, timeout: float) -> dict[str, Any]:
    import redis

    def probe() -> None:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()

    try:
        _, elapsed = _timed(probe, timeout)
    except Exception as exc:
        return _failure(exc)
    return {"status": "ok", "response_time_ms": elapsed}


def disk_path(app: Flask) -> Path:
    """The disk that fills up first: the SQLite file's, else the instance folder's."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    path = Path(app.instance_path)
    return path if path.exists() else Path(app.root_path)


def check_disk(app: Flask) -> dict[str, Any]:
    try:
        usage = shutil.disk_usage(disk_path(app))
    except OSError as exc:
        return _failure(exc)
    percent = round(usage.used / usage.total * 100, 1) if usage.total else 0.0
    limit = float(app.config.get("HEALTH_DISK_DEGRADED_PERCENT", 90.0))
    return {"status": "ok" if percent <= limit else "warning", "percent_used": percent}


def check_maintenance() -> dict[str, Any]:
    from app.ops.maintenance import window_now

    window = window_now()
    if window is None:
        return {"status": "off"}
    return {"status": "on", "start": iso(window.start), "end": iso(window.end),
            "estimated_downtime": window.estimated_downtime}


WORKER_DEGRADED_SECONDS = 300


def check_worker(now: datetime | None = None) -> dict[str, Any]:
    """The background worker: what waits for it and when it last beat. Degraded
    when a due message has waited, or the heartbeat is, older than 5 minutes:
    messages are kept (nothing is lost) but not sent."""
    from app.services import clock, jobs
    from app.services.webhooks import delivery

    now = now or clock.now()
    try:
        depth, oldest = delivery.queue_stats(now)
        heartbeat = jobs.last_heartbeat()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        return _failure(exc)
    stale = heartbeat is None or (now - heartbeat).total_seconds() > WORKER_DEGRADED_SECONDS
    stuck = oldest is not None and oldest > WORKER_DEGRADED_SECONDS
    return {"status": "degraded" if stale or stuck else "ok", "queue_depth": depth,
            "oldest_pending_age_seconds": round(oldest, 1) if oldest is not None else 0,
            "last_heartbeat": iso(heartbeat) if heartbeat else None}


def report(app: Flask) -> dict[str, Any]:
    timeout = float(app.config.get("HEALTH_CHECK_TIMEOUT", 2.0))
    checks: dict[str, Any] = {}
    database, connections = check_database(app, timeout)
    checks["database"] = database
    if app.config.get("REDIS_URL"):
        checks["redis"] = check_redis(app.config["REDIS_URL"], timeout)
    checks["disk_space"] = check_disk(app)
    checks["active_connections"] = connections
    if database["status"] == "ok":
        checks["maintenance"] = check_maintenance()
        checks["worker"] = check_worker()
    if database["status"] != "ok":
        status = "unhealthy"
    elif (checks.get("redis", {}).get("status", "ok") != "ok"
          or checks["disk_space"]["status"] != "ok"
          or checks["maintenance"]["status"] == "on"
          or checks["worker"]["status"] != "ok"):
        status = "degraded"  # still serving: limits fall back to memory, reads skip the cache
    else:
        status = "healthy"
    return {"status": status, "checks": checks, "timestamp": iso(datetime.now(UTC))}


@bp.get("/core/health/")
def health():
    body = report(current_app._get_current_object())  # type: ignore[attr-defined]
    response = jsonify(body)
    response.status_code = 503 if body["status"] == "unhealthy" else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/core/health/live/")
def live():
    """Liveness: the process answers. Touches no dependency, so a database outage
    never makes an orchestrator kill healthy workers."""
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    limiter.exempt(bp)
    app.register_blueprint(bp)
