"""Points operations: earn, spend, adjust, batch earn, reverse."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _

from app.api import bp, parsing, ratelimit, serializers, writes
from app.api.auth import actor, principal, requires
from app.services import ledger, permissions
from app.services.errors import ValidationFailed

EARN_FIELDS = ("user_id", "points_amount", "category", "reason", "expires_at", "operation_id")
SPEND_FIELDS = ("user_id", "points_amount", "category", "reason", "operation_id")
ADJUST_FIELDS = ("user_id", "points_amount", "reason", "category", "operation_id")
BATCH_FIELDS = ("operations",)
REVERSE_FIELDS = ("reason",)


def _args(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The body's fields as the service names them: `operation_id`, the seed's
    spelling, is the idempotency key (writes.perform reads it for a single write)."""
    return {name: body.get(name) for name in names if name != "operation_id"}


def _name_as_sent(exc: ValidationFailed) -> None:
    """Report a batch item's key problem under the field the client sent."""
    for problem in exc.details.get("validation_errors") or []:
        if "idempotency_key" in problem["field_errors"]:
            problem["field_errors"]["operation_id"] = problem["field_errors"].pop(
                "idempotency_key")


@bp.post("/v1/points/earn/")
@requires(permissions.EARN, limit=ratelimit.points)
def earn() -> Response:
    body = parsing.json_object(EARN_FIELDS)
    return writes.perform(body, lambda key: (201, serializers.outcome(ledger.earn(
        principal().tenant_id, actor(), idempotency_key=key, **_args(body, EARN_FIELDS)))),
        claimed_by_write=True)  # ledger credits claim the key in their own statement


@bp.post("/v1/points/spend/")
@requires(permissions.SPEND, limit=ratelimit.points)
def spend() -> Response:
    body = parsing.json_object(SPEND_FIELDS)
    return writes.perform(body, lambda key: (201, serializers.outcome(ledger.spend(
        principal().tenant_id, actor(), idempotency_key=key, **_args(body, SPEND_FIELDS)))))


@bp.post("/v1/points/adjust/")
@requires(permissions.ADJUST, limit=ratelimit.points)
def adjust() -> Response:
    body = parsing.json_object(ADJUST_FIELDS)
    return writes.perform(body, lambda key: (201, serializers.outcome(ledger.adjust(
        principal().tenant_id, actor(), idempotency_key=key, **_args(body, ADJUST_FIELDS)))))


def _batch_items(body: dict[str, Any]) -> list[ledger.EarnItem] | Any:
    """Each operation is an earn body; structural problems are reported by index,
    the services' own checks (types, ranges, members) likewise."""
    operations = body.get("operations")
    if not isinstance(operations, list):
        return operations  # the service says what a batch must be
    problems = []
    for index, op in enumerate(operations):
        if not isinstance(op, dict):
            problems.append({"index": index, "field_errors": {
                "operation": [_("Each operation must be a JSON object.")]}})
            continue
        unknown = parsing.unknown_keys(op, EARN_FIELDS)
        if unknown:
            problems.append({"index": index, "field_errors": unknown})
    if problems:
        raise ValidationFailed({}, validation_errors=problems)
    return [ledger.EarnItem(idempotency_key=op.get("operation_id"), **_args(op, EARN_FIELDS))
            for op in operations]


@bp.post("/v1/points/batch-earn/")
@requires(permissions.EARN, limit=ratelimit.points)
def batch_earn() -> Response:
    body = parsing.json_object(BATCH_FIELDS)
    items = _batch_items(body)

    def produce(_key: str | None) -> tuple[int, Any]:
        try:
            outcomes = ledger.batch_earn(principal().tenant_id, actor(), items)
        except ValidationFailed as exc:
            _name_as_sent(exc)
            raise
        return 201, {"results": [serializers.outcome(o) for o in outcomes]}

    return writes.perform(body, produce)


@bp.post("/v1/points/transactions/<int:transaction_id>/reverse/")
@requires(permissions.ADJUST, limit=ratelimit.points)
def reverse(transaction_id: int) -> Response:
    body = parsing.json_object(REVERSE_FIELDS)
    return writes.perform(body, lambda key: (201, serializers.outcome(ledger.reverse(
        principal().tenant_id, actor(), transaction_id, reason=body.get("reason"),
        idempotency_key=key))))
