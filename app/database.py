"""Engine-level behaviour that the ledger relies on.

SQLite: WAL, foreign keys on, and writes serialised with BEGIN IMMEDIATE (the
pysqlite driver's own transaction handling is switched off so we can emit it).
PostgreSQL needs nothing here: row locks in the services do the work.
"""
from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from app.extensions import db

# Set by `services.uow.atomic()` for the duration of a write transaction.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def is_postgres(bind: Engine | Connection | None = None) -> bool:
    """Whether the session's database (or `bind`'s) is PostgreSQL: the one place
    that asks, so each dialect-specific statement has one switch."""
    return (bind or db.session.get_bind()).dialect.name == "postgresql"


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - driver hook
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
