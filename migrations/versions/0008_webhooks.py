"""webhooks: endpoints, the outbox of messages, the tenant's expiring-soon notice days

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00

"""
import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def UTCDateTime():  # noqa: N802 (reads like the models' column type)
    return sa.DateTime(timezone=True)


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('tenant_id', BigId,
                  sa.ForeignKey('tenants.id'), nullable=False),
        sa.Column('url', sa.String(2000), nullable=False),
        sa.Column('description', sa.String(200), nullable=False, server_default=''),
        sa.Column('event_types', sa.String(1000), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('deleted_at', UTCDateTime(), nullable=True),
        sa.Column('leased_until', UTCDateTime(), nullable=True),
        sa.Column('lease_token', sa.String(32), nullable=True),
    )
    op.create_index('ix_webhook_endpoints_tenant_id', 'webhook_endpoints', ['tenant_id'])
    op.create_table(
        'webhook_messages',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('msg_id', sa.String(40), nullable=False, unique=True),
        sa.Column('tenant_id', BigId,
                  sa.ForeignKey('tenants.id'), nullable=False),
        sa.Column('endpoint_id', BigId,
                  sa.ForeignKey('webhook_endpoints.id'), nullable=False),
        sa.Column('event_type', sa.String(40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('dedupe_key', sa.String(200), nullable=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_attempt_at', UTCDateTime(), nullable=True),
        sa.Column('delivered_at', UTCDateTime(), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_latency_ms', sa.Integer(), nullable=True),
        sa.Column('last_response', sa.Text(), nullable=True),
        sa.Column('last_error', sa.String(200), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')",
                           name='ck_webhook_messages_status'),
        sa.UniqueConstraint('endpoint_id', 'dedupe_key', name='uq_webhook_messages_dedupe'),
    )
    op.create_index('ix_webhook_messages_due', 'webhook_messages', ['status', 'next_attempt_at'])
    op.create_index('ix_webhook_messages_endpoint', 'webhook_messages', ['endpoint_id', 'id'])
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_notice_days', sa.Integer(), nullable=False,
                                      server_default='7'))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `tenants` would trip the
    # foreign keys every other table holds to it.
    op.drop_column('tenants', 'expiry_notice_days')
    op.drop_index('ix_webhook_messages_endpoint', table_name='webhook_messages')
    op.drop_index('ix_webhook_messages_due', table_name='webhook_messages')
    op.drop_table('webhook_messages')
    op.drop_index('ix_webhook_endpoints_tenant_id', table_name='webhook_endpoints')
    op.drop_table('webhook_endpoints')
