"""bench/reference_app.py, the calibration points of `bench_api --reference`: its two
earns must write what Jifen's earn writes (entry, lot, balances), or the figures
it calibrates against would be for less work, and leave a ledger `points verify`
accepts."""
from __future__ import annotations

import importlib
import sys

import pytest

from app.extensions import db
from app.models import Member, PointLot, PointTransaction
from app.services import ledger_check


@pytest.fixture
def reference(app, database_url, tenant, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REFERENCE_TENANT_ID", str(tenant.id))
    sys.modules.pop("bench.reference_app", None)
    module = importlib.import_module("bench.reference_app")
    yield module.app.test_client()
    with module.app.app_context():
        db.engine.dispose()
    sys.modules.pop("bench.reference_app", None)


@pytest.mark.parametrize("kind", ["core", "orm"])
def test_a_reference_earn_writes_the_entry_its_lot_and_both_balances(
        reference, app, tenant, make_member, kind):
    make_member(tenant, "b1")
    for amount in (5, 7):
        answer = reference.post(f"/{kind}/earn", json={"user_id": "b1", "points_amount": amount})
        assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["balance"] == 12
    with app.app_context():
        member = db.session.scalars(db.select(Member).filter_by(user_id="b1")).one()
        assert (member.total_points, member.lifetime_points) == (12, 12)
        entries = db.session.scalars(db.select(PointTransaction).filter_by(
            member_id=member.id).order_by(PointTransaction.id)).all()
        assert [(e.kind, e.amount, e.balance_after) for e in entries] == [
            ("earn", 5, 5), ("earn", 7, 12)]
        lots = db.session.scalars(db.select(PointLot).filter_by(member_id=member.id)).all()
        assert sorted((lot.transaction_id, lot.remaining) for lot in lots) == [
            (entries[0].id, 5), (entries[1].id, 7)]
        assert ledger_check.verify(tenant.id) == []


@pytest.mark.parametrize("kind", ["core", "orm"])
@pytest.mark.parametrize("body, status", [
    ({"user_id": "b1", "points_amount": "5"}, 400),
    ({"user_id": "b1", "points_amount": True}, 400),
    ({"user_id": "b1", "points_amount": 0}, 400),
    ({"points_amount": 5}, 400),
    ({"user_id": "nobody", "points_amount": 5}, 404),
])
def test_a_reference_earn_refuses_bad_input_and_writes_nothing(
        reference, app, tenant, make_member, kind, body, status):
    make_member(tenant, "b1")
    assert reference.post(f"/{kind}/earn", json=body).status_code == status
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PointTransaction)) == 0
