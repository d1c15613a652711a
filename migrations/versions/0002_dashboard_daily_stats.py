"""dashboard daily stats: closed days of the ledger, summed once per tenant

The dashboard reads these rows for every day but the open one, so no page view
has to scan the ledger (app/services/dashboard.py fills them).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 03:17:29.934544

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dashboard_daily_stats',
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('earned', sa.BigInteger(), nullable=False),
    sa.Column('spent', sa.BigInteger(), nullable=False),
    sa.Column('expired', sa.BigInteger(), nullable=False),
    sa.Column('adjusted_in', sa.BigInteger(), nullable=False),
    sa.Column('adjusted_out', sa.BigInteger(), nullable=False),
    sa.Column('reversed_in', sa.BigInteger(), nullable=False),
    sa.Column('reversed_out', sa.BigInteger(), nullable=False),
    sa.Column('transactions', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('adjusted_in >= 0', name=op.f('ck_dashboard_daily_stats_adjusted_in_non_negative')),
    sa.CheckConstraint('adjusted_out >= 0', name=op.f('ck_dashboard_daily_stats_adjusted_out_non_negative')),
    sa.CheckConstraint('earned >= 0', name=op.f('ck_dashboard_daily_stats_earned_non_negative')),
    sa.CheckConstraint('expired >= 0', name=op.f('ck_dashboard_daily_stats_expired_non_negative')),
    sa.CheckConstraint('reversed_in >= 0', name=op.f('ck_dashboard_daily_stats_reversed_in_non_negative')),
    sa.CheckConstraint('reversed_out >= 0', name=op.f('ck_dashboard_daily_stats_reversed_out_non_negative')),
    sa.CheckConstraint('spent >= 0', name=op.f('ck_dashboard_daily_stats_spent_non_negative')),
    sa.CheckConstraint('transactions >= 0', name=op.f('ck_dashboard_daily_stats_transactions_non_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dashboard_daily_stats_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'day', name=op.f('pk_dashboard_daily_stats'))
    )


def downgrade():
    op.drop_table('dashboard_daily_stats')
