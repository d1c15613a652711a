"""Webhook delivery: messages per second one worker (`flask worker`, its default
16 threads) delivers to a local receiver, and how long a message waits in the
queue when changes arrive at a steady fraction of that rate.

    python -m bench.bench_webhooks --messages 4000 --endpoints 1,8

The receiver is a threading HTTP server in this process answering 200 at once,
so the figures are the worker's own cost (sign, POST, record), not a
receiver's. Each endpoint is sent one message at a time: with one endpoint the
rate is one connection's round trips; with several they go in parallel.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import PYTHON, ROOT, migrate, recreate_database, report

DB_NAME = "jifen_bench_webhooks"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


def receiver() -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def start_worker(url: str, queue: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "TASK_QUEUE": queue, "JIFEN_ENV": "development",
           "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([PYTHON, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(messages: int, endpoint_count: int, load: float) -> list[tuple[str, str]]:
    url = recreate_database(DB_NAME)
    migrate(url)
    os.environ["DATABASE_URL"] = url
    from app import create_app
    from app.extensions import db
    from app.models import WebhookMessage
    from app.services import ledger, members, tenants
    from app.services.context import Actor
    from app.services.webhooks import endpoints
    from sqlalchemy import func, select

    server, port = receiver()
    queue = f"sqlite:///{tempfile.mkdtemp()}/tasks.db"
    app = create_app()
    app.config["TASK_QUEUE"] = queue
    actor = Actor.system("bench")
    with app.app_context():
        tenant = tenants.create("bench", "Bench", actor)
        for n in range(endpoint_count):
            endpoints.create(tenant.id, actor, url=f"http://127.0.0.1:{port}/e{n}",
                             event_types=["points.earned"])
        members.create(tenant.id, actor, user_id="m1")
        # The backlog: earns committed while no worker runs.
        per_endpoint = max(1, messages // endpoint_count)
        for start in range(0, per_endpoint, 1000):
            size = min(1000, per_endpoint - start)
            ledger.batch_earn(tenant.id, actor, [ledger.EarnItem("m1", 1, "login")] * size)
        total = db.session.execute(select(func.count()).select_from(WebhookMessage)).scalar()
        db.session.commit()

        def pending() -> int:
            count = db.session.execute(select(func.count()).select_from(WebhookMessage)
                                       .where(WebhookMessage.status == "pending")).scalar()
            db.session.commit()
            return count

        worker = start_worker(url, queue)
        try:
            while (left := pending()) == total:  # the worker's start is not its rate
                time.sleep(0.01)
            started = time.perf_counter()
            while pending():
                time.sleep(0.05)
            rate = left / (time.perf_counter() - started)
            # Steady load at `load` × that rate: one earn (one message per endpoint) per tick.
            tick = endpoint_count / (rate * load)
            mark = db.session.execute(select(func.max(WebhookMessage.id))).scalar()
            db.session.commit()
            deadline = time.perf_counter() + 20
            next_at = time.perf_counter()
            while time.perf_counter() < deadline:
                ledger.earn(tenant.id, actor, user_id="m1", points_amount=1, category="login")
                next_at += tick
                time.sleep(max(0.0, next_at - time.perf_counter()))
            while pending():
                time.sleep(0.05)
            waits = [(r.delivered_at - r.created_at).total_seconds() for r in db.session.execute(
                select(WebhookMessage.created_at, WebhookMessage.delivered_at)
                .where(WebhookMessage.id > mark)).all()]
            db.session.commit()
        finally:
            worker.terminate()
            worker.wait(30)
            server.shutdown()
    waits.sort()
    return [
        (f"{endpoint_count} endpoint(s): backlog of {total} delivered", f"{rate:,.0f} messages/s"),
        (f"  then {load:.0%} of that rate for 20 s ({len(waits)} messages): wait p50",
         f"{statistics.median(waits) * 1000:,.0f} ms"),
        ("  wait p95", f"{waits[int(len(waits) * 0.95) - 1] * 1000:,.0f} ms"),
        ("  wait max", f"{waits[-1] * 1000:,.0f} ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--endpoints", default="1,8", help="comma-separated endpoint counts")
    parser.add_argument("--load", type=float, default=0.5,
                        help="steady load as a fraction of the measured rate")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    for count in (int(c) for c in args.endpoints.split(",")):
        rows += run(args.messages, count, args.load)
    report("Webhook delivery, one worker (16 threads), local receiver", rows)


if __name__ == "__main__":
    main()
