"""Small helpers shared by the service tests (rows counted straight from the tables)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditLog, LotAllocation, PointLot, PointTransaction
from app.services import clock
from app.services.errors import DomainError

T0 = datetime(2031, 3, 1, 12, 0, 0, tzinfo=UTC)


def count(model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.execute(query).scalar_one()


def snapshot() -> tuple[int, ...]:
    """Row counts and balances: equal before and after a refused call."""
    balances = tuple(db.session.execute(
        text("SELECT id, total_points, lifetime_points, level_id FROM members ORDER BY id")).all())
    lots = tuple(db.session.execute(text("SELECT id, remaining FROM point_lots ORDER BY id")).all())
    return (count(PointTransaction), count(PointLot), count(LotAllocation), count(AuditLog),
            hash(balances), hash(lots))


@contextmanager
def refused(code: str) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """The call raises `code` and changes nothing."""
    db.session.rollback()
    before = snapshot()
    with pytest.raises(DomainError) as info:
        yield info
    db.session.rollback()
    assert info.value.code == code, (info.value.code, info.value.details)
    assert snapshot() == before, "a refused call changed something"


def lots_of(member_id: int) -> list[PointLot]:
    db.session.expire_all()
    return list(db.session.execute(
        select(PointLot).where(PointLot.member_id == member_id).order_by(PointLot.id)
    ).scalars())


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Clock:
    """A frozen clock the test moves forward."""

    def __init__(self, start: datetime = T0) -> None:
        self.start = start

    @property
    def now(self) -> datetime:
        return clock.now()

    def advance(self, **delta: float) -> datetime:
        clock.advance(timedelta(**delta))
        return clock.now()

    def later(self, **delta: float) -> datetime:
        return clock.now() + timedelta(**delta)


@contextmanager
def frozen_clock(start: datetime = T0) -> Iterator[Clock]:
    with clock.frozen(start):
        yield Clock(start)


@pytest.fixture
def clk(app) -> Iterator[Clock]:
    """The service clock, frozen at T0 for the test (a plugin fixture: see conftest)."""
    with frozen_clock() as c:
        yield c
