"""Many rows in few statements: on PostgreSQL each column goes as one array
(`INSERT … SELECT FROM unnest(...)`), ids reserved first; SQLite keeps
executemany (docs/ledger.md, "Many rows in few statements")."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Table, Text, insert, text
from sqlalchemy.types import TypeDecorator

from app.database import is_postgres
from app.extensions import db


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


def insert_rows(table: Table, rows: list[dict[str, Any]], with_ids: bool = False) -> list[int]:
    """Insert `rows` (dicts with the same keys); with `with_ids`, return their new ids in
    the order of `rows`."""
    if not rows:
        return []
    if not is_postgres():
        stmt = insert(table)
        if with_ids:
            return list(db.session.execute(
                stmt.returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
        db.session.execute(stmt, rows)
        return []
    columns = list(rows[0].keys())
    ids: list[int] = []
    if with_ids:
        ids = reserve_ids(table, len(rows))
        columns = ["id", *columns]
    params: dict[str, Any] = {}
    casts = []
    for index, name in enumerate(columns):
        values = ids if name == "id" and with_ids else [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        params[f"c{index}"] = values
        casts.append(f"CAST(:c{index} AS {_pg_type(table.c[name])}[])")
    db.session.execute(text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(casts)})"
    ), params)
    return ids


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
