"""Two bare earn endpoints on Jifen's own tables, to calibrate the earn target on
the machine at hand (`bench_api --reference`).

Issue 5 places its target between two reference points: "a straightforward ORM
implementation measures about 0.18 × [pgbench], one transaction of core SQL
about 0.5 ×". How far apart an HTTP request and a pgbench transaction are
depends on the machine (its cores, its disk's flush, its kernel), so those two
points are measured here, under the same gunicorn and against the same pgbench
run as Jifen's earn:

- `POST /orm/earn`: Flask-SQLAlchemy's ORM the way a tutorial writes it: load
  the member `FOR UPDATE`, add to its balances, add the entry and its lot, commit.
- `POST /core/earn`: one transaction of three Core statements: the balance
  `UPDATE … RETURNING`, the entry `INSERT … RETURNING`, the lot `INSERT`.

Both leave out everything Jifen's earn does besides (the token and its client's
check, validation beyond types, the idempotency key, the tenant's limits, the
level, the audit row, the tags in the answer, the request log), and write the
same rows, so the ledger stays consistent for `points verify`. Never part of
the application: the benchmark starts it with
`gunicorn --config gunicorn.conf.py bench.reference_app:app`.
"""
from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, abort, jsonify, make_response, request
from sqlalchemy import bindparam, insert, select, update

from app.config import normalise_database_url
from app.extensions import db
from app.models import Member, PointLot, PointTransaction

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 10, "pool_recycle": 1800}
db.init_app(app)

TENANT_ID = int(os.environ.get("REFERENCE_TENANT_ID", "1"))

_CREDIT = (
    update(Member)
    .where(Member.tenant_id == TENANT_ID, Member.user_id == bindparam("b_user"))
    .values(total_points=Member.total_points + bindparam("amount"),
            lifetime_points=Member.lifetime_points + bindparam("amount"),
            updated_at=bindparam("now"), last_activity_at=bindparam("now"))
    .returning(Member.id, Member.total_points)
)
_ENTRY = insert(PointTransaction).returning(PointTransaction.id)
_LOT = insert(PointLot)


def _body() -> tuple[str, int]:
    """The body's user_id and points_amount; a 400 when either is missing or wrong."""
    body = request.get_json(silent=True) or {}
    user_id, amount = body.get("user_id"), body.get("points_amount")
    if not isinstance(user_id, str) or type(amount) is not int or amount <= 0:
        abort(make_response(jsonify(error="bad request"), 400))
    return user_id, amount


def _entry(member_id: int, amount: int, balance: int, now: datetime) -> dict:
    return {"tenant_id": TENANT_ID, "member_id": member_id, "kind": "earn", "amount": amount,
            "balance_after": balance, "category": "payment", "reason": "reference",
            "actor_type": "system", "actor_label": "reference", "created_at": now}


@app.post("/core/earn")
def core_earn():
    user_id, amount = _body()
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        row = conn.execute(_CREDIT, {"b_user": user_id, "amount": amount, "now": now}).first()
        if row is None:
            return jsonify(error="no such member"), 404
        entry_id = conn.execute(_ENTRY, _entry(row.id, amount, row.total_points, now)).scalar_one()
        conn.execute(_LOT, {"tenant_id": TENANT_ID, "member_id": row.id,
                            "transaction_id": entry_id, "amount": amount, "remaining": amount,
                            "created_at": now})
    return jsonify(id=entry_id, balance=row.total_points), 201


@app.post("/orm/earn")
def orm_earn():
    user_id, amount = _body()
    now = datetime.now(UTC)
    member = db.session.scalars(
        select(Member).filter_by(tenant_id=TENANT_ID, user_id=user_id).with_for_update()
    ).first()
    if member is None:
        return jsonify(error="no such member"), 404
    member.total_points += amount
    member.lifetime_points += amount
    member.updated_at = member.last_activity_at = now
    entry = PointTransaction(**_entry(member.id, amount, member.total_points, now))
    db.session.add(entry)
    db.session.flush()
    db.session.add(PointLot(tenant_id=TENANT_ID, member_id=member.id, transaction_id=entry.id,
                            amount=amount, remaining=amount, created_at=now))
    db.session.commit()
    return jsonify(id=entry.id, balance=member.total_points), 201
