"""The Huey schedule: each job at the time the contract gives it, and a kick that
cannot reach the queue never fails the change that was committed."""
from __future__ import annotations

from datetime import datetime

from app import tasks


def at(hour: int, minute: int) -> datetime:
    return datetime(2031, 3, 1, hour, minute)


def fires(task, when: datetime) -> bool:
    return task.task_class().validate_datetime(when)


def test_the_jobs_run_when_the_contract_says():
    assert all(fires(tasks.sweep, at(h, m)) for h, m in ((0, 0), (13, 37)))
    hourly = (tasks.expire_points, tasks.purge_idempotency, tasks.roll_up_dashboards)
    for task in hourly:
        hours = [h for h in range(24) for m in range(60) if fires(task, at(h, m))]
        assert hours == list(range(24)), task.name  # once an hour
    daily = [(h, m) for h in range(24) for m in range(60)
             if fires(tasks.expiring_soon_notices, at(h, m))]
    assert daily == [(1, 30)]
    assert fires(tasks.activate_pending, at(4, 5))


def test_a_kick_to_a_dead_queue_is_logged_not_raised(app, caplog):
    app.config["TASK_QUEUE"] = "redis://127.0.0.1:1/0"
    tasks.kick_delivery([1])
    assert "task_queue_unavailable" in caplog.text
