"""Many rows in few statements: on PostgreSQL a table's rows go as one JSON
document (`INSERT … SELECT FROM json_populate_recordset(...)`), ids reserved
first; SQLite keeps executemany (docs/ledger.md, "Many rows in few statements")."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Table, insert, text

from app.database import execute_driver_sql, is_postgres
from app.extensions import db


def reserve_ids(table: Table, count: int) -> list[int]:
    rows = db.session.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": count},
    ).scalars().all()
    return sorted(rows)


def _json_insert(table: Table, rows: list[dict[str, Any]], ids: list[int] | None,
                 name: str, params: dict[str, Any]) -> str:
    """`INSERT … SELECT … FROM json_populate_recordset(…)` for `rows`: the rows go as
    one JSON document (`params[name]`), read back as the table's own row type, so
    each column gets the value its type parses (times from ISO 8601, a JSON column
    the text of its value). One parameter a table, however many columns: cheaper
    to send than an array a column. The driver's SQL: sent as it is."""
    columns = list(rows[0])
    if ids is not None:
        rows = [{"id": row_id, **row} for row_id, row in zip(ids, rows, strict=True)]
        columns = ["id", *columns]
    params[name] = json.dumps(rows, ensure_ascii=False, default=_json_value)
    listed = ", ".join(columns)
    return (f"INSERT INTO {table.name} ({listed}) SELECT {listed} "
            f"FROM json_populate_recordset(NULL::{table.name}, %({name})s::json)")


def _json_value(value: Any) -> Any:
    """What json cannot write itself: times (ISO 8601, with their offset), and
    decimals as text (parsed exactly by the numeric column)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"no JSON form for {type(value).__name__}")


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
    execute_driver_sql(_json_insert(table, rows, ids if with_ids else None, "rows", params), params)
    return list(ids or []) if with_ids else []


def insert_all(parts: list[tuple[Table, list[dict[str, Any]], list[int] | None]]) -> None:
    """Insert rows into several tables, with the ids given (reserved beforehand) or
    None. PostgreSQL: one statement, each table's rows a JSON INSERT in its own
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
    inserts = [f"w{n} AS ({_json_insert(table, rows, ids, f'rows{n}', params)})"
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
