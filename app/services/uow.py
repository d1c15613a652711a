"""One transaction per service call.

`@transactional` makes a service function own its transaction: the outermost
call begins it (BEGIN IMMEDIATE on SQLite, so writers queue instead of failing
half-way), commits on return and rolls back on any exception. Calls nested
inside it join the same transaction, so a view or the idempotency wrapper can
compose several services into one atomic unit.

On PostgreSQL a deadlock or serialisation failure is retried from the start
(a few times, with jitter): the services lock rows in a fixed order, so this is
a safety net, not the mechanism.
"""
from __future__ import annotations

import functools
import random
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar
from collections.abc import Callable, Iterator

from sqlalchemy.exc import DBAPIError, OperationalError

from app.database import is_postgres, write_intent
from app.extensions import db

P = ParamSpec("P")
R = TypeVar("R")

_depth: ContextVar[int] = ContextVar("uow_depth", default=0)
_on_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("uow_on_commit",
                                                                     default=None)

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
MAX_ATTEMPTS = 5


def in_transaction() -> bool:
    return _depth.get() > 0


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current write transaction has committed; never if it
    rolls back. Outside a transaction it runs at once."""
    pending = _on_commit.get()
    if pending is None:
        callback()
    else:
        pending.append(callback)


@contextmanager
def atomic() -> Iterator[None]:
    if _depth.get() > 0:
        token = _depth.set(_depth.get() + 1)
        try:
            yield
        finally:
            _depth.reset(token)
        return

    session = db.session()
    if session.in_transaction() and not is_postgres():
        # A read the caller made before this write (loading the signed-in user,
        # say) holds a deferred SQLite transaction: end it, so the write starts
        # with BEGIN IMMEDIATE. PostgreSQL (read committed) simply continues it:
        # every statement sees what is committed when it starts and the write's
        # locks come with its statements, so a COMMIT and a BEGIN are saved.
        session.commit()
    depth_token = _depth.set(1)
    intent_token = write_intent.set(True)
    pending: list[Callable[[], None]] = []
    pending_token = _on_commit.set(pending)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        write_intent.reset(intent_token)
        _depth.reset(depth_token)
        _on_commit.reset(pending_token)
    for callback in pending:
        callback()


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in RETRYABLE_SQLSTATES:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return True
    return False


def transactional(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _depth.get() > 0:
            return fn(*args, **kwargs)
        attempt = 0
        while True:
            attempt += 1
            try:
                with atomic():
                    return fn(*args, **kwargs)
            except DBAPIError as exc:
                if attempt >= MAX_ATTEMPTS or not is_retryable(exc):
                    raise
                time.sleep(random.uniform(0.005, 0.05) * attempt)

    return wrapper
