"""The points ledger: earn, spend, adjust, reverse, batch earn, expiry, history.

Every operation keeps the invariants in one transaction (docs/ledger.md says how):
balance = the sum of the member's entries = the sum of its lots' remaining points,
never below zero; entries are only ever inserted.
"""
from app.services.ledger.batch import BATCH_MAX, EarnItem, batch_earn
from app.services.ledger.credits import earn
from app.services.ledger.debits import adjust, debit, spend
from app.services.ledger.entries import Outcome, TxView, is_reversible_kind
from app.services.ledger.expiry import ExpiryReport, expire_due
from app.services.ledger.history import member_transactions_page, transactions_page
from app.services.ledger.reversals import (
    ReversalPreview, get_transaction, preview_reversal, reverse,
)

__all__ = [
    "BATCH_MAX", "EarnItem", "ExpiryReport", "Outcome", "TxView", "adjust", "batch_earn",
    "debit", "earn", "expire_due", "get_transaction", "is_reversible_kind",
    "member_transactions_page", "preview_reversal", "ReversalPreview", "reverse", "spend",
    "transactions_page",
]
