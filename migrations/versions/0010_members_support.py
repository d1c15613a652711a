"""members support: phone lookup hash, tenants' default country code, member notes

`members.phone_hash` is the keyed hash (HMAC-SHA256, key derived from the newest
FIELD_ENCRYPTION_KEY, app/services/crypto.py) of the member's number in
international form, read with the tenant's `default_country_code` (default 86);
indexed per tenant like `email_hash`. The upgrade computes it for every existing
member with a phone, with the running configuration's keys (the same ones the
release reads them with), as 0007 does for stored responses; a number no
configured key can read keeps a NULL hash (`flask keys rotate` reports such rows).
Email hashes exist since 0001 and are recomputed here too, so both hashes are
under the newest key when this release starts.

`member_notes`: staff's internal notes, append-only like the ledger (triggers).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:45:00

"""
import hashlib
import hmac
import re

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from app.models.base import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 500
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
members = sa.table("members", sa.column("id", sa.BigInteger), sa.column("tenant_id", sa.BigInteger),
                   sa.column("email_encrypted", sa.Text), sa.column("email_hash", sa.String),
                   sa.column("phone_encrypted", sa.Text), sa.column("phone_hash", sa.String))
tenants = sa.table("tenants", sa.column("id", sa.BigInteger),
                   sa.column("default_country_code", sa.String))
_SEPARATORS = re.compile(r"[\s()\-.]")


# Frozen copies of app/services/crypto.py and contact.py as they are at this
# revision: a migration must compute what this release's code computes, even
# after that code changes.
def _hash_with(key: str, value: str) -> str:
    mac_key = hashlib.sha256(b"jifen-lookup-hash:" + key.encode()).digest()
    return hmac.new(mac_key, value.encode(), hashlib.sha256).hexdigest()


def _international(phone: str, country_code: str):
    raw = _SEPARATORS.sub("", phone)
    if raw.startswith("+"):
        digits = raw[1:]
    elif raw.startswith("00"):
        digits = raw[2:]
    else:
        digits = country_code + (raw[1:] if raw.startswith("0") else raw)
    if not digits.isdigit() or not digits.isascii():
        return None
    return "+" + digits


def _backfill() -> None:
    keys = list(current_app.config["FIELD_ENCRYPTION_KEYS"])
    newest, every_key = keys[0], MultiFernet([Fernet(k) for k in keys])

    def read(token):
        if not token:
            return None
        try:
            return every_key.decrypt(token.encode()).decode()
        except InvalidToken:
            return None

    conn = op.get_bind()
    change = (members.update().where(members.c.id == sa.bindparam("b_id"))
              .values(email_hash=sa.bindparam("b_email"), phone_hash=sa.bindparam("b_phone")))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(members.c.id, members.c.email_encrypted, members.c.phone_encrypted,
                      members.c.email_hash, tenants.c.default_country_code)
            .join(tenants, tenants.c.id == members.c.tenant_id)
            .where(members.c.id > last, sa.or_(members.c.email_encrypted.is_not(None),
                                               members.c.phone_encrypted.is_not(None)))
            .order_by(members.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed = []
        for row in rows:
            email, phone = read(row.email_encrypted), read(row.phone_encrypted)
            international = _international(phone, row.default_country_code) if phone else None
            changed.append({
                "b_id": row.id,
                "b_email": _hash_with(newest, email.strip().lower()) if email else row.email_hash,
                "b_phone": _hash_with(newest, "tel:" + international) if international else None,
            })
        conn.execute(change, changed)
        last = rows[-1].id


def upgrade():
    op.add_column('tenants', sa.Column('default_country_code', sa.String(length=3),
                                       server_default='86', nullable=False))
    op.add_column('members', sa.Column('phone_hash', sa.String(length=64), nullable=True))
    op.create_index('ix_members_tenant_phone_hash', 'members', ['tenant_id', 'phone_hash'],
                    unique=False)
    op.create_table(
        'member_notes',
        sa.Column('id', BigId, nullable=False),
        sa.Column('tenant_id', BigId, nullable=False),
        sa.Column('member_id', sa.BigInteger(), nullable=False),
        sa.Column('author_id', BigId, nullable=True),
        sa.Column('author_label', sa.String(length=254), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'],
                                name=op.f('fk_member_notes_author_id_staff_users')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_member_notes_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'],
                                name='fk_member_notes_tenant_member'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_notes')),
    )
    op.create_index('ix_member_notes_member', 'member_notes', ['tenant_id', 'member_id', 'id'],
                    unique=False)
    _append_only("create")
    _backfill()


def downgrade():
    _append_only("drop")
    op.drop_index('ix_member_notes_member', table_name='member_notes')
    op.drop_table('member_notes')
    op.drop_index('ix_members_tenant_phone_hash', table_name='members')
    op.drop_column('members', 'phone_hash')
    op.drop_column('tenants', 'default_country_code')


def _append_only(action: str) -> None:
    """The notes, like the ledger: no UPDATE, no DELETE (0001's jifen_refuse_change
    on PostgreSQL)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        if action == "create":
            op.execute("CREATE TRIGGER member_notes_append_only BEFORE UPDATE OR DELETE ON "
                       "member_notes FOR EACH ROW EXECUTE FUNCTION jifen_refuse_change()")
        else:
            op.execute("DROP TRIGGER IF EXISTS member_notes_append_only ON member_notes")
    elif dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            if action == "create":
                op.execute(f"CREATE TRIGGER member_notes_no_{event.lower()} BEFORE {event} ON "
                           f"member_notes BEGIN SELECT RAISE(ABORT, 'member_notes is "
                           f"append-only'); END")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS member_notes_no_{event.lower()}")
