"""What an event and its awards look like to callers: the views `record`,
`preview`, `get` and `revoke` answer with, and how rows become them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.services import members
from app.services.programme.evaluation import Line
from app.services.programme.event_input import EventBody

@dataclass
class AwardView:
    rule_id: int
    rule_name: str
    points: int
    status: str
    available_at: datetime
    transaction_id: int | None = None
    revoked_points: int = 0
    category: str = ""
    id: int | None = None


@dataclass(frozen=True)
class EventView(EventBody):
    points_awarded: int
    refunded_amount: Decimal = Decimal("0.00")
    revoked: bool = False
    created_at: datetime | None = None
    id: int | None = None

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        return "partially_revoked" if self.refunded_amount else "recorded"

    def as_dict(self) -> dict[str, Any]:
        """The event as integrations see it (the API, the event.revoked webhook)."""
        return {"event_id": self.event_id, "user_id": self.user_id,
                "event_type": self.event_type, "amount": money_text(self.amount),
                "occurred_at": self.occurred_at, "attributes": self.attributes,
                "points_awarded": self.points_awarded,
                "refunded_amount": money_text(self.refunded_amount), "status": self.status,
                "created_at": self.created_at}


def money_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass
class EventOutcome:
    event: EventView
    awards: list[AwardView]
    profile: members.Profile | None
    lines: list[Line] = field(default_factory=list)
    preview: bool = False

    @property
    def points_awarded(self) -> int:
        return sum(a.points for a in self.awards)


@dataclass(frozen=True)
class Recorded:
    """The answer to a POST: `text` as first rendered, and whether this is a repeat."""

    text: str
    replayed: bool
    outcome: EventOutcome | None = None


def event_view(row: Any, user_id: str) -> EventView:
    return EventView(row.event_id, user_id, row.event_type, row.amount, row.occurred_at,
                     row.attributes or {}, row.points_awarded, row.refunded_amount or
                     Decimal("0.00"), row.revoked, row.created_at, row.id)


def award_view(row: Any) -> AwardView:
    return AwardView(row.rule_id, row.rule_name, row.points, row.status, row.available_at,
                     row.transaction_id, row.revoked_points,
                     (row.rule_values or {}).get("category", ""), row.id)
