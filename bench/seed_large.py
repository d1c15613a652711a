"""Build a large tenant on PostgreSQL for the benchmarks, fast (COPY).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/jifen_bench \\
        .venv/bin/python -m bench.seed_large --slug big --scale 1      # 100k members, 2M tx
    ... --slug small --scale 0.01                                      # 1k members, 20k tx
    ... --slug due --due-lots 1000000                                  # 1M due lots (expiry bench)

The ledger it writes obeys every invariant the services keep (balance = Σ
amounts = Σ lot remainders, balance_after a running sum, lifetime points,
allocations of every debit), so `flask points verify` passes on it and the
benchmarks can check the invariants after a run.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, UTC

from app import create_app
from app.extensions import db
from app.services import api_clients, clock, crypto, levels, staff, tenants, vip
from app.services.context import Actor

CATEGORIES = ("login", "license", "referral", "community", "payment", "feature_unlock")
ACTOR = Actor(type="system", label="bench-seed")
PASSWORD = "bench-owner-password"


class Progress:
    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.start = label, total, 0, time.monotonic()

    def add(self, n: int) -> None:
        self.done += n
        if self.done == self.total or self.done % max(1, self.total // 50) < n:
            width = 30
            filled = int(width * self.done / max(1, self.total))
            rate = self.done / max(1e-6, time.monotonic() - self.start)
            sys.stderr.write(f"\r{self.label:<14} [{'#' * filled}{'.' * (width - filled)}] "
                             f"{self.done:>9}/{self.total} {rate:,.0f}/s")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _next_ids(cur, table: str) -> int:
    cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return cur.fetchone()[0]


def _fix_sequences(cur) -> None:
    for table in ("members", "point_transactions", "point_lots", "lot_allocations",
                  "audit_logs", "member_tags"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))")


def build(slug: str, members_n: int, tx_per_member: float, due_lots: int, seed: int,
          whale_tx: int = 0) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    app = create_app()
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit("seed_large needs PostgreSQL (DATABASE_URL=postgresql://...)")
        if tenants.get_by_slug(slug) is not None:
            raise SystemExit(f"tenant {slug!r} exists; drop the database or pick another slug")
        with clock.frozen(now - timedelta(days=400)):
            tenant = tenants.create(slug, f"Bench {slug}", ACTOR, default_expiry_days=365)
            staff.create_or_add_role(tenant.id, ACTOR, email=f"owner@{slug}.bench", role="owner",
                                     password=PASSWORD)
            level_rows = []
            for name, threshold in (("Bronze", 0), ("Silver", 1000), ("Gold", 5000),
                                    ("Platinum", 20000)):
                level_rows.append(levels.create(tenant.id, ACTOR, level_name=name,
                                                min_points=threshold))
            gold = vip.create_tag(tenant.id, ACTOR, tag_name="VIP Gold", tag_type="vip", rank=2,
                                  duration_days=365, points_price=5000)
        issued = api_clients.create(tenant.id, ACTOR, name="bench",
                                    permissions="can_view_points,can_earn_points,"
                                                "can_spend_points,can_adjust_points,"
                                                "can_manage_points",
                                    rate_limit="100000000/hour")
        thresholds = sorted((lv.min_points, lv.id) for lv in level_rows)
        tenant_id = tenant.id

        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            member_id = _next_ids(cur, "members")
            tx_id = _next_ids(cur, "point_transactions")
            lot_id = _next_ids(cur, "point_lots")
            alloc_id = _next_ids(cur, "lot_allocations")
            audit_id = _next_ids(cur, "audit_logs")
            holding_id = _next_ids(cur, "member_tags")

            members_rows, tx_rows, lot_rows, alloc_rows, audit_rows, tag_rows = [], [], [], [], [], []
            progress = Progress("members", members_n)
            for i in range(members_n):
                mid = member_id + i
                balance = lifetime = 0
                open_lots: list[list] = []  # [lot_id, remaining, expires_at]
                joined = now - timedelta(days=rng.uniform(30, 365))
                n_tx = max(1, int(rng.expovariate(1 / tx_per_member)))
                if whale_tx and i == members_n - 1:
                    n_tx = whale_tx  # one member with a very long history
                times = sorted(joined + timedelta(seconds=rng.uniform(0, (now - joined).total_seconds()
                                                                      - 60)) for _ in range(n_tx))
                last_activity = None
                for when in times:
                    spend = balance > 50 and rng.random() < 0.25
                    if spend:
                        amount = rng.randint(10, min(balance, 400))
                        balance -= amount
                        need = amount
                        open_lots.sort(key=lambda lot: lot[2])
                        for lot in open_lots:
                            if need == 0:
                                break
                            take = min(lot[1], need)
                            if take:
                                lot[1] -= take
                                need -= take
                                alloc_rows.append((alloc_id, tx_id, lot[0], take))
                                alloc_id += 1
                        open_lots = [lot for lot in open_lots if lot[1] > 0]
                        tx_rows.append((tx_id, tenant_id, mid, "spend", -amount, balance, "payment",
                                        "Redeemed reward", None, None, None, "api_client", None,
                                        "bench", when))
                    else:
                        amount = rng.randint(10, 500)
                        balance += amount
                        lifetime += amount
                        expires = when + timedelta(days=365)
                        category = rng.choice(CATEGORIES)
                        tx_rows.append((tx_id, tenant_id, mid, "earn", amount, balance, category,
                                        "Bench earn", expires, None, None, "api_client", None,
                                        "bench", when))
                        lot_rows.append([lot_id, tenant_id, mid, tx_id, amount, None, expires, when])
                        open_lots.append([lot_id, amount, expires, len(lot_rows) - 1])
                        lot_id += 1
                    audit_rows.append((audit_id, tenant_id, "api_client", None, "bench",
                                       "points.spend" if spend else "points.earn", "member",
                                       f"b{mid}", None, None, None, "{}", when))
                    audit_id += 1
                    tx_id += 1
                    last_activity = when
                # The lots' remainders are known only now: fill them in.
                for lot in open_lots:
                    lot_rows[lot[3]][5] = lot[1]
                level_id = None
                for threshold, lid in thresholds:
                    if lifetime >= threshold:
                        level_id = lid
                email = f"member{i}@bench.example" if i % 3 == 0 else None
                enc, hashed = (None, None)
                if email:
                    enc, hashed = crypto.encrypt(email), crypto.email_hash(email)
                members_rows.append((mid, tenant_id, f"b{mid}", f"Bench Member {i}", enc, hashed,
                                     None, balance, lifetime, level_id, True, joined, now,
                                     last_activity))
                if i % 10 == 0:
                    tag_rows.append((holding_id, tenant_id, mid, gold.id, "vip",
                                     now - timedelta(days=30), now + timedelta(days=rng.randint(1, 300)),
                                     None, None, None))
                    holding_id += 1
                progress.add(1)
                if len(tx_rows) >= 200_000 or i == members_n - 1:
                    _flush(cur, members_rows, tx_rows, lot_rows, alloc_rows, audit_rows, tag_rows)
                    raw.commit()
                    for rows in (members_rows, tx_rows, lot_rows, alloc_rows, audit_rows, tag_rows):
                        rows.clear()

            if due_lots:
                _due_lots(cur, raw, rng, tenant_id, member_id + members_n, due_lots, now,
                          thresholds, tx_id, lot_id)
            _fix_sequences(cur)
            raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
        print(f"tenant {slug}: {members_n} members; owner owner@{slug}.bench / {PASSWORD}")
        print(f"api client: {issued.client.client_id} {issued.client_secret}")
        if whale_tx:
            print(f"whale: b{member_id + members_n - 1}")


def _flush(cur, members_rows, tx_rows, lot_rows, alloc_rows, audit_rows, tag_rows) -> None:
    # Lots whose remainder was never set were fully consumed.
    for row in lot_rows:
        if row[5] is None:
            row[5] = 0
    _copy(cur, "members", ("id", "tenant_id", "user_id", "display_name", "email_encrypted",
                           "email_hash", "phone_encrypted", "total_points", "lifetime_points",
                           "level_id", "is_points_enabled", "created_at", "updated_at",
                           "last_activity_at"), members_rows)
    _copy(cur, "point_transactions", ("id", "tenant_id", "member_id", "kind", "amount",
                                      "balance_after", "category", "reason", "expires_at",
                                      "reverses_id", "idempotency_key", "actor_type", "actor_id",
                                      "actor_label", "created_at"), tx_rows)
    _copy(cur, "point_lots", ("id", "tenant_id", "member_id", "transaction_id", "amount",
                              "remaining", "expires_at", "created_at"), lot_rows)
    _copy(cur, "lot_allocations", ("id", "transaction_id", "lot_id", "amount"), alloc_rows)
    _copy(cur, "audit_logs", ("id", "tenant_id", "actor_type", "actor_id", "actor_label", "action",
                              "target_type", "target_id", "ip", "user_agent", "request_id", "data",
                              "created_at"), audit_rows)
    _copy(cur, "member_tags", ("id", "tenant_id", "member_id", "tag_id", "tag_type", "granted_at",
                               "expires_at", "ended_at", "end_reason", "payment_transaction_id"),
          tag_rows)


def _copy(cur, table: str, columns: tuple[str, ...], rows: list) -> None:
    if not rows:
        return
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _due_lots(cur, raw, rng, tenant_id: int, first_member: int, count: int, now: datetime,
              thresholds, tx_id: int, lot_id: int) -> None:
    """`count` lots already past their expiry, 10 per member, for the expiry benchmark."""
    per_member = 10
    members_n = (count + per_member - 1) // per_member
    progress = Progress("due lots", count)
    made = 0
    batch_members, batch_tx, batch_lots = [], [], []
    for m in range(members_n):
        mid = first_member + m
        balance = 0
        n = min(per_member, count - made)
        for k in range(n):
            amount = rng.randint(10, 200)
            balance += amount
            when = now - timedelta(days=400, minutes=k)
            expires = now - timedelta(days=rng.uniform(1, 30))
            batch_tx.append((tx_id, tenant_id, mid, "earn", amount, balance, "login", "", expires,
                             None, None, "system", None, "bench", when))
            batch_lots.append((lot_id, tenant_id, mid, tx_id, amount, amount, expires, when))
            tx_id += 1
            lot_id += 1
        made += n
        level_id = None
        for threshold, lid in thresholds:
            if balance >= threshold:
                level_id = lid
        batch_members.append((mid, tenant_id, f"due{mid}", "", None, None, None, balance, balance,
                              level_id, True, now - timedelta(days=400), now, None))
        progress.add(n)
        if len(batch_lots) >= 200_000 or made >= count:
            _copy(cur, "members", ("id", "tenant_id", "user_id", "display_name", "email_encrypted",
                                   "email_hash", "phone_encrypted", "total_points",
                                   "lifetime_points", "level_id", "is_points_enabled",
                                   "created_at", "updated_at", "last_activity_at"), batch_members)
            _copy(cur, "point_transactions", ("id", "tenant_id", "member_id", "kind", "amount",
                                              "balance_after", "category", "reason", "expires_at",
                                              "reverses_id", "idempotency_key", "actor_type",
                                              "actor_id", "actor_label", "created_at"), batch_tx)
            _copy(cur, "point_lots", ("id", "tenant_id", "member_id", "transaction_id", "amount",
                                      "remaining", "expires_at", "created_at"), batch_lots)
            raw.commit()
            batch_members.clear()
            batch_tx.clear()
            batch_lots.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="big")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = 100,000 members and about 2,000,000 transactions")
    parser.add_argument("--due-lots", type=int, default=0,
                        help="also add this many lots already past their expiry")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--whale", type=int, default=0,
                        help="give the last member this many transactions")
    args = parser.parse_args()
    members_n = max(1, int(100_000 * args.scale)) if args.scale > 0 else 0
    start = time.monotonic()
    build(args.slug, members_n, 20.0, args.due_lots, args.seed, args.whale)
    print(f"built in {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
