"""Integration credentials. The secret is shown once and stored hashed."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import ApiClient, TokenFamily
from app.services import audit, clock, crypto
from app.services.context import Actor
from app.services.errors import NOT_FOUND, DomainError
from app.services.permissions import parse_permissions
from app.services.uow import transactional
from app.services.validation import FieldErrors, check_text, is_row_id

NAME_MAX = 100
RATE_LIMIT_RE = re.compile(r"^\d{1,9}\s*/\s*(second|minute|hour|day)$")


@dataclass(frozen=True)
class IssuedClient:
    client: ApiClient
    client_secret: str  # only ever available here, at creation


@transactional
def create(tenant_id: int, actor: Actor, *, name: Any, permissions: Any,
           rate_limit: Any = None, created_by_staff_id: int | None = None) -> IssuedClient:
    errors = FieldErrors()
    name = check_text(errors, "name", name, NAME_MAX, required=True)
    try:
        perms = parse_permissions(permissions or "")
    except ValueError as exc:
        errors.add("permissions", str(exc))
        perms = []
    if rate_limit not in (None, "") and (not isinstance(rate_limit, str)
                                         or not RATE_LIMIT_RE.match(rate_limit.strip())):
        errors.add("rate_limit", _("Write a limit like 20000/hour."))
    errors.raise_if_any()
    secret = crypto.new_token(32)
    client = ApiClient(
        tenant_id=tenant_id, name=name, client_id="jf_" + secrets.token_hex(12),
        secret_hash=crypto.token_hash(secret), permissions=",".join(perms),
        rate_limit=(rate_limit or "").replace(" ", "") or None, created_at=clock.now(),
        created_by_staff_id=created_by_staff_id,
    )
    db.session.add(client)
    db.session.flush()
    audit.record(tenant_id, actor, "api_client.create", "api_client", client.id,
                 {"name": name, "client_id": client.client_id, "permissions": perms,
                  "rate_limit": client.rate_limit})
    return IssuedClient(client, secret)


def get(tenant_id: int, client_pk: Any) -> ApiClient:
    client = db.session.get(ApiClient, client_pk) if is_row_id(client_pk) else None
    if client is None or client.tenant_id != tenant_id:
        raise DomainError(NOT_FOUND)
    return client


def list_clients(tenant_id: int) -> list[ApiClient]:
    return list(db.session.execute(
        select(ApiClient).where(ApiClient.tenant_id == tenant_id).order_by(ApiClient.created_at)
    ).scalars())


@transactional
def revoke(tenant_id: int, actor: Actor, client_pk: Any) -> None:
    """Revoke a client and every token issued to it."""
    client = get(tenant_id, client_pk)
    now = clock.now()
    if client.revoked_at is None:
        client.revoked_at = now
        for family in db.session.execute(
            select(TokenFamily).where(TokenFamily.api_client_id == client.id,
                                      TokenFamily.revoked_at.is_(None))
        ).scalars():
            family.revoked_at, family.revoked_reason = now, "client_revoked"
        audit.record(tenant_id, actor, "api_client.revoke", "api_client", client.id,
                     {"client_id": client.client_id})
