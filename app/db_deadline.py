"""DB_REQUEST_TIMEOUT: the psycopg connection class that bounds each round trip,
and the request hooks that say when it applies (why: app/database.py)."""
from __future__ import annotations

from typing import Any, TypeVar

import psycopg
from flask import Flask, g, has_app_context, request_started, request_tearing_down
from psycopg.abc import PQGen
from psycopg.connection import _WAIT_INTERVAL
# psycopg's wait functions raise this when their timeout expires (psycopg is
# pinned in requirements.txt; tests/ops/test_hung_database.py proves it).
from psycopg.errors import _WaitTimeout

RV = TypeVar("RV")


class DeadlineConnection(psycopg.Connection):
    """Every wait on the server made for a request ends within its limit.

    psycopg funnels each round trip (execute, fetch, commit, rollback) through
    `wait()`, whose socket wait takes a timeout: no thread and no signal needed.
    On expiry the connection is closed: a query is in flight and the server may
    never answer it. SQLAlchemy sees a closed connection, counts the error as a
    disconnect and invalidates the pool's older connections with it."""

    def wait(self, gen: PQGen[RV], interval: float = _WAIT_INTERVAL,
             timeout: float | None = None) -> RV:
        limit = round_trip_limit() if timeout is None else None
        if limit is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except _WaitTimeout:
            self.close()
            mark_unresponsive()
            raise psycopg.OperationalError(
                f"the database did not answer within {limit:g} s (DB_REQUEST_TIMEOUT)") from None


def mark_unresponsive() -> None:
    """Within a request, refuse its further connects at once (CLI: nothing to do)."""
    if round_trip_limit() is not None:
        g.db_unresponsive = True


def unresponsive_in_this_request() -> bool:
    return has_app_context() and bool(g.get("db_unresponsive"))


def round_trip_limit() -> float | None:
    """The limit of a wait made now: set for a request, None for the CLI and jobs."""
    if not has_app_context():
        return None
    return g.get("db_round_trip_limit")


def register(app: Flask) -> None:
    """Give each request's database round trips DB_REQUEST_TIMEOUT seconds."""
    limit = float(app.config["DB_REQUEST_TIMEOUT"])

    def _start(_sender: Flask, **_extra: Any) -> None:
        # Kept in `g` until the app context ends: the session's final rollback
        # (teardown_appcontext, after the request context is gone) is bounded too.
        g.db_round_trip_limit = limit
        g.pop("db_unresponsive", None)

    def _end(_sender: Flask, **_extra: Any) -> None:
        # `g` outlives the request when an app context was pushed before it
        # (tests): what follows must not be refused a connection.
        g.pop("db_unresponsive", None)

    request_started.connect(_start, app, weak=False)
    request_tearing_down.connect(_end, app, weak=False)
