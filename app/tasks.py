"""Background work on Huey: webhook delivery and the scheduled jobs.

The queue lives in Redis when REDIS_URL is set (consumers on many machines share
it), else in a SQLite file in instance/ (one machine). `flask --app wsgi worker`
runs the consumer with the app's config; web processes only enqueue.

The outbox in the database is the source of truth, the queue only a doorbell:
a lost task (a crash, a queue flushed) delays a message until the next sweep
(every minute, and at the worker's start), it never loses it.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from app import caches
from app.extensions import db

log = logging.getLogger("jifen.tasks")

huey = Huey("jifen", results=False, storage_class=MemoryStorage)
_app: Flask | None = None
# One storage per queue URL for the process (a test app may name its own).
_storages: dict[str, Any] = caches.register({})


def queue_url(app: Flask) -> str:
    return app.config["TASK_QUEUE"]


def _storage(url: str) -> Any:
    storage = _storages.get(url)
    if storage is None:
        if url == "memory":
            storage = MemoryStorage("jifen")
        elif url.startswith("redis"):
            storage = RedisStorage("jifen", url=url)
        elif url.startswith("sqlite:///"):
            storage = SqliteStorage("jifen", filename=url[len("sqlite:///"):])
        else:
            raise ValueError(f"TASK_QUEUE must be memory, sqlite:///… or redis://…, not {url!r}")
        _storages[url] = storage
    return storage


def use_queue_of(app: Flask) -> None:
    """Point the Huey instance at the app's queue (built on first use, not at import)."""
    huey.storage = _storage(queue_url(app))


def _in_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task inside the worker's app context, with a session of its own."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        assert _app is not None, "tasks run in `flask worker`"
        with _app.app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()
    return wrapper


@huey.task(name="deliver_endpoint")
@_in_app
def deliver_endpoint(endpoint_id: int) -> None:
    from app.ops import metrics
    from app.services.webhooks import delivery

    report, retry_at = delivery.deliver_endpoint(endpoint_id,
                                                 observe=metrics.record_webhook_delivery)
    if retry_at is not None:
        from app.services import clock

        delay = max(0.0, (retry_at - clock.now()).total_seconds())
        deliver_endpoint.schedule((endpoint_id,), delay=delay)
    elif report.delivered:
        # More may have been committed while the lease was held.
        sweep_endpoint_if_due(endpoint_id)


def sweep_endpoint_if_due(endpoint_id: int) -> None:
    from app.services.webhooks import delivery

    if endpoint_id in delivery.due_endpoints():
        deliver_endpoint(endpoint_id)


def kick_delivery(endpoint_ids: list[int]) -> None:
    """Called after a commit that queued messages: one task per endpoint. A queue
    error is logged, not raised: the change is committed and the sweep delivers."""
    try:
        use_queue_of(current_app)
        for endpoint_id in sorted(set(endpoint_ids)):
            deliver_endpoint(endpoint_id)
    except Exception:
        log.warning("task_queue_unavailable", exc_info=True)


@huey.periodic_task(crontab(minute="*"), name="sweep")
@_in_app
def sweep() -> None:
    """Every minute: the heartbeat, and a delivery task for every endpoint with
    a message due that nobody is sending (missed kicks, retries, restarts)."""
    from app.services import jobs
    from app.services.webhooks import delivery

    jobs.beat()
    for endpoint_id in delivery.due_endpoints():
        deliver_endpoint(endpoint_id)


@huey.periodic_task(crontab(minute="0"), name="expire_points")
@_in_app
def expire_points() -> None:
    from app.services import jobs

    report, tags = jobs.expire_points()
    log.info("points_expired", extra={"lots": report.lots, "points": report.points,
                                      "tags": tags})


@huey.periodic_task(crontab(minute="*/5"), name="activate_pending")
@_in_app
def activate_pending() -> None:
    from app.services import jobs

    jobs.activate_pending()


@huey.periodic_task(crontab(minute="30", hour="1"), name="expiring_soon_notices")
@_in_app
def expiring_soon_notices() -> None:
    from app.services import jobs

    jobs.expiring_soon_notices()


@huey.periodic_task(crontab(minute="15"), name="purge_idempotency")
@_in_app
def purge_idempotency() -> None:
    from app.services import jobs

    jobs.purge_idempotency()
    jobs.purge_webhook_messages()


@huey.periodic_task(crontab(minute="20"), name="roll_up_dashboards")
@_in_app
def roll_up_dashboards() -> None:
    from app.services import jobs

    jobs.roll_up_dashboards()


def run_worker(app: Flask, threads: int, scheduler: bool = True) -> None:
    """The consumer, in the foreground until SIGINT/SIGTERM. Threads, not
    processes: the work is waiting on HTTP and the database."""
    global _app
    _app = app
    use_queue_of(app)
    port = app.config.get("WORKER_METRICS_PORT")
    if port:
        from prometheus_client import start_http_server

        from app.ops.metrics import REGISTRY

        start_http_server(int(port), registry=REGISTRY)
    sweep()  # catch up at once after a restart, not at the next minute
    consumer = huey.create_consumer(workers=threads, worker_type="thread", periodic=scheduler,
                                    initial_delay=0.05, backoff=1.5, max_delay=1.0,
                                    check_worker_health=True)
    consumer.run()
