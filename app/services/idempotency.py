"""Idempotent writes: one effect per key, whatever the retries and races.

`run()` claims the key with an INSERT in the same transaction as the write. A
concurrent request with the same key blocks on that unique row until the first
commits (then replays its response) or rolls back (then claims the key itself):
two concurrent requests with one key make one effect. A failed request stores
nothing, so it may be retried with its key.

The stored response is encrypted with the field-encryption keys, like members'
email and phone: profiles in it carry both, and nothing holding PII is kept in
clear (nor copied so into backups). One Fernet pass each way costs microseconds;
rebuilding a replay from the ledger instead would cost queries on every replay.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from collections.abc import Callable

from sqlalchemy import bindparam, delete, select, text, update

from app.extensions import db
from app.models import IdempotencyRecord
from app.services import clock, crypto
from app.services.errors import IDEMPOTENCY_KEY_MISMATCH, DomainError
from app.services.uow import transactional

TTL = timedelta(hours=24)
_records = IdempotencyRecord.__table__


@dataclass
class Response:
    """What an operation produced: its status and JSON-able body."""

    status: int
    body: dict[str, Any]


@dataclass
class Stored:
    """The response kept under a key, as every request with that key gets it: the
    first one and each replay alike, byte for byte."""

    status: int
    text: str  # the JSON as stored
    replayed: bool = False

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.text)


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


# Insert the key, or take over a record that has expired, in one statement that
# PostgreSQL and SQLite both read. Written as text: the dialects' upsert
# constructs are rebuilt and recompiled on every call (they are not cacheable).
_CLAIM = text(
    "INSERT INTO idempotency_records (tenant_id, key, fingerprint, created_at) "
    "VALUES (:tenant_id, :key, :fingerprint, :now) "
    "ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
    "created_at = excluded.created_at, status_code = NULL, response_body = NULL "
    "WHERE idempotency_records.created_at < :cutoff RETURNING id"
).bindparams(bindparam("now", type_=_records.c.created_at.type),
             bindparam("cutoff", type_=_records.c.created_at.type))
_STORE = (update(_records)
          .where(_records.c.tenant_id == bindparam("b_tenant"), _records.c.key == bindparam("b_key"))
          .values(status_code=bindparam("status"), response_body=bindparam("body")))


def _claim(tenant_id: int, key: str, fp: str) -> bool:
    """Insert the key; True if this request owns it now."""
    now = clock.now()
    return db.session.execute(_CLAIM, {"tenant_id": tenant_id, "key": key, "fingerprint": fp,
                                       "now": now, "cutoff": now - TTL}).first() is not None


def seal(text: str) -> str:
    """The response as stored: encrypted under the newest key."""
    return crypto.encrypt(text) or ""


def unseal(stored: str) -> str:
    """The response's JSON. A body in clear (it starts like every JSON object) was
    stored by a release before migration 0007, e.g. by a worker still running the
    old code during a rolling deploy: it is replayed as it is, and `flask keys
    rotate` encrypts it (or the 24-hour purge removes it)."""
    if stored.startswith("{"):
        return stored
    return crypto.decrypt_strict(stored) or ""


def _encode(value: Any) -> str:
    """JSON for what json cannot encode: datetimes as ISO 8601 UTC ending in Z."""
    if isinstance(value, datetime):
        return clock.iso_z(value)
    return str(value)


@transactional
def run(tenant_id: int, key: str, fp: str, operation: Callable[[], Response]) -> Stored:
    if _claim(tenant_id, key, fp):
        response = operation()
        stored = json.dumps(response.body, ensure_ascii=False, sort_keys=True, default=_encode)
        db.session.execute(_STORE, {"b_tenant": tenant_id, "b_key": key,
                                    "status": response.status, "body": seal(stored)})
        return Stored(response.status, stored)
    stored = db.session.execute(
        select(_records.c.fingerprint, _records.c.status_code, _records.c.response_body)
        .where(_records.c.tenant_id == tenant_id, _records.c.key == key)
    ).one()
    if stored.fingerprint != fp:
        raise DomainError(IDEMPOTENCY_KEY_MISMATCH, {"idempotency_key": key})
    return Stored(stored.status_code, unseal(stored.response_body), replayed=True)


@transactional
def purge(older_than: timedelta = TTL) -> int:
    result = db.session.execute(
        delete(_records).where(_records.c.created_at < clock.now() - older_than)
    )
    return result.rowcount or 0
