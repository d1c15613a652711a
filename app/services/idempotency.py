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
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from collections.abc import Callable

from sqlalchemy import bindparam, delete, select, text, update

from app.database import execute_lean, is_postgres
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
def _claim_statement(prefix: str = "") -> Any:
    """The claim; its parameters' names start with `prefix` (a write's statement
    that claims the key in a WITH takes it with "c_")."""
    p = prefix
    return text(
        "INSERT INTO idempotency_records (tenant_id, key, fingerprint, created_at) "
        f"VALUES (:{p}tenant_id, :{p}key, :{p}fingerprint, :{p}now) "
        "ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
        "created_at = excluded.created_at, status_code = NULL, response_body = NULL "
        f"WHERE idempotency_records.created_at < :{p}cutoff RETURNING id"
    ).bindparams(bindparam(f"{p}now", type_=_records.c.created_at.type),
                 bindparam(f"{p}cutoff", type_=_records.c.created_at.type))


_CLAIM = _claim_statement()
CLAIM_PREFIX = "c_"


def claim_cte() -> Any:
    """The claim as a WITH of a write's own statement (RETURNING the record's id when
    this request owns the key, nothing when another does); records_table is where a
    replay's stored response is."""
    return _claim_statement(CLAIM_PREFIX).columns(id=_records.c.id.type).cte("claim")


records_table = _records
_STORE = (update(_records)
          .where(_records.c.tenant_id == bindparam("b_tenant"), _records.c.key == bindparam("b_key"))
          .values(status_code=bindparam("status"), response_body=bindparam("body")))


@dataclass
class Claim:
    """A key to claim, and whether a write has taken it to claim in its own statement."""

    tenant_id: int
    key: str
    fingerprint: str
    now: datetime
    taken: bool = False

    def parameters(self, prefix: str = "") -> dict[str, Any]:
        """The values of the claim's parameters (`claim_cte`'s with CLAIM_PREFIX)."""
        return {f"{prefix}tenant_id": self.tenant_id, f"{prefix}key": self.key,
                f"{prefix}fingerprint": self.fingerprint, f"{prefix}now": self.now,
                f"{prefix}cutoff": self.now - TTL}


class Unclaimed(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a write that claims the key itself when the key is another request's:
    `run` replays that request's response. `stored`: its record (s_fingerprint,
    s_status_code, s_response_body), if the write's statement could read it."""

    def __init__(self, stored: Any = None) -> None:
        super().__init__("idempotency key already claimed")
        self.stored = stored


_pending: ContextVar[Claim | None] = ContextVar("idempotency_pending_claim", default=None)


def take(tenant_id: int) -> Claim | None:
    """For a write that claims the key in its own first write statement (ledger
    credits on PostgreSQL): the claim `run` has left to it, if any. The write must
    claim it before it writes anything else, and raise `Unclaimed` if the key is
    taken."""
    claim = _pending.get()
    if claim is None or claim.taken or claim.tenant_id != tenant_id:
        return None
    claim.taken = True
    return claim


def claim_now(claim: Claim) -> None:
    """Claim a taken key in a statement of its own (a write's generic path)."""
    if not _claim(claim):
        raise Unclaimed()


def _claim(claim: Claim) -> bool:
    """Insert the key; True if this request owns it now."""
    return db.session.execute(_CLAIM, claim.parameters()).first() is not None


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
def run(tenant_id: int, key: str, fp: str, operation: Callable[[], Response], *,
        claimed_by_write: bool = False) -> Stored:
    """Run `operation` once per key. With `claimed_by_write` (on PostgreSQL), the
    operation's write claims the key in its own statement (see `take`), one round
    trip fewer; a refusal before that claim is checked against the key afterwards,
    so a repeat of an earlier request is still answered with its stored response."""
    claim = Claim(tenant_id, key, fp, clock.now())
    if not (claimed_by_write and is_postgres()):
        if not _claim(claim):
            return _replay(claim)
        return _store(claim, operation())
    token = _pending.set(claim)
    try:
        response = operation()
    except Unclaimed as exc:
        return _replay(claim, exc.stored)
    except DomainError:
        if claim.taken or _claim(claim):
            raise  # this request's own refusal (rolled back with its claim)
        return _replay(claim)
    finally:
        _pending.reset(token)
    if not claim.taken:
        raise RuntimeError("the operation did not claim its idempotency key")
    return _store(claim, response)


def _store(claim: Claim, response: Response) -> Stored:
    stored = json.dumps(response.body, ensure_ascii=False, sort_keys=True, default=_encode)
    execute_lean(_STORE, {"b_tenant": claim.tenant_id, "b_key": claim.key,
                          "status": response.status, "body": seal(stored)})
    return Stored(response.status, stored)


def _replay(claim: Claim, stored: Any = None) -> Stored:
    """The stored response of the request that owns the key."""
    if stored is None:
        stored = db.session.execute(
            select(_records.c.fingerprint.label("s_fingerprint"),
                   _records.c.status_code.label("s_status_code"),
                   _records.c.response_body.label("s_response_body"))
            .where(_records.c.tenant_id == claim.tenant_id, _records.c.key == claim.key)
        ).one()
    if stored.s_fingerprint != claim.fingerprint:
        raise DomainError(IDEMPOTENCY_KEY_MISMATCH, {"idempotency_key": claim.key})
    return Stored(stored.s_status_code, unseal(stored.s_response_body), replayed=True)


@transactional
def purge(older_than: timedelta = TTL) -> int:
    result = db.session.execute(
        delete(_records).where(_records.c.created_at < clock.now() - older_than)
    )
    return result.rowcount or 0
