"""transaction lookup: indexes for finding a ledger entry by key or request id

The portal's find-a-transaction box (app/services/lookup.py) looks an entry up by
its idempotency key / operation id or the request id that wrote it, within the
tenant. Without these a lookup reads every entry of the tenant. Partial: entries
without a key (most portal writes) cost nothing to index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

INDEXES = (("ix_point_transactions_tenant_key", "idempotency_key"),
           ("ix_point_transactions_tenant_request", "request_id"))


def upgrade():
    for name, column in INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "point_transactions", ["tenant_id", column],
                        postgresql_where=where, sqlite_where=where)


def downgrade():
    for name, _column in INDEXES:
        op.drop_index(name, table_name="point_transactions")
