"""staff_users.session_version and tenants.catalogue_version

`session_version` is copied into a staff user's session at sign-in and checked
on every request: signing out, changing the password or losing access to a
tenant bumps it, so every cookie issued before is dead at once.

`catalogue_version` is bumped in the same transaction as any change of the
tenant's levels or VIP catalogue. The processes' caches of those are keyed by
it, so a change made through one worker is seen by all of them at once, with
or without a shared cache.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:20:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                      server_default='1'))
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalogue_version', sa.Integer(), nullable=False,
                                      server_default='1'))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+), not a batch table copy: recreating
    # `tenants` would trip the foreign keys every other table holds to it.
    op.drop_column('tenants', 'catalogue_version')
    op.drop_column('staff_users', 'session_version')
