"""Integration authentication: client credentials → access + refresh tokens.

- The access token is a signed JWT (HS256, a key derived from SECRET_KEY) that
  carries the tenant, the client, its permissions and its token family. Checking
  it costs one query: is the client or the family revoked?
- The refresh token is random, stored only as its SHA-256, and rotates: each use
  kills it and issues a new one in the same family. Presenting a dead one again
  means it was copied, so the whole family (and every access token issued from
  it) is revoked, and the reuse is audited.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import bindparam, insert, select, update

from app import caches
from app.database import execute_before_transaction
from app.extensions import db
from app.models import ApiClient, RefreshToken, Tenant, TokenFamily
from app.services import audit, cache_invalidation, clock, crypto
from app.services.context import Actor
from app.services.errors import INVALID_CLIENT, INVALID_TOKEN, DomainError
from app.services.uow import transactional

ALGORITHM = "HS256"
ISSUER = "jifen"
REFRESH_PREFIX = "jfr_"
_families = TokenFamily.__table__
_refresh = RefreshToken.__table__
_clients = ApiClient.__table__
# Compared against when the client id is unknown, so both paths cost the same.
_DUMMY_HASH = crypto.token_hash("no-such-client")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int

    def as_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer",
                "expires_in": self.expires_in, "refresh_token": self.refresh_token,
                "refresh_expires_in": self.refresh_expires_in}


@dataclass(frozen=True)
class Principal:
    """Who an access token speaks for. The tenant comes from here and nowhere else."""

    tenant_id: int
    client_pk: int
    client_name: str
    permissions: frozenset[str]
    family_id: str
    rate_limit: str | None
    expires_at: datetime


def _signing_key() -> bytes:
    # A key of its own, derived from SECRET_KEY: a token signed for one purpose
    # (a session cookie, say) can never pass as an access token.
    return _derive_signing_key(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _derive_signing_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"jifen-api-access-token-v1", hashlib.sha256).digest()


def _access_ttl() -> int:
    return int(current_app.config.get("ACCESS_TOKEN_TTL_SECONDS", 900))


def _refresh_ttl() -> int:
    return int(current_app.config.get("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600))


def _invalid_token(expired: bool = False, expiry: datetime | None = None,
                   refresh_available: bool = False) -> DomainError:
    return DomainError(INVALID_TOKEN, {"token_expired": expired, "expiry_time": expiry,
                                       "refresh_token_available": refresh_available})


def _encode_access(client: Any, family_id: str, now: datetime) -> str:
    """`client`: an ApiClient or a row of api_clients."""
    claims = {
        "iss": ISSUER, "typ": "access", "sub": str(client.id), "tid": client.tenant_id,
        "perms": [p for p in client.permissions.split(",") if p],
        "fam": family_id, "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + _access_ttl(),
    }
    return jwt.encode(claims, _signing_key(), algorithm=ALGORITHM)


def _new_refresh(family_id: str, now: datetime) -> str:
    token = REFRESH_PREFIX + crypto.new_token(32)
    db.session.execute(insert(_refresh).values(
        family_id=family_id, token_hash=crypto.token_hash(token), created_at=now,
        expires_at=now + timedelta(seconds=_refresh_ttl()),
    ))
    return token


def _pair(client: Any, family_id: str, now: datetime) -> TokenPair:
    return TokenPair(_encode_access(client, family_id, now), _access_ttl(),
                     _new_refresh(family_id, now), _refresh_ttl())


# --------------------------------------------------------------------------- grants

def issue(client_id: Any, client_secret: Any, actor: Actor) -> TokenPair:
    """Client-credentials grant. Wrong id, wrong secret and revoked client all
    answer INVALID_CLIENT; the failed attempt is audited (and kept)."""
    result = _issue(client_id, client_secret, actor)
    if isinstance(result, TokenPair):
        return result
    _record_failure(result, client_id, actor)
    raise DomainError(INVALID_CLIENT)


@transactional
def _issue(client_id: Any, client_secret: Any, actor: Actor) -> TokenPair | int | None:
    """The pair, or the tenant id (None if unknown) of a failed attempt."""
    client = None
    if isinstance(client_id, str) and 0 < len(client_id) <= 64 and "\x00" not in client_id:
        client = db.session.execute(
            select(ApiClient).where(ApiClient.client_id == client_id)
        ).scalar_one_or_none()
    secret = client_secret if isinstance(client_secret, str) else ""
    matches = crypto.constant_time_equals(
        crypto.token_hash(secret), client.secret_hash if client is not None else _DUMMY_HASH)
    if client is None or not matches or client.revoked_at is not None:
        return client.tenant_id if client is not None else None
    now = clock.now()
    family_id = str(uuid.uuid4())
    db.session.execute(insert(_families).values(id=family_id, api_client_id=client.id,
                                                created_at=now))
    client.last_used_at = now
    pair = _pair(client, family_id, now)
    audit.record(client.tenant_id, _as_client(actor, client), "api.token_issue", "api_client",
                 client.id, {"client_id": client.client_id, "family_id": family_id}, at=now)
    return pair


@transactional
def _record_failure(tenant_id: int | None, client_id: Any, actor: Actor) -> None:
    # Kept for the audit trail as sent, except NUL, which PostgreSQL text cannot hold.
    label = client_id[:64].replace("\x00", "\ufffd") if isinstance(client_id, str) else ""
    audit.record(tenant_id, Actor("anonymous", None, label, actor.ip, actor.user_agent,
                                  actor.request_id),
                 "api.token_denied", "api_client", label, {"client_id": label})


def _as_client(actor: Actor, client: Any) -> Actor:
    return Actor("api_client", client.id, client.name, actor.ip, actor.user_agent,
                 actor.request_id)


def refresh(refresh_token: Any, actor: Actor) -> TokenPair:
    """Rotate: the presented token dies, a new pair is issued in its family."""
    outcome = _refresh_once(refresh_token, actor)
    if isinstance(outcome, TokenPair):
        return outcome
    raise outcome


@transactional
def _refresh_once(refresh_token: Any, actor: Actor) -> TokenPair | DomainError:
    """Returns (not raises) the refusal, so a revocation for reuse is committed."""
    if not isinstance(refresh_token, str) or not 0 < len(refresh_token) <= 256:
        return _invalid_token()
    now = clock.now()
    digest = crypto.token_hash(refresh_token)
    # Marking it used and reading it is one statement: of two concurrent uses of
    # one token, exactly one gets the row back.
    used = db.session.execute(
        update(_refresh).where(_refresh.c.token_hash == digest, _refresh.c.used_at.is_(None),
                               _refresh.c.expires_at > now)
        .values(used_at=now).returning(_refresh.c.family_id)
    ).first()
    if used is None:
        return _refused(digest, now, actor)
    row = db.session.execute(
        select(_clients.c.id, _clients.c.tenant_id, _clients.c.name, _clients.c.permissions,
               _clients.c.revoked_at, _families.c.revoked_at.label("family_revoked_at"))
        .join(_clients, _clients.c.id == _families.c.api_client_id)
        .where(_families.c.id == used.family_id)
    ).one()
    if row.revoked_at is not None or row.family_revoked_at is not None:
        return _invalid_token()
    pair = _pair(row, used.family_id, now)
    audit.record(row.tenant_id, _as_client(actor, row), "api.token_refresh", "api_client",
                 row.id, {"family_id": used.family_id}, at=now)
    return pair


def _refused(digest: str, now: datetime, actor: Actor) -> DomainError:
    known = db.session.execute(
        select(_refresh.c.family_id, _refresh.c.used_at, _refresh.c.expires_at,
               _families.c.revoked_at, _clients.c.id, _clients.c.tenant_id, _clients.c.name)
        .join(_families, _families.c.id == _refresh.c.family_id)
        .join(_clients, _clients.c.id == _families.c.api_client_id)
        .where(_refresh.c.token_hash == digest)
    ).first()
    if known is None:
        return _invalid_token()
    if known.used_at is None:  # unused, so it ran out of time
        return _invalid_token(expired=True, expiry=known.expires_at)
    if known.revoked_at is None:
        revoke_family(known.family_id, "refresh_token_reuse", now)
        client_actor = Actor("api_client", known.id, known.name, actor.ip, actor.user_agent,
                             actor.request_id)
        audit.record(known.tenant_id, client_actor, "api.refresh_token_reuse", "api_client",
                     known.id, {"family_id": known.family_id}, at=now)
    return _invalid_token()


@transactional
def revoke_family(family_id: str, reason: str, now: datetime | None = None) -> None:
    db.session.execute(
        update(_families).where(_families.c.id == family_id, _families.c.revoked_at.is_(None))
        .values(revoked_at=now or clock.now(), revoked_reason=reason[:64])
    )


# --------------------------------------------------------------------------- per request

_tenants = Tenant.__table__
_PRINCIPAL = (  # built once; sent as its SQL text on PostgreSQL (database.py)
    select(_tenants.c.catalogue_version, _clients.c.name, _clients.c.rate_limit,
           _clients.c.revoked_at, _families.c.revoked_at.label("family_revoked_at"))
    .select_from(_families)
    .join(_clients, _clients.c.id == _families.c.api_client_id)
    .join(_tenants, _tenants.c.id == _clients.c.tenant_id)
    .where(_families.c.id == bindparam("family_id"), _clients.c.id == bindparam("client_pk"),
           _clients.c.tenant_id == bindparam("tenant_id"))
)


@dataclass(frozen=True)
class _Verified:
    """What a token's signature vouches for, once checked."""

    signing_key: bytes
    client_pk: int
    tenant_id: int
    family_id: str
    permissions: frozenset[str]
    expires_at: datetime


# Access tokens this process has verified, by the whole token (its signature and
# what the signature covers): the signature check and the claims' parsing are
# done once per token and process, not on every request. An entry holds only what
# the token itself says; whether its client or family has been revoked (and the
# tenant's catalogue version) is still read from the database on every request,
# so a revocation takes effect on the next request, in every process. An entry
# counts only under the key it was verified with (SECRET_KEY may change), and
# expiry is checked against the clock on every use.
_verified: dict[str, _Verified] = caches.register({})
VERIFIED_MAX = 4096  # entries per process (a token is under 1 KB)


def _remember(token: str, verified: _Verified) -> None:
    if len(_verified) >= VERIFIED_MAX:
        now = clock.now()
        for key, entry in list(_verified.items()):
            if entry.expires_at <= now:
                _verified.pop(key, None)
        if len(_verified) >= VERIFIED_MAX:  # all alive: start again rather than grow
            _verified.clear()
    _verified[token] = verified


def _verify(token: str, signing_key: bytes) -> _Verified:
    try:
        claims = jwt.decode(
            token, signing_key, algorithms=[ALGORITHM], issuer=ISSUER,
            # Time is checked by the caller against the service clock (which tests move).
            options={"require": ["exp", "iat", "sub", "tid", "fam", "perms"],
                     "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
        client_pk, tenant_id = int(claims["sub"]), claims["tid"]
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        family_id, perms = claims["fam"], claims["perms"]
        if claims.get("typ") != "access" or not isinstance(tenant_id, int) \
                or not isinstance(family_id, str) or not isinstance(perms, list):
            raise ValueError
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError):
        raise _invalid_token() from None
    return _Verified(signing_key, client_pk, tenant_id, family_id,
                     frozenset(str(p) for p in perms), expires_at)


def authenticate(token: str) -> Principal:
    """The principal of a bearer token, or INVALID_TOKEN."""
    signing_key = _signing_key()
    verified = _verified.get(token)
    if verified is None or verified.signing_key != signing_key:
        verified = _verify(token, signing_key)
        _remember(token, verified)
    client_pk, tenant_id, family_id = verified.client_pk, verified.tenant_id, verified.family_id
    expires_at = verified.expires_at
    if expires_at <= clock.now():
        raise _invalid_token(expired=True, expiry=expires_at,
                             refresh_available=_family_alive(family_id, client_pk))
    # The one query of every request: revocation, and the tenant's catalogue
    # version (which keys its cached levels and VIP tags). Outside a transaction
    # when it is the request's first (on PostgreSQL): a read that finds the rest
    # cached then makes one round trip, not three. It no longer loads the ORM
    # tenant (a third of the check's CPU): the few services that want that
    # object (a spend, an event preview) read it by primary key.
    rows = execute_before_transaction(_PRINCIPAL, {"family_id": family_id,
                                                   "client_pk": client_pk, "tenant_id": tenant_id})
    row = rows[0] if rows else None
    if row is None or row.revoked_at is not None or row.family_revoked_at is not None:
        raise _invalid_token()
    cache_invalidation.note_version(tenant_id, row.catalogue_version)
    return Principal(tenant_id, client_pk, row.name, verified.permissions,
                     family_id, row.rate_limit, expires_at)


def _family_alive(family_id: Any, client_pk: int) -> bool:
    """Whether an expired token's family can still be refreshed (the hint in
    INVALID_TOKEN's details)."""
    if not isinstance(family_id, str):
        return False
    row = db.session.execute(
        select(_families.c.revoked_at, _clients.c.revoked_at.label("client_revoked_at"))
        .join(_clients, _clients.c.id == _families.c.api_client_id)
        .where(_families.c.id == family_id, _clients.c.id == client_pk)
    ).first()
    return row is not None and row.revoked_at is None and row.client_revoked_at is None
