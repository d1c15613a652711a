"""Batch earn from a spreadsheet: a preview that runs the real batch and undoes
it, so the preview's errors and balances are exactly what confirming would give."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.services import ledger
from app.services.context import Actor
from app.services.errors import DomainError, ValidationFailed
from app.services.uow import atomic, in_transaction


@dataclass
class RowResult:
    index: int
    item: ledger.EarnItem
    errors: dict[str, list[str]] = field(default_factory=dict)
    balance_after: int | None = None


@dataclass
class Preview:
    rows: list[RowResult]
    problem: str | None = None  # a refusal of the whole batch (too many rows, ...)

    @property
    def ok(self) -> bool:
        return self.problem is None and not any(r.errors for r in self.rows)

    @property
    def total(self) -> int:
        return sum(r.item.points_amount for r in self.rows
                   if isinstance(r.item.points_amount, int) and not r.errors)


class _Undo(Exception):
    def __init__(self, outcomes: list[ledger.Outcome]) -> None:
        super().__init__("dry run")
        self.outcomes = outcomes


def preview(tenant_id: int, actor: Actor, items: list[ledger.EarnItem]) -> Preview:
    """What `ledger.batch_earn` would do with these items, changing nothing."""
    if in_transaction():  # an enclosing transaction would be rolled back with ours
        raise RuntimeError("preview() must run outside a transaction")
    rows = [RowResult(i, item) for i, item in enumerate(items)]
    try:
        with atomic():
            raise _Undo(ledger.batch_earn(tenant_id, actor, items))
    except _Undo as undo:
        for row, outcome in zip(rows, undo.outcomes, strict=True):
            row.balance_after = outcome.transaction.balance_after
        return Preview(rows)
    except ValidationFailed as exc:
        per_row: list[dict[str, Any]] = exc.details.get("validation_errors") or []
        for problem in per_row:
            if 0 <= problem["index"] < len(rows):
                rows[problem["index"]].errors = problem["field_errors"]
        whole = [m for ms in exc.field_errors.values() for m in ms]
        return Preview(rows, " ".join(whole) or (None if per_row else exc.text()))
    except DomainError as exc:
        return Preview(rows, exc.text())
