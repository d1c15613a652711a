"""The maintenance window: while it is on, the API answers 503
SERVICE_UNAVAILABLE and the portal shows a maintenance page. Stored in
`system_settings`, so every worker and every host sees the same window."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.extensions import db
from app.models import SystemSetting
from app.services import audit, clock
from app.services.context import Actor
from app.services.errors import ValidationFailed
from app.services.uow import transactional

KEY = "maintenance"
MESSAGE_MAX = 500
LONGEST_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    message: str = ""

    def is_active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends, at least 1."""
        return max(1, math.ceil((self.end - now).total_seconds()))

    @property
    def estimated_downtime(self) -> str:
        return humanise(self.end - self.start)


def humanise(span: timedelta) -> str:
    """'2 hours', '1 hour 30 minutes', '45 minutes': the seed's estimated_downtime."""
    minutes = max(1, math.ceil(span.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if value:
            parts.append(f"{value} {unit}{'s' if value != 1 else ''}")
    return " ".join(parts)


def _parse(value: str) -> Window | None:
    try:
        data = json.loads(value)
        return Window(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]),
                      data.get("message") or "")
    except (ValueError, KeyError, TypeError):
        return None  # a hand-edited row must not take the service down


def stored() -> Window | None:
    """The stored window, whether or not it is active now."""
    value = db.session.execute(select(SystemSetting.value).where(SystemSetting.key == KEY)).scalar()
    return _parse(value) if value is not None else None


def current(now: datetime | None = None) -> Window | None:
    """The window in force now, or None. A window ends by itself at its end."""
    window = stored()
    if window is None or not window.is_active(now or clock.now()):
        return None
    return window


def parse_until(text: Any) -> datetime:
    """An ISO 8601 time; without an offset it is taken as UTC."""
    try:
        value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({"until": [_("Give the end as ISO 8601, e.g. 2025-09-25T18:00:00Z.")]}) \
            from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@transactional
def turn_on(actor: Actor, *, until: Any, message: Any = None) -> Window:
    now = clock.now()
    end = until if isinstance(until, datetime) else parse_until(until)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    errors: dict[str, list[str]] = {}
    if end <= now:
        errors["until"] = [_("The end of the window must be in the future.")]
    elif end - now > LONGEST_WINDOW:
        errors["until"] = [_("A maintenance window lasts at most 7 days.")]
    if message is not None and (not isinstance(message, str) or len(message) > MESSAGE_MAX):
        errors["message"] = [_("Use at most %(max)s characters.", max=MESSAGE_MAX)]
    if errors:
        raise ValidationFailed(errors)
    previous = stored()
    # Extending a window that is already on keeps its start: the downtime is one span.
    start = previous.start if previous is not None and previous.is_active(now) else now
    window = Window(start, end.astimezone(UTC), message or "")
    value = json.dumps({"start": window.start.isoformat(), "end": window.end.isoformat(),
                        "message": window.message})
    db.session.merge(SystemSetting(key=KEY, value=value, updated_at=now))
    audit.record(None, actor, "maintenance.on", "system", KEY,
                 {"start": window.start.isoformat(), "end": window.end.isoformat(),
                  "message": window.message}, at=now)
    return window


@transactional
def turn_off(actor: Actor) -> bool:
    """End the window now; False if none was stored."""
    removed = db.session.execute(delete(SystemSetting).where(SystemSetting.key == KEY)).rowcount
    if removed:
        audit.record(None, actor, "maintenance.off", "system", KEY, {})
    return bool(removed)
