"""GET /metrics in the Prometheus text format.

Request and points-operation counters live in prometheus_client; when
PROMETHEUS_MULTIPROC_DIR is set (gunicorn with several workers) each worker
writes them to files there and a scrape, answered by any worker, adds them all
up. Gauges that describe the data (points outstanding, active members,
dependencies up) are computed at scrape time by one cheap query, never per request.
"""
from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from app import envelope
from app.extensions import db, limiter
from app.ops.request_log import request_started
from app.services import clock
from app.services.crypto import constant_time_equals

bp = Blueprint("ops_metrics", __name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("api_requests_total", "HTTP requests answered, by route rule and status.",
                   ["method", "endpoint", "status"], registry=REGISTRY)
DURATION = Histogram("api_request_duration_seconds", "Time to answer a request, by route rule.",
                     ["method", "endpoint"], registry=REGISTRY,
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
POINTS_OPERATIONS = Counter("points_operations", "Points operations, by kind and outcome.",
                            ["operation", "status"], registry=REGISTRY)
# Counted by the worker process (exposed on WORKER_METRICS_PORT, or through
# PROMETHEUS_MULTIPROC_DIR when it shares a machine with the web processes).
WEBHOOK_DELIVERIES = Counter("webhook_deliveries", "Webhook delivery attempts, by result "
                             "(delivered, retry, failed).", ["result"], registry=REGISTRY)
WEBHOOK_SECONDS = Histogram("webhook_delivery_seconds", "Time of one webhook delivery attempt.",
                            registry=REGISTRY,
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

UNMATCHED = "<unmatched>"  # 404s: one series, however many paths are probed
ACTIVE_DAYS = 30

# The contract's points-changing routes (CONTRACT.md), recognised by their rule's
# ending so the API's exact converter names do not matter.
POINTS_ROUTES = (
    ("/points/earn/", "earn"), ("/points/spend/", "spend"), ("/points/adjust/", "adjust"),
    ("/points/batch-earn/", "batch_earn"), ("/reverse/", "reverse"), ("/vip-tags/", "vip_grant"),
)


def outcome(status: int) -> str:
    if status < 400:
        return "success"
    return "rejected" if status < 500 else "error"


def record_points_operation(operation: str, status: str) -> None:
    """For callers outside the API routes (the portal, jobs): count one operation."""
    POINTS_OPERATIONS.labels(operation=operation, status=status).inc()


def record_webhook_delivery(result: str, seconds: float) -> None:
    WEBHOOK_DELIVERIES.labels(result=result).inc()
    WEBHOOK_SECONDS.observe(seconds)


def points_operation_for(method: str, rule: str | None) -> str | None:
    if method != "POST" or not rule or not rule.startswith("/api/"):
        return None
    for suffix, operation in POINTS_ROUTES:
        if rule.endswith(suffix):
            return operation
    return None


def observe(response: Response) -> None:
    started = request_started()
    rule = request.url_rule.rule if request.url_rule else UNMATCHED
    REQUESTS.labels(method=request.method, endpoint=rule, status=str(response.status_code)).inc()
    if started is not None:
        DURATION.labels(method=request.method, endpoint=rule).observe(time.perf_counter() - started)
    operation = points_operation_for(request.method, rule)
    if operation is not None:
        record_points_operation(operation, outcome(response.status_code))


# --------------------------------------------------------------------------- scrape-time gauges

def _data_query() -> list[Any]:
    from app.models import Member, Tenant

    since = clock.now() - timedelta(days=ACTIVE_DAYS)
    return list(db.session.execute(
        select(Tenant.slug, func.coalesce(func.sum(Member.total_points), 0),
               func.count(Member.id).filter(Member.last_activity_at >= since))
        .select_from(Tenant).outerjoin(Member, Member.tenant_id == Tenant.id)
        .group_by(Tenant.slug)
    ).all())


class LiveCollector:
    """Gauges read at scrape time. The database figures come from one aggregate
    over members (balances are stored, so no ledger scan), and are kept for
    METRICS_DATA_CACHE_SECONDS so frequent scrapes cost nothing extra."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterable[Metric]:
        from app.ops.health import check_database, check_redis

        timeout = float(self.app.config.get("HEALTH_CHECK_TIMEOUT", 2.0))
        up = GaugeMetricFamily("jifen_dependency_up", "1 if the dependency answers, else 0.",
                               labels=["dependency"])
        database, _ = check_database(self.app, timeout)
        up.add_metric(["database"], 1.0 if database["status"] == "ok" else 0.0)
        if self.app.config.get("REDIS_URL"):
            redis_ok = check_redis(self.app.config["REDIS_URL"], timeout)["status"] == "ok"
            up.add_metric(["redis"], 1.0 if redis_ok else 0.0)
        yield up
        if database["status"] != "ok":
            return
        rows = self._data()
        outstanding = GaugeMetricFamily("points_outstanding",
                                        "Points held by members (sum of balances), per tenant.",
                                        labels=["tenant"])
        active = GaugeMetricFamily("active_members",
                                   f"Members with activity in the last {ACTIVE_DAYS} days.",
                                   labels=["tenant"])
        for slug, points, members in rows:
            outstanding.add_metric([slug], float(points))
            active.add_metric([slug], float(members))
        yield outstanding
        yield active
        from app.ops.maintenance import window_now
        from app.services.webhooks import delivery

        depth, oldest = delivery.queue_stats()
        failing = delivery.failing_endpoints()
        db.session.commit()
        yield GaugeMetricFamily("task_queue_depth", "Webhook messages due and not yet sent.",
                                value=float(depth))
        yield GaugeMetricFamily("task_queue_oldest_seconds",
                                "How long the longest-waiting due webhook message has waited.",
                                value=float(oldest or 0.0))
        yield GaugeMetricFamily("webhook_endpoints_failing",
                                "Endpoints whose attempts of the last 10 minutes all failed.",
                                value=float(failing))
        yield GaugeMetricFamily("jifen_maintenance_active", "1 while a maintenance window is on.",
                                value=1.0 if window_now() is not None else 0.0)

    def _data(self) -> list[Any]:
        ttl = float(self.app.config.get("METRICS_DATA_CACHE_SECONDS", 15.0))
        memo = self.app.extensions.setdefault("jifen.metrics_data", {"at": None, "rows": []})
        if memo["at"] is None or time.monotonic() - memo["at"] >= ttl:
            memo["rows"] = _data_query()
            db.session.commit()
            memo["at"] = time.monotonic()
        return memo["rows"]


def exposition(app: Flask) -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    live = CollectorRegistry(auto_describe=False)
    live.register(LiveCollector(app))
    return generate_latest(counters) + generate_latest(live)


@bp.get("/metrics")
def scrape():
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not (given.startswith("Bearer ") and constant_time_equals(given[7:].strip(), token)):
            return envelope.error("AUTHENTICATION_REQUIRED", {}, status=401,
                                  headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body = exposition(current_app._get_current_object())  # type: ignore[attr-defined]
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def register(app: Flask) -> None:
    limiter.exempt(bp)
    app.register_blueprint(bp)

    @app.after_request
    def _observe(response: Response) -> Response:
        observe(response)
        return response
