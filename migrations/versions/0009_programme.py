"""programme: earning rules, events, awards, pending awards, revocations;
members.pending_points and tenants.timezone

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:40:57

"""
from alembic import op
import sqlalchemy as sa

from app.models.base import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('earning_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('award_type', sa.String(length=16), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=True),
    sa.Column('per', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('factor', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('min_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('level_ids', sa.JSON(), nullable=True),
    sa.Column('starts_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('limit_count', sa.Integer(), nullable=True),
    sa.Column('limit_period', sa.String(length=16), nullable=True),
    sa.Column('max_points', sa.BigInteger(), nullable=True),
    sa.Column('expires_in_days', sa.Integer(), nullable=True),
    sa.Column('pending_days', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(award_type = 'fixed' AND points > 0) OR (award_type = 'per_amount' AND points > 0 AND per > 0) OR (award_type = 'multiplier' AND factor >= 1)", name=op.f('ck_earning_rules_award_complete')),
    sa.CheckConstraint("award_type IN ('fixed', 'per_amount', 'multiplier')", name=op.f('ck_earning_rules_award_type_valid')),
    sa.CheckConstraint("limit_period IS NULL OR limit_period IN ('day', 'week', 'month', 'lifetime')", name=op.f('ck_earning_rules_limit_period_valid')),
    sa.CheckConstraint('(limit_count IS NULL) = (limit_period IS NULL)', name=op.f('ck_earning_rules_limit_whole')),
    sa.CheckConstraint('pending_days >= 0', name=op.f('ck_earning_rules_pending_days_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_earning_rules_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earning_rules')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_earning_rules_tenant_id_id'))
    )
    with op.batch_alter_table('earning_rules', schema=None) as batch_op:
        batch_op.create_index('ix_earning_rules_tenant_event_type', ['tenant_id', 'event_type'], unique=False)

    op.create_table('programme_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('refunded_amount', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('occurred_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('points_awarded', sa.BigInteger(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('revoked', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_programme_events_amount_non_negative')),
    sa.CheckConstraint('refunded_amount >= 0', name=op.f('ck_programme_events_refunded_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name='fk_programme_events_tenant_member'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_programme_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_events')),
    sa.UniqueConstraint('tenant_id', 'event_id', name=op.f('uq_programme_events_tenant_id_event_id'))
    )
    with op.batch_alter_table('programme_events', schema=None) as batch_op:
        batch_op.create_index('ix_programme_events_member', ['tenant_id', 'member_id', 'id'], unique=False)

    op.create_table('event_awards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('rule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_name', sa.String(length=120), nullable=False),
    sa.Column('rule_values', sa.JSON(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('revoked_points', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('available_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('available', 'pending', 'cancelled')", name=op.f('ck_event_awards_status_valid')),
    sa.CheckConstraint('points > 0', name=op.f('ck_event_awards_points_positive')),
    sa.CheckConstraint('revoked_points >= 0 AND revoked_points <= points', name=op.f('ck_event_awards_revoked_within_points')),
    sa.ForeignKeyConstraint(['event_id'], ['programme_events.id'], name=op.f('fk_event_awards_event_id_programme_events')),
    sa.ForeignKeyConstraint(['rule_id'], ['earning_rules.id'], name=op.f('fk_event_awards_rule_id_earning_rules')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_event_awards_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['transaction_id'], ['point_transactions.id'], name=op.f('fk_event_awards_transaction_id_point_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_awards'))
    )
    with op.batch_alter_table('event_awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_awards_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_event_awards_limit', ['member_id', 'rule_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_event_awards_rule', ['tenant_id', 'rule_id', 'created_at'], unique=False)

    op.create_table('revocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('taken_back', sa.BigInteger(), nullable=False),
    sa.Column('cancelled_pending', sa.BigInteger(), nullable=False),
    sa.Column('not_recovered', sa.BigInteger(), nullable=False),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['programme_events.id'], name=op.f('fk_revocations_event_id_programme_events')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_revocations_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revocations'))
    )
    with op.batch_alter_table('revocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revocations_event_id'), ['event_id'], unique=False)

    op.create_table('pending_awards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('award_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('available_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('settled_at', UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('points >= 0', name=op.f('ck_pending_awards_points_non_negative')),
    sa.ForeignKeyConstraint(['award_id'], ['event_awards.id'], name=op.f('fk_pending_awards_award_id_event_awards')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name='fk_pending_awards_tenant_member'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pending_awards_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_awards')),
    sa.UniqueConstraint('award_id', name=op.f('uq_pending_awards_award_id'))
    )
    with op.batch_alter_table('pending_awards', schema=None) as batch_op:
        batch_op.create_index('ix_pending_awards_due', ['available_at', 'id'], unique=False, postgresql_where=sa.text('settled_at IS NULL'), sqlite_where=sa.text('settled_at IS NULL'))
        batch_op.create_index('ix_pending_awards_member', ['member_id'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_points', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))



def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `tenants` or `members`
    # would trip the foreign keys other tables hold to them.
    op.drop_column('tenants', 'timezone')
    op.drop_column('members', 'pending_points')

    with op.batch_alter_table('pending_awards', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_awards_member')
        batch_op.drop_index('ix_pending_awards_due', postgresql_where=sa.text('settled_at IS NULL'), sqlite_where=sa.text('settled_at IS NULL'))

    op.drop_table('pending_awards')
    with op.batch_alter_table('revocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revocations_event_id'))

    op.drop_table('revocations')
    with op.batch_alter_table('event_awards', schema=None) as batch_op:
        batch_op.drop_index('ix_event_awards_rule')
        batch_op.drop_index('ix_event_awards_limit')
        batch_op.drop_index(batch_op.f('ix_event_awards_event_id'))

    op.drop_table('event_awards')
    with op.batch_alter_table('programme_events', schema=None) as batch_op:
        batch_op.drop_index('ix_programme_events_member')

    op.drop_table('programme_events')
    with op.batch_alter_table('earning_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_earning_rules_tenant_event_type')

    op.drop_table('earning_rules')
