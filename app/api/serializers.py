"""The API's shapes of profiles, transactions, levels and tags (CONTRACT.md)."""
from __future__ import annotations

from typing import Any

from app.services.members import Profile, TagHolding
from app.services.ledger import Outcome, TxView

PROFILE_FIELDS = (
    "user_id", "display_name", "email", "phone", "total_points", "lifetime_points",
    "pending_points", "current_level", "tags", "is_points_enabled", "created_at",
)
TRANSACTION_FIELDS = (
    "id", "user_id", "kind", "points_amount", "balance_after", "category", "reason",
    "expires_at", "created_at", "idempotency_key", "reverses_id",
)


def tag_holding(holding: TagHolding) -> dict[str, Any]:
    return holding.as_dict()


def profile(p: Profile, fields: list[str] | None = None) -> dict[str, Any]:
    full = {
        "user_id": p.user_id,
        "display_name": p.display_name,
        "email": p.email,
        "phone": p.phone,
        "total_points": p.total_points,
        "lifetime_points": p.lifetime_points,
        "pending_points": p.pending_points,
        "current_level": {"id": p.level.id, "level_name": p.level.level_name,
                          "min_points": p.level.min_points} if p.level else None,
        "tags": [tag_holding(t) for t in p.tags],
        "is_points_enabled": p.is_points_enabled,
        "created_at": p.created_at,
    }
    if fields is None:
        return full
    return {name: full[name] for name in fields}


def transaction(tx: TxView) -> dict[str, Any]:
    return tx.as_dict()


def outcome(result: Outcome) -> dict[str, Any]:
    return {"transaction": transaction(result.transaction), "profile": profile(result.profile)}
