"""Read-only questions about ledger entries that the portal asks."""
from __future__ import annotations

from sqlalchemy import Row

from app.services import ledger
from app.services.errors import NOT_FOUND, DomainError


def of_member(tenant_id: int, user_id: str, transaction_id: int) -> Row:
    """A member's transaction, or NOT_FOUND (also when it is another member's)."""
    row = ledger.get_transaction(tenant_id, transaction_id)
    if row.user_id != user_id:
        raise DomainError(NOT_FOUND)
    return row
