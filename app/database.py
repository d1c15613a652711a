"""Engine-level behaviour that the ledger and the outage answers rely on.

SQLite: WAL, foreign keys on, and writes serialised with BEGIN IMMEDIATE (the
pysqlite driver's own transaction handling is switched off so we can emit it).

PostgreSQL: row locks in the services serialise writes. What the engine adds is
a deadline: a server that stops answering (frozen, a stalled network) keeps its
sockets open, so neither TCP keepalives nor a server-side statement_timeout end
a wait on it, and a request would hang past gunicorn's timeout. Every round trip
made for a web request gives up after DB_REQUEST_TIMEOUT seconds instead: the
connection is closed (its state is unknown), the pool drops its siblings, and
the request answers 503; later requests connect afresh, so the app recovers by
itself when the server answers again. CLI commands and background jobs run no
request and keep unbounded waits (a backup or an expiry run may take minutes).
"""
from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from app import caches
from app.extensions import db

# Set by `services.uow.atomic()` for the duration of a write transaction.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def is_postgres(bind: Engine | Connection | None = None) -> bool:
    """Whether the session's database (or `bind`'s) is PostgreSQL: the one place
    that asks, so each dialect-specific statement has one switch."""
    return (bind or db.session.get_bind()).dialect.name == "postgresql"


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        _configure_postgresql(engine)
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


# --------------------------------------------------------------------------- the deadline

# psycopg keeps the parse of a query (its placeholders turned into $n) in an LRU
# cache only for queries of at most 4 KB and 50 parameters, so as not to fill it
# with ORM statements of varying length. The ledger's one-statement writes are
# fixed texts a little over that (the credit that claims its idempotency key is
# ~4.8 KB): without the cache each of them is parsed again by a regular
# expression on every request (~0.2 ms of CPU). tests/test_database_driver.py
# keeps the hot statements within these limits.
QUERY_CACHE_MAX_LENGTH = 16384
QUERY_CACHE_MAX_PARAMS = 100


def _widen_query_cache() -> None:
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH,
                                               QUERY_CACHE_MAX_LENGTH)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS,
                                               QUERY_CACHE_MAX_PARAMS)


def _configure_postgresql(engine: Engine) -> None:
    _widen_query_cache()
    from app.db_deadline import (
        DeadlineConnection, mark_unresponsive, unresponsive_in_this_request,
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs: tuple, cparams: dict[str, Any]):
        import psycopg

        if unresponsive_in_this_request():
            # A wait of this request already timed out: another connect (the
            # pool's pre-ping makes one, the view after the maintenance gate
            # another) would only add connect_timeout to it.
            raise psycopg.OperationalError("the database stopped answering during this request")
        try:
            return DeadlineConnection.connect(*cargs, **cparams)
        except psycopg.OperationalError:
            mark_unresponsive()
            raise


# --------------------------------------------------------------------------- a read before the transaction

def execute_before_transaction(statement: Any, params: dict[str, Any]) -> list[Any]:
    """Run one Core read on the session and return its rows; on PostgreSQL without
    opening a transaction when none is open yet (the API's per-request token
    check: the one statement of a read that finds its data cached).

    psycopg sends BEGIN before a statement outside a transaction, and the
    session's close sends ROLLBACK: two round trips more than the read itself.
    Under READ COMMITTED a lone statement sees what it would see as the first of
    a transaction, so the read runs in autocommit, and the next statement of the
    request (if any) begins the transaction as it would have done anyway: a
    request that reads nothing more makes one round trip instead of three, a
    write makes as many as before. The statement goes as `execute_lean` sends
    it. Anywhere else (SQLite, a transaction already open) it is plain
    `session.execute`."""
    session = db.session
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name != "postgresql" or raw is None or \
            getattr(raw, "autocommit", True) or raw.info.transaction_status != TransactionStatus.IDLE:
        return session.execute(statement, params).all()
    raw.autocommit = True
    try:
        return _execute_lean_on(connection, statement, params)
    finally:
        if not raw.closed:  # a connection lost on the way is thrown away anyway
            raw.autocommit = False


# --------------------------------------------------------------------------- the hot writes' statements

def execute_lean(statement: Any, params: dict[str, Any]) -> list[Any]:
    """Run one of the hot paths' Core statements (the earn's and the event's) in the
    session's transaction and return all its rows (attribute access, as Core rows).

    On PostgreSQL the statement is compiled once and handed to the driver with its
    values: SQLAlchemy's per-execution work (its execution context, result
    metadata built from the cursor's description) costs more CPU than the
    statement's round trip. Values and results still go through their types' own
    processors (UTCDateTime's, JSON's), as SQLAlchemy would apply them. A driver
    error is raised as SQLAlchemy's (a lost connection invalidated), so callers
    and the outage handling see what `session.execute` would raise. SQLAlchemy's
    cursor events are not fired (their listeners expect its execution context):
    `statement_observers` see the statements instead. Anywhere else it is
    `session.execute(statement, params).all()`."""
    session = db.session
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        result = session.execute(statement, params)
        return result.all() if result.returns_rows else []
    return _execute_lean_on(connection, statement, params)


def _execute_lean_on(connection: Connection, statement: Any, params: dict[str, Any]) -> list[Any]:
    sql, defaults, binds, make_row = _lean(statement, connection.dialect)
    values = {**defaults, **params}
    for name, process in binds:
        if name in values:
            values[name] = process(values[name])
    return _send(connection, sql, values, make_row)


def execute_driver_sql(sql: str, params: dict[str, Any]) -> None:
    """PostgreSQL: send `sql` (the driver's placeholders, `%(name)s`) with `params` as
    psycopg adapts them, in the session's transaction, as `execute_lean` does; for
    statements whose text is built from the data's shape (bulk.insert_all)."""
    connection = db.session.connection()
    _send(connection, sql, params, None)


# Called with the SQL of each statement sent lean (the tests' statement counters):
# SQLAlchemy's own cursor events do not see those statements, so neither do their
# listeners (Sentry's SQL spans among them).
statement_observers: list[Any] = caches.register([])


def _send(connection: Connection, sql: str, values: dict[str, Any], make_row: Any) -> list[Any]:
    import psycopg

    raw = connection.connection.dbapi_connection
    for observe in statement_observers:
        observe(sql)
    try:
        with raw.cursor(**({"row_factory": make_row} if make_row else {})) as cursor:
            cursor.execute(sql, values)
            return cursor.fetchall() if make_row and cursor.pgresult.nfields else []
    except psycopg.Error as exc:
        from sqlalchemy.exc import DBAPIError

        lost = connection.dialect.is_disconnect(exc, raw, None)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, values, exc, psycopg.Error, connection_invalidated=lost,
                                  dialect=connection.dialect) from exc


@functools.lru_cache(maxsize=64)
def _lean(statement: Any, dialect: Any) -> tuple[str, dict[str, Any], list[Any], Any]:
    """The statement's SQL, the values of its own literals (`LIMIT 1` is a bound
    parameter too), its parameters' processors, and a psycopg row factory applying
    its columns' processors."""
    from collections import namedtuple

    compiled = statement.compile(dialect=dialect)
    defaults = {name: bind.effective_value for name, bind in compiled.binds.items()
                if not bind.required}
    binds = [(name, bind.type.dialect_impl(dialect).bind_processor(dialect))
             for name, bind in compiled.binds.items()]
    binds = [(name, process) for name, process in binds if process is not None]
    columns = list(getattr(statement, "selected_columns", ()))
    row_type = (namedtuple("LeanRow", [c.key for c in columns], rename=True)  # noqa: PYI024
                if columns else None)
    known: list[list[tuple[int, Any]]] = []  # the columns' processors, once types are seen

    def processors(cursor: Any) -> list[tuple[int, Any]]:
        """A result processor may depend on the column's type as sent (Numeric's)."""
        if not known:
            result = cursor.pgresult
            found = [(i, c.type.dialect_impl(dialect).result_processor(dialect, result.ftype(i)))
                     for i, c in enumerate(columns)]
            known.append([(i, p) for i, p in found if p is not None])
        return known[0]

    def make_row(cursor: Any) -> Any:
        if row_type is None:  # nothing returned (an UPDATE without RETURNING)
            return tuple
        process = processors(cursor)
        if not process:
            return row_type._make

        def row(values: Any) -> Any:
            values = list(values)
            for i, convert in process:
                values[i] = convert(values[i])
            return row_type._make(values)
        return row

    return str(compiled), defaults, binds, make_row
