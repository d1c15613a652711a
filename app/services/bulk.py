"""Many rows in few statements: on PostgreSQL each column goes as one array
(`INSERT … SELECT FROM unnest(...)`), ids reserved first; SQLite keeps
executemany (docs/ledger.md, "Many rows in few statements")."""
from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Table, Text, insert, text
from sqlalchemy.types import TypeDecorator

from app.database import execute_driver_sql, is_postgres
from app.extensions import db


@functools.lru_cache(maxsize=512)
def _pg_type(column: Any) -> str:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl if not isinstance(kind.impl, type) else kind.impl()
    for sa_type, name in ((BigInteger, "bigint"), (Integer, "bigint"), (Boolean, "boolean"),
                          (DateTime, "timestamptz"), (JSON, "json"), (Text, "text"),
                          (String, "text")):
        if isinstance(kind, sa_type):
            return name
    raise TypeError(f"no array type for {column}")


def reserve_ids(table: Table, count: int) -> list[int]:
    rows = db.session.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": count},
    ).scalars().all()
    return sorted(rows)


def _unnest_insert(table: Table, rows: list[dict[str, Any]], ids: list[int] | None,
                   prefix: str, params: dict[str, Any]) -> str:
    """`INSERT … SELECT * FROM unnest(…)` for `rows`, its arrays added to `params`
    (the driver's SQL: sent as it is, not parsed again by SQLAlchemy)."""
    columns = list(rows[0].keys())
    if ids is not None:
        columns = ["id", *columns]
    casts = []
    for index, name in enumerate(columns):
        values = ids if name == "id" and ids is not None else [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        params[f"{prefix}{index}"] = values
        casts.append(f"CAST(%({prefix}{index})b AS {_pg_type(table.c[name])}[])")
    return (f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"SELECT * FROM unnest({', '.join(casts)})")


def insert_rows(table: Table, rows: list[dict[str, Any]], with_ids: bool = False,
                ids: list[int] | None = None) -> list[int]:
    """Insert `rows` (dicts with the same keys); with `with_ids`, return their new ids in
    the order of `rows` (`ids`: ids already reserved, PostgreSQL only)."""
    if not rows:
        return []
    if not is_postgres():
        stmt = insert(table)
        if with_ids:
            return list(db.session.execute(
                stmt.returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
        db.session.execute(stmt, rows)
        return []
    if with_ids and ids is None:
        ids = reserve_ids(table, len(rows))
    params: dict[str, Any] = {}
    execute_driver_sql(_unnest_insert(table, rows, ids if with_ids else None, "c", params), params)
    return list(ids or []) if with_ids else []


def insert_all(parts: list[tuple[Table, list[dict[str, Any]], list[int] | None]]) -> None:
    """Insert rows into several tables, with the ids given (reserved beforehand) or
    None. PostgreSQL: one statement, each table's rows an `unnest` INSERT in its own
    WITH (the foreign keys between them are checked at the statement's end, when
    all are in). Elsewhere: `insert_rows` per table, in the given order."""
    parts = [(table, rows, ids) for table, rows, ids in parts if rows]
    if not parts:
        return
    if not is_postgres():
        for table, rows, ids in parts:
            insert_rows(table, rows, with_ids=ids is not None)
        return
    params: dict[str, Any] = {}
    inserts = [f"w{n} AS ({_unnest_insert(table, rows, ids, f'p{n}_', params)})"
               for n, (table, rows, ids) in enumerate(parts)]
    execute_driver_sql(f"WITH {', '.join(inserts)} SELECT 1", params)


def id_in(column: Any, ids: list[int]) -> Any:
    """`column IN ids`: one array parameter on PostgreSQL, not thousands of scalars."""
    if is_postgres():
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, ids, type_=ARRAY(BigInteger())))
    return column.in_(ids)


def add_to_column(table: Table, column: str, deltas: dict[int, int],
                  **set_values: Any) -> None:
    """`column += delta` for many rows by id, in one statement on PostgreSQL."""
    if not deltas:
        return
    if not is_postgres():
        from sqlalchemy import bindparam, update

        db.session.execute(
            update(table).where(table.c.id == bindparam("row_id"))
            .values({column: table.c[column] + bindparam("delta"), **set_values}),
            [{"row_id": k, "delta": v} for k, v in deltas.items()],
        )
        return
    assignments = ", ".join([f"{column} = {table.name}.{column} + d.delta"]
                            + [f"{name} = :{name}" for name in set_values])
    db.session.execute(text(
        f"UPDATE {table.name} SET {assignments} FROM unnest(CAST(:ids AS bigint[]), "
        f"CAST(:deltas AS bigint[])) AS d(id, delta) WHERE {table.name}.id = d.id"
    ), {"ids": list(deltas), "deltas": list(deltas.values()), **set_values})
