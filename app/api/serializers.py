"""The API's shapes of profiles, transactions, levels and tags (CONTRACT.md)."""
from __future__ import annotations

from typing import Any

from app.services import members
from app.services.members import Profile, TagHolding
from app.services.ledger import Outcome, TxView

PROFILE_FIELDS = members.PROFILE_FIELDS
TRANSACTION_FIELDS = (
    "id", "user_id", "kind", "points_amount", "balance_after", "category", "reason",
    "expires_at", "created_at", "idempotency_key", "reverses_id",
)


def tag_holding(holding: TagHolding) -> dict[str, Any]:
    return holding.as_dict()


def profile(p: Profile, fields: list[str] | None = None) -> dict[str, Any]:
    return p.as_dict(fields)


def transaction(tx: TxView) -> dict[str, Any]:
    return tx.as_dict()


def outcome(result: Outcome) -> dict[str, Any]:
    return {"transaction": transaction(result.transaction), "profile": profile(result.profile)}
