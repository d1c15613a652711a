"""A secret shown once, on the page a create redirects to (post-redirect-get).

It waits in the session, encrypted with the field keys (the session is a signed
cookie, readable by whoever holds it), bound to the tenant and the object it
belongs to, and the page that shows it takes it out. Never in a URL, a log
line or, in clear, the database."""
from __future__ import annotations

from flask import session

from app.services import crypto


def keep(kind: str, tenant_id: int, object_id: int, secret: str) -> None:
    session[f"jifen_once_{kind}"] = {"tenant_id": tenant_id, "id": object_id,
                                     "secret": crypto.encrypt(secret)}


def take(kind: str, tenant_id: int, object_id: int | None = None) -> tuple[int, str] | None:
    """The kept (object id, secret), if it belongs to this tenant (and object);
    gone from the session either way."""
    kept = session.pop(f"jifen_once_{kind}", None)
    if not isinstance(kept, dict) or kept.get("tenant_id") != tenant_id:
        return None
    if object_id is not None and kept.get("id") != object_id:
        return None
    secret = crypto.decrypt(kept.get("secret"))
    return (kept["id"], secret) if secret and isinstance(kept.get("id"), int) else None
