"""The service layer's clock. Tests move it; everything else reads it."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, UTC
from collections.abc import Iterator

_offset = timedelta(0)
_frozen: datetime | None = None


def iso_z(value: datetime) -> str:
    """UTC, ISO 8601 with microseconds, ending in Z: how every datetime leaves Jifen."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Stop the clock at `at` (tests only)."""
    global _frozen
    previous = _frozen
    _frozen = at
    try:
        yield
    finally:
        _frozen = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward (tests only)."""
    global _frozen
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    _frozen = _frozen + delta
