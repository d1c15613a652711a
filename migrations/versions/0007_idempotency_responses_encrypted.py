"""idempotency records: encrypt the stored responses kept in clear

A stored response holds the member's profile, email and phone included, which
the members table encrypts. From this release the service stores responses
encrypted with the field-encryption keys (app/services/idempotency.py); this
revision encrypts the ones already stored in clear, under the newest key, so
that none stays readable in the database or in its backups. No schema change.

Responses written in clear by workers still on the old release during a rolling
deploy are replayed as they are; `flask keys rotate` encrypts them, and the
24-hour purge removes them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:30:00

"""
import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BATCH = 500
records = sa.table("idempotency_records", sa.column("id", sa.BigInteger),
                   sa.column("response_body", sa.Text))


def _keys() -> list[str]:
    # The running configuration's keys: the ones the release reads them back with.
    return list(current_app.config["FIELD_ENCRYPTION_KEYS"])


def _rewrite(change, in_clear: bool) -> None:
    """Apply `change` to each stored body, in id order, a batch at a time; a body
    is in clear when it starts like the JSON object it is."""
    conn = op.get_bind()
    body = records.c.response_body
    wanted = body.like("{%") if in_clear else sa.not_(body.like("{%"))
    update = (records.update().where(records.c.id == sa.bindparam("b_id"))
              .values(response_body=sa.bindparam("b_body")))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(records.c.id, body).where(records.c.id > last, body.is_not(None), wanted)
            .order_by(records.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed = [{"b_id": row.id, "b_body": new} for row in rows
                   if (new := change(row.response_body)) is not None]
        if changed:
            conn.execute(update, changed)
        last = rows[-1].id


def upgrade():
    newest = Fernet(_keys()[0])
    _rewrite(lambda text: newest.encrypt(text.encode()).decode(), in_clear=True)


def downgrade():
    every_key = MultiFernet([Fernet(k) for k in _keys()])

    def decrypt(token: str) -> str | None:
        try:
            return every_key.decrypt(token.encode()).decode()
        except InvalidToken:
            return None  # under a key no longer configured: left as it is

    _rewrite(decrypt, in_clear=False)
