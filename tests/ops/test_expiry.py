"""flask points expire: two runs at once expire every due lot exactly once."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import PointLot, PointTransaction
from app.models.ledger import LotAllocation
from app.services import clock, ledger, ledger_check

ROOT = Path(__file__).resolve().parents[2]


def run_expire(database_url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "JIFEN_ENV": "testing", "DATABASE_URL": database_url}
    env.pop("SENTRY_DSN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "points", "expire", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def seed_lots(tenant, make_member, actor, members: int = 30, lots_each: int = 12) -> None:
    """Due lots (some partly spent), lots not yet due and lots that never expire."""
    past = datetime.now(UTC) - timedelta(days=10)
    for m in range(members):
        make_member(tenant, f"m{m}")
    with clock.frozen(past):
        items = []
        for m in range(members):
            for n in range(lots_each):
                expiry = past + timedelta(days=1, minutes=n)
                items.append(ledger.EarnItem(f"m{m}", 10 + n, "login", None, expiry.isoformat()))
            items.append(ledger.EarnItem(f"m{m}", 7, "login", None,
                                         (past + timedelta(days=60)).isoformat()))
            items.append(ledger.EarnItem(f"m{m}", 3, "payment"))
        ledger.batch_earn(tenant.id, actor, items)
        for m in range(0, members, 3):  # consumes the soonest-expiring lots first
            ledger.spend(tenant.id, actor, user_id=f"m{m}", points_amount=25, category="payment")


def due_now() -> tuple[int, int]:
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(PointLot.remaining), 0))
        .where(PointLot.remaining > 0, PointLot.expires_at <= clock.now())
    ).one()
    db.session.commit()
    return row[0], row[1]


def test_two_concurrent_runs_expire_every_due_lot_exactly_once(app, database_url, tenant,
                                                              make_member, actor):
    seed_lots(tenant, make_member, actor)
    due_lots, due_points = due_now()
    assert due_lots > 300
    not_due = db.session.execute(
        select(PointLot.id, PointLot.remaining).where(
            (PointLot.expires_at > clock.now()) | PointLot.expires_at.is_(None))
        .order_by(PointLot.id)).all()
    db.session.commit()

    runs = [run_expire(database_url, "--batch-size", "5", "--progress") for _ in range(2)]
    outputs = [run.communicate(timeout=240) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err[-2000:]

    reported = [re.search(r"expired (\d+) lots \((\d+) points\)", out) for out, _ in outputs]
    assert sum(int(m.group(1)) for m in reported) == due_lots
    assert sum(int(m.group(2)) for m in reported) == due_points
    assert all("expired lots" in err for _, err in outputs)  # progress lines were shown

    assert due_now() == (0, 0)
    expired = db.session.execute(
        select(LotAllocation.lot_id, func.count(), func.sum(LotAllocation.amount))
        .join(PointTransaction, PointTransaction.id == LotAllocation.transaction_id)
        .where(PointTransaction.kind == "expire").group_by(LotAllocation.lot_id)
    ).all()
    assert len(expired) == due_lots
    assert all(count == 1 for _, count, _ in expired)  # no lot expired twice
    assert sum(amount for _, _, amount in expired) == due_points
    assert db.session.execute(
        select(PointLot.id, PointLot.remaining).where(
            (PointLot.expires_at > clock.now()) | PointLot.expires_at.is_(None))
        .order_by(PointLot.id)).all() == not_due
    db.session.commit()
    assert ledger_check.verify() == []

    # A third run finds nothing left to do.
    out, err = run_expire(database_url).communicate(timeout=60)
    assert "expired 0 lots (0 points)" in out, err
