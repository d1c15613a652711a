"""PostgreSQL: a whole credit in one statement (one round trip).

A data-modifying WITH moves the member (the UPDATE that locks its row, moves both
balances and re-derives the level, as on the generic path), inserts the ledger
entry from what that UPDATE returns, the lot from the entry, the audit row, and
reads the member's active VIP tags for the answer. The caller has already taken
the tenant's levels lock in an earlier statement (`tenants.get_for_level_write`),
so this statement's snapshot is taken under it: the level it derives is never
older than a level change that committed before the lock was granted.

The rows are the generic path's (`credits.credit` on SQLite, and in
`tests/test_ledger_one_statement.py`, which compares them): the entry's columns
come from `entries.ledger_row`, the audit row's from `audit.values`, and the
audit row's JSON is the text Python writes, with the entry's id set in by the
database.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    JSON, String, and_, bindparam, cast, exists, insert, literal, not_, select, true,
)

from app.models import AuditLog
from app.services import idempotency, member_tags
from app.services.ledger.entries import lot_of_credit_entry, returning_credit_entry, tx_table

_audit = AuditLog.__table__
TX_COLUMNS = ("tenant_id", "member_id", "kind", "amount", "balance_after", "category", "reason",
              "expires_at", "reverses_id", "idempotency_key", "request_id", "actor_type",
              "actor_id", "actor_label", "created_at")
AUDIT_COLUMNS = ("tenant_id", "actor_type", "actor_id", "actor_label", "action", "target_type",
                 "target_id", "ip", "user_agent", "request_id", "created_at")
# The audit row's data: {"transaction_id": <the entry's id>, …the rest as given}.
_DATA_HEAD = '{"transaction_id": '


def build(member_update: Any, now: Any, *, claim: bool = False) -> Any:
    """The statement, around `member_update` (an UPDATE … RETURNING every member
    column, with bind parameters) and `now` (the bind parameter of the time).

    With `claim`, it first claims the request's idempotency key
    (`idempotency.claim_cte`; values from `Claim.parameters(CLAIM_PREFIX)`): the
    member is moved only if this request owns the key, and the one row it then
    returns says so (`claimed`), with the owner's stored response when the
    statement's snapshot holds it (a key claimed by a request still running when
    this one started is read again by `idempotency.run`)."""
    claimed = None
    if claim:
        taken = idempotency.claim_cte()
        claimed = exists(select(taken.c.id))
        member_update = member_update.where(claimed)
    member = member_update.cte("credited")
    tx = tx_table
    entry_source = {name: bindparam(f"tx_{name}", type_=tx.c[name].type) for name in TX_COLUMNS}
    entry_source["member_id"] = member.c.id
    entry_source["balance_after"] = member.c.total_points
    entry = returning_credit_entry(
        insert(tx).from_select(list(TX_COLUMNS), select(*entry_source.values()))
    ).cte("credit_entry")
    lot = lot_of_credit_entry(entry)
    data = cast(literal(_DATA_HEAD, String) + cast(entry.c.id, String)
                + bindparam("a_data_tail", type_=String), JSON)
    audit_row = insert(_audit).from_select(
        [*AUDIT_COLUMNS, "data"],
        select(*(bindparam(f"a_{name}", type_=_audit.c[name].type) for name in AUDIT_COLUMNS),
               data),
    ).cte("credit_audit")
    columns = [member, entry.c.id.label("tx_id"), *member_tags.TAG_COLUMNS]
    if claimed is None:
        source = member.join(entry, true())
    else:  # one row whether or not anything was written
        state = select(claimed.label("claimed")).subquery("state")
        records = idempotency.records_table
        columns += [state.c.claimed, records.c.fingerprint.label("s_fingerprint"),
                    records.c.status_code.label("s_status_code"),
                    records.c.response_body.label("s_response_body")]
        p = idempotency.CLAIM_PREFIX
        source = (state.outerjoin(member, true()).outerjoin(entry, true())
                  .outerjoin(records, and_(not_(state.c.claimed),
                                           records.c.tenant_id == bindparam(f"{p}tenant_id"),
                                           records.c.key == bindparam(f"{p}key"))))
    return (
        select(*columns)
        .select_from(member_tags.join_active_tags(source, member, now))
        .order_by(member_tags.TAG_ORDER)
        .add_cte(lot, audit_row)
    )


def parameters(entry: dict[str, Any], audit_row: dict[str, Any]) -> dict[str, Any]:
    """The statement's values: an entry (a ledger_row; its member and balance are the
    database's) and an audit row (audit.values; its data's first key the entry id)."""
    data = dict(audit_row["data"])
    assert next(iter(data)) == "transaction_id"
    del data["transaction_id"]
    params = {f"tx_{name}": entry[name] for name in TX_COLUMNS
              if name not in ("member_id", "balance_after")}
    params.update({f"a_{name}": audit_row[name] for name in AUDIT_COLUMNS})
    # json.dumps of the whole dict is the head, the id, then this tail
    params["a_data_tail"] = ", " + json.dumps(data)[1:] if data else "}"
    return params
