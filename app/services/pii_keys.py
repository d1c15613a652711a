"""Re-encrypt members' PII, and the stored idempotent responses that carry it,
under the newest FIELD_ENCRYPTION_KEY.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (old keys after it),
deploy, run `flask keys rotate`, then drop the old keys. Until the command has
run, reads still work (MultiFernet tries every key) and email and phone lookups
try the hash under every key; the command recomputes both hashes under the new
key, so the old keys can then go."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from cryptography.fernet import InvalidToken
from sqlalchemy import select, update

from app.extensions import db
from app.models import IdempotencyRecord, Member, Tenant
from app.services import contact, crypto, idempotency
from app.services.uow import transactional

_members = Member.__table__
_records = IdempotencyRecord.__table__
_tenants = Tenant.__table__


@dataclass
class RotationReport:
    members: int = 0        # rows looked at
    reencrypted: int = 0    # rows rewritten under the newest key
    unreadable: int = 0     # rows with a field no configured key can decrypt (left as is)
    changed_meanwhile: int = 0  # rows edited during the run: already under the newest key
    responses: int = 0      # stored idempotent responses rewritten (rotated, or encrypted)
    unreadable_responses: int = 0  # under a key no longer configured (left as is)


def rotate_all(batch_size: int = 500,
               progress: Callable[[RotationReport], Any] | None = None) -> RotationReport:
    """Every member, then every stored response, in id order, one transaction per batch."""
    report = RotationReport()
    last_id = 0
    while True:
        ids = list(db.session.execute(
            select(_members.c.id).where(_members.c.id > last_id)
            .order_by(_members.c.id).limit(batch_size)
        ).scalars())
        db.session.commit()
        if not ids:
            break
        _rotate_batch(ids, report)
        last_id = ids[-1]
        if progress is not None:
            progress(report)
    _rotate_responses(batch_size, report)
    return report


def _rotate_responses(batch_size: int, report: RotationReport) -> None:
    """Stored responses live 24 hours, but one written under a key that is then
    dropped could no longer be replayed; those written in clear by a release
    before migration 0007 are encrypted here too."""
    last_id = 0
    while True:
        rows = db.session.execute(
            select(_records.c.id, _records.c.response_body)
            .where(_records.c.id > last_id, _records.c.response_body.is_not(None))
            .order_by(_records.c.id).limit(min(batch_size, 100))  # a body can be 1 MiB
        ).all()
        db.session.commit()
        if not rows:
            return
        _rotate_response_batch(rows, report)
        last_id = rows[-1].id


@transactional
def _rotate_response_batch(rows: list[Any], report: RotationReport) -> None:
    for row in rows:
        if not row.response_body.startswith("{") and crypto.is_current(row.response_body):
            continue
        try:
            sealed = idempotency.seal(idempotency.unseal(row.response_body))
        except InvalidToken:
            report.unreadable_responses += 1
            continue
        # Compare-and-set, as for members: a record taken over meanwhile is current.
        if db.session.execute(update(_records).where(
                _records.c.id == row.id, _records.c.response_body == row.response_body,
        ).values(response_body=sealed)).rowcount:
            report.responses += 1


@transactional
def _rotate_batch(ids: list[int], report: RotationReport) -> None:
    rows = db.session.execute(
        select(_members.c.id, _members.c.email_encrypted, _members.c.phone_encrypted,
               _members.c.email_hash, _members.c.phone_hash, _tenants.c.default_country_code)
        .join(_tenants, _tenants.c.id == _members.c.tenant_id).where(_members.c.id.in_(ids))
    ).all()
    for row in rows:
        report.members += 1
        try:
            email = crypto.decrypt_strict(row.email_encrypted)
            phone = crypto.decrypt_strict(row.phone_encrypted)
            # Fernet tokens differ on every encryption: rewrite only what the newest
            # key cannot read, so a second run changes nothing.
            new_email = row.email_encrypted if crypto.is_current(row.email_encrypted) \
                else crypto.rotate(row.email_encrypted)
            new_phone = row.phone_encrypted if crypto.is_current(row.phone_encrypted) \
                else crypto.rotate(row.phone_encrypted)
        except InvalidToken:
            report.unreadable += 1
            continue
        new_hash = crypto.email_hash(email)
        new_phone_hash = contact.phone_hash_of(phone, row.default_country_code)
        if (new_email, new_phone, new_hash, new_phone_hash) == (
                row.email_encrypted, row.phone_encrypted, row.email_hash, row.phone_hash):
            continue
        # Compare-and-set: a member edited since we read it was written under the
        # newest key already, and must not be overwritten with older values.
        result = db.session.execute(
            update(_members).where(
                _members.c.id == row.id,
                _members.c.email_encrypted.is_(None) if row.email_encrypted is None
                else _members.c.email_encrypted == row.email_encrypted,
                _members.c.phone_encrypted.is_(None) if row.phone_encrypted is None
                else _members.c.phone_encrypted == row.phone_encrypted,
            ).values(email_encrypted=new_email, phone_encrypted=new_phone, email_hash=new_hash,
                     phone_hash=new_phone_hash)
        )
        if result.rowcount:
            report.reencrypted += 1
        else:
            report.changed_meanwhile += 1
