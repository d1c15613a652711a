"""Roles, permissions, and the one check every entry point uses."""
from __future__ import annotations

from collections.abc import Iterable

from app.services.errors import INSUFFICIENT_PERMISSIONS, DomainError

VIEW = "can_view_points"
EARN = "can_earn_points"
SPEND = "can_spend_points"
ADJUST = "can_adjust_points"
MANAGE = "can_manage_points"
# Owner-only powers (the seed names only the five above; these complete "owner: all").
MANAGE_STAFF = "can_manage_staff"
MANAGE_API_CLIENTS = "can_manage_api_clients"

POINT_PERMISSIONS = (VIEW, EARN, SPEND, ADJUST, MANAGE)
ALL_PERMISSIONS = POINT_PERMISSIONS + (MANAGE_STAFF, MANAGE_API_CLIENTS)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(ALL_PERMISSIONS),
    "admin": frozenset(POINT_PERMISSIONS),
    "support": frozenset({VIEW, EARN, ADJUST}),
    "viewer": frozenset({VIEW}),
}


def for_role(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def require(held: Iterable[str], *needed: str) -> None:
    held_set = set(held)
    missing = [p for p in needed if p not in held_set]
    if missing:
        raise DomainError(INSUFFICIENT_PERMISSIONS, {
            "required_permissions": list(needed),
            "user_permissions": sorted(held_set),
            "missing_permissions": missing,
        })


def parse_permissions(raw: str | Iterable[str]) -> list[str]:
    """Validate a list of API-client permissions (the five point permissions)."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    cleaned = [p.strip() for p in items if p and p.strip()]
    unknown = [p for p in cleaned if p not in POINT_PERMISSIONS]
    if unknown or not cleaned:
        raise ValueError(
            f"permissions must be some of {', '.join(POINT_PERMISSIONS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return sorted(set(cleaned), key=POINT_PERMISSIONS.index)
