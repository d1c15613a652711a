"""A member's contact details: phone numbers in international form, the keyed
lookup hashes, the masks lists show, and the one writer of the contact columns.

Email and phone stay encrypted (Fernet, newest FIELD_ENCRYPTION_KEY first); an
exact search goes through an HMAC of the normalised value, keyed by the newest
key. Lookups try the hash under every configured key, so they keep working while
keys rotate, and `flask keys rotate` recomputes the hashes under the new key
(services/pii_keys.py)."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import Member
from app.services import crypto
from app.services.validation import FieldErrors

DEFAULT_COUNTRY_CODE = "86"
_COUNTRY_CODE_RE = re.compile(r"^[1-9][0-9]{0,2}$")
# What people put between digits: '+86 138 0000 0000', '138-0000-0000', '(010) 1234.5678'.
_SEPARATORS = re.compile(r"[\s()\-.]")
# A query that is only a number (and separators) may be a phone number.
_PHONE_QUERY_RE = re.compile(r"^\+?[0-9\s()\-.]+$")
MIN_PHONE_QUERY_DIGITS = 5
_REHASH_BATCH = 500
_members = Member.__table__


def check_country_code(errors: FieldErrors, value: Any) -> str | None:
    """A calling code of 1-3 digits without the + (86 for China, 1 for the US)."""
    if isinstance(value, str):
        value = value.strip().removeprefix("+")
    if not isinstance(value, str) or not _COUNTRY_CODE_RE.match(value):
        errors.add("default_country_code",
                   _("Enter a country calling code of 1 to 3 digits, such as 86."))
        return None
    return value


def normalise_phone(phone: str | None, country_code: str) -> str | None:
    """The number in international form: '+86 138 0000 0000', '0086 138 0000 0000',
    '138-0000-0000' and '13800000000' (country code 86) are all '+8613800000000'.
    A number starting with + or 00 names its own country; any other is national:
    one leading trunk 0 is dropped and `country_code` put in front."""
    if not phone:
        return None
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


def columns(country_code: str, email: str | None, phone: str | None) -> dict[str, Any]:
    """The members columns that hold `email` and `phone`: every write of them goes
    through here, so a value and its lookup hash never disagree."""
    return {
        "email_encrypted": crypto.encrypt(email), "email_hash": crypto.email_hash(email),
        "phone_encrypted": crypto.encrypt(phone),
        "phone_hash": crypto.phone_hash(normalise_phone(phone, country_code)),
    }


def phone_hash_of(phone: str | None, country_code: str) -> str | None:
    """The hash a stored number has under the newest key (key rotation)."""
    return crypto.phone_hash(normalise_phone(phone, country_code))


def phone_query_hashes(q: str, country_code: str) -> list[str]:
    """The hashes a search text matches as a phone number (under every key), or
    none when it does not look like one."""
    if not _PHONE_QUERY_RE.match(q) or sum(c.isdigit() for c in q) < MIN_PHONE_QUERY_DIGITS:
        return []
    international = normalise_phone(q, country_code)
    return crypto.phone_hash_candidates(international) if international else []


def rehash_phones(tenant_id: int, country_code: str) -> int:
    """Recompute the tenant's phone hashes after its default country code changed
    (a national number now means another international one). Joins the caller's
    transaction; returns how many members have a phone."""
    last_id, seen = 0, 0
    change = (update(_members).where(_members.c.id == bindparam("m_id"))
              .values(phone_hash=bindparam("m_hash")))
    while True:
        rows = db.session.execute(
            select(_members.c.id, _members.c.phone_encrypted)
            .where(_members.c.tenant_id == tenant_id, _members.c.id > last_id,
                   _members.c.phone_encrypted.is_not(None))
            .order_by(_members.c.id).limit(_REHASH_BATCH)).all()
        if not rows:
            return seen
        seen += len(rows)
        db.session.execute(change, [
            {"m_id": r.id, "m_hash": phone_hash_of(crypto.decrypt(r.phone_encrypted),
                                                   country_code)} for r in rows])
        last_id = rows[-1].id


def mask_email(email: str | None) -> str:
    """'alice@example.com' -> 'a***@example.com': enough to confirm on the phone."""
    if not email:
        return ""
    local, _at, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def mask_phone(phone: str | None, country_code: str) -> str:
    """'13800000000' (country code 86) -> '+86 138****0000'."""
    if not phone:
        return ""
    international = normalise_phone(phone, country_code)
    if international is None:
        return "***"
    digits = international[1:]
    prefix = "+"
    if digits.startswith(country_code) and len(digits) > len(country_code):
        prefix, digits = f"+{country_code} ", digits[len(country_code):]
    if len(digits) >= 8:
        return prefix + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return prefix + "*" * max(len(digits) - 2, 1) + digits[-2:]
