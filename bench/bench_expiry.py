"""Expiry: `flask points expire` over N due lots against one hand-written SQL
statement doing the same bookkeeping, on identical copies of one database.

    .venv/bin/python -m bench.bench_expiry --lots 1000000

Target: the command's rate ≥ 0.5 × the statement's, peak memory < 200 MB, and
the ledger invariants hold afterwards (`flask points verify`).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time

import psycopg

from bench.common import (ADMIN_URL, PYTHON, ROOT, database_name, flask, recreate_database, report,
                          seeded_database)

# Everything `points expire` writes, in one statement: an `expire` entry per due
# lot with its running balance, an allocation, the lot emptied, the balance moved.
HAND_WRITTEN = """
WITH due AS (
    SELECT l.id AS lot_id, l.member_id, l.tenant_id, l.remaining, t.category,
           nextval(pg_get_serial_sequence('point_transactions', 'id')) AS tx_id,
           m.total_points - SUM(l.remaining) OVER (
               PARTITION BY l.member_id ORDER BY l.expires_at, l.id) AS balance_after
    FROM point_lots l
    JOIN point_transactions t ON t.id = l.transaction_id
    JOIN members m ON m.id = l.member_id
    WHERE l.remaining > 0 AND l.expires_at IS NOT NULL AND l.expires_at <= now()
), tx AS (
    INSERT INTO point_transactions (id, tenant_id, member_id, kind, amount, balance_after,
                                    category, reason, actor_type, actor_label, created_at)
    SELECT tx_id, tenant_id, member_id, 'expire', -remaining, balance_after, category, '',
           'system', 'expiry', now()
    FROM due
), alloc AS (
    INSERT INTO lot_allocations (transaction_id, lot_id, amount)
    SELECT tx_id, lot_id, remaining FROM due
), lots AS (
    UPDATE point_lots SET remaining = 0 FROM due WHERE point_lots.id = due.lot_id
)
UPDATE members SET total_points = members.total_points - d.taken, updated_at = now()
FROM (SELECT member_id, SUM(remaining) AS taken FROM due GROUP BY member_id) d
WHERE members.id = d.member_id
"""


def _run_measured(url: str, *args: str) -> tuple[str, int]:
    """Run a flask command; its output and its own peak RSS in kB (RUSAGE_CHILDREN
    would also count the seeder, which peaks higher than the command)."""
    env = {**os.environ, "DATABASE_URL": url, "RATELIMIT_ENABLED": "false"}
    proc = subprocess.Popen([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            text=True, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"points expire failed ({proc.returncode})")
    return out.strip(), usage.ru_maxrss


def _template_exists(name: str) -> bool:
    with psycopg.connect(ADMIN_URL) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (database_name(name),)).fetchone() is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the last run's seeded template if it has the same number of "
                             "due lots (for iterating; a recorded figure seeds afresh)")
    args = parser.parse_args()

    template = f"jifen_bench_expiry_tpl_{args.lots}"
    started = time.monotonic()
    if not (args.reuse and _template_exists(template)):
        seeded_database(template, "--slug", "due", "--scale", "0", "--due-lots", str(args.lots))
    seeded = time.monotonic() - started

    sql_url = recreate_database("jifen_bench_expiry_sql", template)
    app_url = recreate_database("jifen_bench_expiry_app", template)

    with psycopg.connect(sql_url) as conn:
        started = time.monotonic()
        conn.execute(HAND_WRITTEN)
        conn.commit()
        sql_seconds = time.monotonic() - started

    started = time.monotonic()
    out, peak_kb = _run_measured(app_url, "points", "expire", "--batch-size",
                                 str(args.batch_size))
    app_seconds = time.monotonic() - started
    try:
        verdict = flask(app_url, "points", "verify").stdout.strip()
    except subprocess.CalledProcessError as exc:
        verdict = f"FAILED: {exc.stderr.strip()[-300:]}"

    sql_rate = args.lots / sql_seconds
    app_rate = args.lots / app_seconds
    report(f"Expiry of {args.lots:,} due lots", [
        ("seed", f"{seeded:.0f} s"),
        ("hand-written SQL", f"{sql_seconds:.1f} s  ({sql_rate:,.0f} lots/s)"),
        ("flask points expire", f"{app_seconds:.1f} s  ({app_rate:,.0f} lots/s)  [{out}]"),
        ("ratio (target ≥ 0.5)", f"{app_rate / sql_rate:.2f}"),
        ("peak RSS (target < 200 MB)", f"{peak_kb / 1024:.0f} MB"),
        ("ledger after", verdict),
    ])


if __name__ == "__main__":
    main()
