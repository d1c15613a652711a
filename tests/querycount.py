"""Counting the SQL statements a piece of code sends (for the N+1 guards)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.database import statement_observers
from app.extensions import db

# Transaction control is the driver's business, not the code's round trips.
_IGNORED = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements sent on the application's engine inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(_IGNORED):
            seen.append(statement)

    def lean(statement: str) -> None:  # the statements app.database sends lean
        record(None, None, statement)

    event.listen(db.engine, "before_cursor_execute", record)
    statement_observers.append(lean)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        if lean in statement_observers:
            statement_observers.remove(lean)
