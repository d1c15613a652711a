"""Unit of work: callbacks after commit, and business events logged only once they happened."""
from __future__ import annotations

import logging

import pytest

from app.services import batch, ledger, uow
from app.services.errors import DomainError


@pytest.fixture
def events():
    """The business-event log lines written while the test runs."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.event)

    logger = logging.getLogger("jifen.events")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield seen
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_it_runs_callbacks_after_the_commit_only(app):
    ran: list[str] = []
    with uow.atomic():
        uow.on_commit(lambda: ran.append("committed"))
        with uow.atomic():  # a nested unit joins the outer one
            uow.on_commit(lambda: ran.append("nested"))
        assert ran == []
    assert ran == ["committed", "nested"]

    with pytest.raises(RuntimeError), uow.atomic():
        uow.on_commit(lambda: ran.append("rolled back"))
        raise RuntimeError("boom")
    assert ran == ["committed", "nested"]

    uow.on_commit(lambda: ran.append("outside"))  # no transaction: at once
    assert ran[-1] == "outside"


def test_a_committed_change_logs_its_event_and_a_refused_one_does_not(tenant, make_member,
                                                                      actor, events):
    make_member(tenant, "alice")
    events.clear()
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=5, category="login")
    assert events == ["points.earn"]
    with pytest.raises(DomainError):
        ledger.spend(tenant.id, actor, user_id="alice", points_amount=50, category="payment")
    assert events == ["points.earn"]


def test_a_batch_preview_logs_nothing(tenant, make_member, actor, events):
    make_member(tenant, "alice")
    events.clear()
    result = batch.preview(tenant.id, actor, [ledger.EarnItem("alice", 10, "login")])
    assert result.ok
    assert events == []
    assert ledger.transactions_page(tenant.id, "alice").items == []


def test_is_postgres_is_asked_in_one_place(app, db_backend):
    from app.database import is_postgres
    from app.extensions import db

    assert is_postgres() is is_postgres(db.engine) is (db_backend == "postgresql")
