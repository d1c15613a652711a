"""Who is acting, and from where: passed by views into every write service."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    type: str  # staff | api_client | system | anonymous
    id: int | None = None
    label: str = ""
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    @classmethod
    def system(cls, label: str = "system", request_id: str | None = None) -> Actor:
        return cls(type="system", label=label, request_id=request_id)


SYSTEM = Actor.system()
