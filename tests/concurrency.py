"""Run calls on real threads, all released at once, each with its own app context,
session and database connection: the shared harness of the concurrency tests."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.extensions import db
from app.models import PointTransaction
from app.services import idempotency, ledger, members
from app.services.context import Actor
from app.services.errors import DomainError
from tests.ledger_helpers import count
from tests.ledger_invariants import assert_consistent

WORKERS = 40  # the test app's pool allows 80 connections
EARN_PATH = "/api/v1/points/earn/"


def run_concurrently(app, calls: list[Callable[[], Any]], workers: int = WORKERS) -> list[Any]:
    """Run every call on a pool of threads, all released at once. Each result is
    ("ok", value), ("error", code) for a domain error, or ("crash", repr)."""
    gate = threading.Event()

    def work(call: Callable[[], Any]) -> tuple[str, Any]:
        gate.wait()
        with app.app_context():
            try:
                return ("ok", call())
            except DomainError as exc:
                return ("error", exc.code)
            except Exception as exc:  # noqa: BLE001 - a crash is what the test looks for
                return ("crash", repr(exc))
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        futures = [pool.submit(work, call) for call in calls]
        gate.set()
        results = [f.result(timeout=120) for f in futures]
    db.session.rollback()
    return results


def crashes(results: list[tuple[str, Any]]) -> list[Any]:
    return [value for kind, value in results if kind == "crash"]


def keyed_earn(tenant_id: int, actor: Actor, key: str, *, claimed_by_write: bool = False,
               **body: Any) -> idempotency.Stored:
    """An earn under an idempotency key, answered as the API's earn answers it."""
    def operation() -> idempotency.Response:
        out = ledger.earn(tenant_id, actor, idempotency_key=key, **body)
        return idempotency.Response(201, {"transaction": out.transaction.as_dict(),
                                          "total_points": out.profile.total_points})
    return idempotency.run(tenant_id, key, idempotency.fingerprint("POST", EARN_PATH, body),
                           operation, claimed_by_write=claimed_by_write)


def assert_one_effect_under_50_calls(app, tenant_id: int, actor: Actor, *,
                                     claimed_by_write: bool = False) -> None:
    """50 concurrent earns of 25 points to alice under one key: one effect, and every
    call answered alike (49 of them replays)."""
    body = {"user_id": "alice", "points_amount": 25, "category": "login"}

    def call():
        response = keyed_earn(tenant_id, actor, "order-77", claimed_by_write=claimed_by_write,
                              **body)
        return response.status, response.body, response.replayed

    results = run_concurrently(app, [call] * 50)
    assert crashes(results) == [] and all(kind == "ok" for kind, _ in results)
    answers = [value for _, value in results]
    assert len({(status, repr(sorted(body.items()))) for status, body, _ in answers}) == 1
    assert sum(1 for *_, replayed in answers if not replayed) == 1
    assert answers[0][1]["total_points"] == 25
    assert count(PointTransaction) == 1
    assert members.get_profile(tenant_id, "alice").total_points == 25
    assert_consistent()
