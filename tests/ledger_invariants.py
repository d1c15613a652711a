"""An independent recomputation of the ledger invariants of BRIEF.md.

`app.services.ledger_check.verify` is code under test; this module reads the raw
rows with plain SELECTs and recomputes everything in Python, so a bug shared by
the services and their own checker still shows up here.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import text

from app.extensions import db

CREDITS = ("earn", "adjust")


def _rows(sql: str, **params: Any) -> list[Any]:
    return list(db.session.execute(text(sql), params).mappings())


def problems(tenant_id: int | None = None) -> list[str]:
    """Every broken invariant of the tenant's ledger (all tenants when None)."""
    where = "WHERE tenant_id = :t" if tenant_id is not None else ""
    params = {"t": tenant_id} if tenant_id is not None else {}
    members = _rows(f"SELECT id, tenant_id, user_id, total_points, lifetime_points, level_id "
                    f"FROM members {where}", **params)
    txs = _rows(f"SELECT id, tenant_id, member_id, kind, amount, balance_after, reverses_id, "
                f"expires_at FROM point_transactions {where} ORDER BY id", **params)
    lots = _rows(f"SELECT id, tenant_id, member_id, transaction_id, amount, remaining, expires_at "
                 f"FROM point_lots {where}", **params)
    allocs = _rows("SELECT a.id, a.transaction_id, a.lot_id, a.amount FROM lot_allocations a "
                   "JOIN point_transactions t ON t.id = a.transaction_id "
                   + ("WHERE t.tenant_id = :t" if tenant_id is not None else ""), **params)
    levels = _rows(f"SELECT id, tenant_id, min_points FROM levels {where}", **params)
    out: list[str] = []
    tx_by_id = {t["id"]: t for t in txs}
    lot_by_id = {lot["id"]: lot for lot in lots}
    lot_by_tx = {lot["transaction_id"]: lot for lot in lots}
    allocs_by_tx: dict[int, list[Any]] = defaultdict(list)
    allocs_by_lot: dict[int, list[Any]] = defaultdict(list)
    for a in allocs:
        allocs_by_tx[a["transaction_id"]].append(a)
        allocs_by_lot[a["lot_id"]].append(a)
    reversal_of: dict[int, list[Any]] = defaultdict(list)
    for t in txs:
        if t["reverses_id"] is not None:
            reversal_of[t["reverses_id"]].append(t)

    # Per member: balance = ledger sum = lots remaining >= 0; running balance_after;
    # lifetime = credits less what reversals of credits took back; level follows it.
    running: dict[int, int] = defaultdict(int)
    ledger_sum: dict[int, int] = defaultdict(int)
    lifetime: dict[int, int] = defaultdict(int)
    for t in txs:
        mid = t["member_id"]
        running[mid] += t["amount"]
        ledger_sum[mid] += t["amount"]
        if t["balance_after"] != running[mid]:
            out.append(f"tx {t['id']}: balance_after {t['balance_after']} != running {running[mid]}")
            running[mid] = t["balance_after"]
        if t["balance_after"] < 0:
            out.append(f"tx {t['id']}: negative balance_after")
        if t["kind"] in CREDITS and t["amount"] > 0:
            lifetime[mid] += t["amount"]
        if t["kind"] == "reversal":
            original = tx_by_id.get(t["reverses_id"])
            if original is None:
                out.append(f"tx {t['id']}: reverses a missing transaction")
            elif original["kind"] in CREDITS and original["amount"] > 0:
                lifetime[mid] += t["amount"]
    remaining_sum: dict[int, int] = defaultdict(int)
    for lot in lots:
        remaining_sum[lot["member_id"]] += lot["remaining"]
    by_tenant_levels: dict[int, list[Any]] = defaultdict(list)
    for level in levels:
        by_tenant_levels[level["tenant_id"]].append(level)
    for m in members:
        mid, who = m["id"], m["user_id"]
        if m["total_points"] < 0:
            out.append(f"member {who}: negative balance")
        if m["total_points"] != ledger_sum[mid]:
            out.append(f"member {who}: balance {m['total_points']} != ledger {ledger_sum[mid]}")
        if m["total_points"] != remaining_sum[mid]:
            out.append(f"member {who}: balance {m['total_points']} != lots {remaining_sum[mid]}")
        if m["lifetime_points"] != lifetime[mid]:
            out.append(f"member {who}: lifetime {m['lifetime_points']} != {lifetime[mid]}")
        reached = [lv for lv in by_tenant_levels[m["tenant_id"]]
                   if lv["min_points"] <= m["lifetime_points"]]
        expected = max(reached, key=lambda lv: lv["min_points"])["id"] if reached else None
        if m["level_id"] != expected:
            out.append(f"member {who}: level {m['level_id']} != expected {expected}")

    # Every positive credit made exactly one lot of its amount and expiry; nothing else did.
    for t in txs:
        lot = lot_by_tx.get(t["id"])
        if t["kind"] in CREDITS and t["amount"] > 0:
            if lot is None:
                out.append(f"tx {t['id']}: credit without a lot")
            elif (lot["amount"], lot["expires_at"], lot["member_id"]) != (
                    t["amount"], t["expires_at"], t["member_id"]):
                out.append(f"tx {t['id']}: lot does not match its credit")
        elif lot is not None:
            out.append(f"tx {t['id']}: a {t['kind']} made a lot")

    # Debits took exactly their amount from the member's own lots; reversals mirror
    # their original; a transaction is reversed at most once.
    given_back: dict[int, int] = defaultdict(int)
    for t in txs:
        taken = allocs_by_tx.get(t["id"], [])
        for a in taken:
            lot = lot_by_id.get(a["lot_id"])
            if lot is None or lot["member_id"] != t["member_id"]:
                out.append(f"tx {t['id']}: allocation from another member's lot")
        if len(reversal_of.get(t["id"], [])) > 1:
            out.append(f"tx {t['id']}: reversed more than once")
        debit = t["kind"] in ("spend", "expire") or (t["kind"] == "adjust" and t["amount"] < 0)
        if debit and sum(a["amount"] for a in taken) != -t["amount"]:
            out.append(f"tx {t['id']}: debit {t['amount']} allocated {sum(a['amount'] for a in taken)}")
        if not debit and t["kind"] != "reversal" and taken:
            out.append(f"tx {t['id']}: a credit has allocations")
        if t["kind"] == "reversal":
            original = tx_by_id.get(t["reverses_id"])
            if original is None:
                continue
            if original["member_id"] != t["member_id"]:
                out.append(f"tx {t['id']}: reversal of another member's transaction")
            if original["kind"] in ("expire", "reversal"):
                out.append(f"tx {t['id']}: reversal of a {original['kind']}")
            if original["amount"] > 0:
                if -t["amount"] != sum(a["amount"] for a in taken) or t["amount"] >= 0:
                    out.append(f"tx {t['id']}: credit reversal does not match its allocation")
                if any(a["lot_id"] != lot_by_tx.get(original["id"], {}).get("id") for a in taken):
                    out.append(f"tx {t['id']}: credit reversal took from another lot")
            else:
                if t["amount"] != -original["amount"] or taken:
                    out.append(f"tx {t['id']}: debit reversal gives back {t['amount']}")
                for a in allocs_by_tx.get(original["id"], []):
                    given_back[a["lot_id"]] += a["amount"]

    # Each lot: remaining = amount - everything taken from it + what reversals gave back.
    for lot in lots:
        expected = lot["amount"] - sum(a["amount"] for a in allocs_by_lot.get(lot["id"], [])) \
            + given_back[lot["id"]]
        if lot["remaining"] != expected:
            out.append(f"lot {lot['id']}: remaining {lot['remaining']} != recomputed {expected}")
        if not 0 <= lot["remaining"] <= lot["amount"]:
            out.append(f"lot {lot['id']}: remaining {lot['remaining']} out of range")
    out += _programme_problems(where, params, tx_by_id)
    return out


def _programme_problems(where: str, params: dict[str, Any], tx_by_id: dict[int, Any]
                        ) -> list[str]:
    """Pending points are never in the balance: a member's pending_points are its
    unsettled pending awards, a pending award has no ledger entry, and an award
    that became available is exactly one earn of its points, its alone."""
    out: list[str] = []
    members = _rows(f"SELECT id, user_id, pending_points FROM members {where}", **params)
    pending = _rows(f"SELECT member_id, award_id, points, settled_at FROM pending_awards {where}",
                    **params)
    awards = _rows(f"SELECT id, member_id, points, status, transaction_id FROM event_awards "
                   f"{where}", **params)
    held: dict[int, int] = defaultdict(int)
    pending_by_award = {p["award_id"]: p for p in pending}
    for p in pending:
        if p["settled_at"] is None:
            held[p["member_id"]] += p["points"]
    for m in members:
        if m["pending_points"] != held[m["id"]]:
            out.append(f"member {m['user_id']}: pending {m['pending_points']} != {held[m['id']]}")
    seen: dict[int, int] = {}
    for a in awards:
        tx = tx_by_id.get(a["transaction_id"]) if a["transaction_id"] is not None else None
        if a["status"] == "pending":
            if tx is not None:
                out.append(f"award {a['id']}: pending but has an entry")
            p = pending_by_award.get(a["id"])
            if p is None or p["settled_at"] is not None:
                out.append(f"award {a['id']}: pending without an open pending row")
        if a["transaction_id"] is not None:
            if tx is None or tx["kind"] != "earn" or tx["amount"] != a["points"] \
                    or tx["member_id"] != a["member_id"]:
                out.append(f"award {a['id']}: not exactly one earn of its points")
            if a["transaction_id"] in seen:
                out.append(f"award {a['id']}: shares entry with award {seen[a['transaction_id']]}")
            seen[a["transaction_id"]] = a["id"]
        elif a["status"] == "available":
            out.append(f"award {a['id']}: available without an earn")
    return out


def assert_consistent(tenant_id: int | None = None) -> None:
    """Both checkers agree that the ledger is healthy."""
    from app.services import ledger_check

    mine = problems(tenant_id)
    theirs = ledger_check.verify(tenant_id)
    assert mine == [], mine
    assert theirs == [], theirs
