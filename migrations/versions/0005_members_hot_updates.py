"""members: drop the (tenant_id, last_activity_at) index so earns update in place

Every credit sets `last_activity_at`; with that column indexed, PostgreSQL could
never update a member row in place (a HOT update) and rewrote all six of its
index entries on each earn. No query reads the index: the active-members gauge
counts with a filter over the whole tenant, which scans the rows anyway.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-24 06:20:00

"""
from alembic import op


revision = '0005'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_tenant_activity')


def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_tenant_activity', ['tenant_id', 'last_activity_at'],
                              unique=False)
