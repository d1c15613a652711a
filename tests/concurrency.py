"""Run calls on real threads, all released at once, each with its own app context,
session and database connection: the shared harness of the concurrency tests."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.extensions import db
from app.services.errors import DomainError

WORKERS = 40  # the test app's pool allows 80 connections


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
