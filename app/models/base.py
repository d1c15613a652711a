"""Column types shared by every model."""
from __future__ import annotations

from datetime import datetime, UTC

from sqlalchemy import BigInteger, DateTime, ForeignKeyConstraint, Integer
from sqlalchemy.types import TypeDecorator

# A 64-bit key on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def same_tenant(table: str, column: str, parent: str) -> ForeignKeyConstraint:
    """`table.column` names a row of `parent` of the same tenant: the database checks
    (tenant_id, column) against the parent's unique (tenant_id, id), so no row can
    point into another tenant. Named fk_<table>_tenant_<column without _id>."""
    return ForeignKeyConstraint(["tenant_id", column], [f"{parent}.tenant_id", f"{parent}.id"],
                                name=f"fk_{table}_tenant_{column.removesuffix('_id')}")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones: values are stored as naive UTC and come back aware,
    so comparisons in SQL and in Python agree.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
