"""Secrets at rest: PII encryption, keyed lookup hashes, password and token hashes."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

_hasher = PasswordHasher()


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def _keys() -> tuple[str, ...]:
    return tuple(current_app.config["FIELD_ENCRYPTION_KEYS"])


def encrypt(value: str | None) -> str | None:
    """Encrypt under the newest key (the first of FIELD_ENCRYPTION_KEY)."""
    if value is None or value == "":
        return None
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        # Encrypted under a key no longer configured: unreadable, not fatal.
        return None


def decrypt_strict(token: str | None) -> str | None:
    """Like decrypt, but an unreadable token raises InvalidToken (key rotation
    must not mistake it for an empty field)."""
    if not token:
        return None
    return _fernet(_keys()).decrypt(token.encode()).decode()


def is_current(token: str | None) -> bool:
    """Encrypted under the newest key already (or empty)."""
    if not token:
        return True
    try:
        Fernet(_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str | None) -> str | None:
    """Re-encrypt under the newest key."""
    if not token:
        return token
    return _fernet(_keys()).rotate(token.encode()).decode()


def _hash_with(key: str, value: str) -> str:
    mac_key = hashlib.sha256(b"jifen-lookup-hash:" + key.encode()).digest()
    return hmac.new(mac_key, value.encode(), hashlib.sha256).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hash(email: str | None) -> str | None:
    """Keyed hash for exact lookup, under the newest key."""
    if not email:
        return None
    return _hash_with(_keys()[0], normalise_email(email))


def email_hash_candidates(email: str) -> list[str]:
    """The hash under every configured key, so lookups work mid-rotation."""
    value = normalise_email(email)
    return [_hash_with(k, value) for k in _keys()]


def phone_hash(international: str | None) -> str | None:
    """Keyed hash of a number already in international form (contact.normalise_phone)."""
    if not international:
        return None
    return _hash_with(_keys()[0], "tel:" + international)


def phone_hash_candidates(international: str) -> list[str]:
    return [_hash_with(k, "tel:" + international) for k in _keys()]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify() -> None:
    """Spend the time of a real check, so unknown emails cannot be told apart by timing."""
    verify_password(_dummy_hash(), "not-the-password")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made on first use, not at import: every process (CLI, worker) would pay for it.
    return _hasher.hash("dummy-password-for-timing")


def token_hash(token: str) -> str:
    """Tokens and client secrets are long random strings: a plain SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
