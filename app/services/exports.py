"""Downloads of a tenant's data are audited like changes: who took what, with
which filters, how many rows, and whether the download ran to its end."""
from __future__ import annotations

import re
from typing import Any

from app.services import audit
from app.services.context import Actor
from app.services.uow import transactional

_EMAIL = re.compile(r"^([^@\s])[^@\s]*(@.+)$")
_PHONE_LIKE = re.compile(r"^\+?[0-9 ()\-]{3,}$")


def masked(text: str) -> str:
    """A filter as the audit log keeps it: an email or phone number searched for
    is contact data, kept masked ('a***@example.com', '***0000'); anything else as is."""
    email = _EMAIL.match(text)
    if email:
        return f"{email.group(1)}***{email.group(2)}"
    if _PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        return "***" + digits[-4:]
    return text


@transactional
def record(tenant_id: int, actor: Actor, what: str, *, filters: dict[str, Any], rows: int,
           columns: list[str], complete: bool) -> None:
    """One audit row for one download of `what` (e.g. "members")."""
    kept = {name: masked(value) if isinstance(value, str) else value
            for name, value in filters.items() if value not in (None, "")}
    audit.record(tenant_id, actor, f"export.{what}", "export", what,
                 {"filters": kept, "rows": rows, "columns": columns, "complete": complete})
