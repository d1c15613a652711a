"""The real worker process (`flask --app wsgi worker`, Huey on a SQLite queue
file): it delivers what the web side commits, and a worker killed with SIGKILL
in the middle of a delivery loses nothing once restarted."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import WebhookMessage
from app.services import ledger
from app.services.webhooks import endpoints

ROOT = Path(__file__).resolve().parent.parent


def start_worker(app, tmp_path) -> subprocess.Popen:
    env = dict(os.environ, JIFEN_ENV="testing", DATABASE_URL=app.config["DATABASE_URL"],
               TASK_QUEUE=app.config["TASK_QUEUE"], WEBHOOK_LEASE_SECONDS="1",
               WEBHOOK_TIMEOUT_SECONDS="20", FLASK_APP="wsgi")
    with open(tmp_path / "worker.log", "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                                 "--threads", "2"], cwd=ROOT, env=env, stdout=log, stderr=log)


def statuses() -> list[str]:
    rows = db.session.execute(select(WebhookMessage.status).order_by(WebhookMessage.id)).all()
    db.session.commit()
    return [r.status for r in rows]


def wait_until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_worker_loses_nothing(app, tenant, actor, make_member, receiver, tmp_path):
    app.config["TASK_QUEUE"] = f"sqlite:///{tmp_path / 'tasks.db'}"
    hook = endpoints.create(tenant.id, actor, url=receiver.url(), event_types=["points.earned"])
    make_member(tenant, "kim")
    receiver.script = ["hang"]
    receiver.hang_seconds = 30
    worker = start_worker(app, tmp_path)
    try:
        ledger.earn(tenant.id, actor, user_id="kim", points_amount=7, category="payment")
        assert wait_until(lambda: len(receiver.requests) == 1), (tmp_path / "worker.log").read_text()
        worker.send_signal(signal.SIGKILL)  # mid-delivery: the receiver has not answered
        worker.wait(5)
        assert statuses() == ["pending"]
        time.sleep(1.2)  # the dead worker's lease runs out
        worker = start_worker(app, tmp_path)
        assert wait_until(lambda: statuses() == ["delivered"]), \
            (tmp_path / "worker.log").read_text()
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
    first, second = receiver.requests
    assert first.id == second.id  # the same webhook-id: the receiver can deduplicate
    assert receiver.verified(hook.secret)[1]["data"]["transaction"]["points_amount"] == 7
