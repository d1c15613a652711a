"""The programme: earning rules and events (CONTRACT.md, "Programme")."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask_babel import gettext as _

from app import envelope
from app.api import bp, parsing, ratelimit, serializers, writes
from app.api.auth import actor, principal, requires
from app.services import permissions, programme
from app.services.errors import ValidationFailed
from app.services.programme.event_input import FIELDS as EVENT_FIELDS
from app.services.programme.rules import FIELDS as RULE_FIELDS

REVOKE_FIELDS = ("reason", "amount")
AWARD_FIELDS = ("rule_id", "rule_name", "points", "status", "available_at", "transaction_id")
EVENT_KEYS = ("event_id", "user_id", "event_type", "amount", "occurred_at", "attributes",
              "points_awarded", "refunded_amount", "status", "created_at")


def money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def rule(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "name": r.name, "event_type": r.event_type, "category": r.category,
        "award": programme.award_of(r), "min_amount": money(r.min_amount),
        "levels": r.level_ids, "starts_at": r.starts_at, "ends_at": r.ends_at,
        "limit": ({"count": r.limit_count, "period": r.limit_period}
                  if r.limit_count is not None else None),
        "max_points": r.max_points, "expires_in_days": r.expires_in_days,
        "pending_days": r.pending_days, "active": r.active, "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def award(a: programme.AwardView) -> dict[str, Any]:
    return {"rule_id": a.rule_id, "rule_name": a.rule_name, "points": a.points,
            "status": a.status, "available_at": a.available_at,
            "transaction_id": a.transaction_id}


def event(e: programme.EventView) -> dict[str, Any]:
    return e.as_dict()


def outcome(o: programme.EventOutcome) -> dict[str, Any]:
    data: dict[str, Any] = {"event": event(o.event), "awards": [award(a) for a in o.awards],
                            "points_awarded": o.points_awarded}
    if o.profile is not None:
        data["profile"] = serializers.profile(o.profile)
    if o.preview:
        data["preview"] = True
    return data


def _render(o: programme.EventOutcome) -> str:
    return json.dumps(envelope.success_body(outcome(o)), ensure_ascii=False)


# --------------------------------------------------------------------------- rules

@bp.get("/v1/earning-rules/")
@requires(permissions.VIEW, query=("active",))
def list_rules() -> Response:
    raw = request.args.get("active")
    if raw not in (None, "true", "false"):
        raise ValidationFailed({"active": [_("Use true or false.")]})
    active = None if raw is None else raw == "true"
    return envelope.success([rule(r) for r in programme.list_rules(principal().tenant_id,
                                                                   active)])


@bp.post("/v1/earning-rules/")
@requires(permissions.MANAGE)
def create_rule() -> Response:
    body = parsing.json_object(RULE_FIELDS)
    return writes.perform(body, lambda _key: (201, rule(programme.create_rule(
        principal().tenant_id, actor(), body))))


@bp.get("/v1/earning-rules/<int:rule_id>/")
@requires(permissions.VIEW)
def get_rule(rule_id: int) -> Response:
    return envelope.success(rule(programme.get_rule(principal().tenant_id, rule_id)))


@bp.patch("/v1/earning-rules/<int:rule_id>/")
@requires(permissions.MANAGE)
def update_rule(rule_id: int) -> Response:
    body = parsing.json_object(RULE_FIELDS)
    return writes.perform(body, lambda _key: (200, rule(programme.update_rule(
        principal().tenant_id, actor(), rule_id, body))))


# --------------------------------------------------------------------------- events

@bp.post("/v1/events/")
@requires(permissions.EARN, limit=ratelimit.points)
def record_event() -> Response:
    body = parsing.json_object(EVENT_FIELDS)

    def run() -> programme.Recorded:
        return programme.record(principal().tenant_id, actor(), _render,
                                **{name: body.get(name) for name in EVENT_FIELDS})

    if writes.idempotency_key(body) is not None:
        return writes.perform(body, lambda _key: (201, json.loads(run().text)["data"]))
    recorded = run()
    headers = {writes.REPLAYED: "true"} if recorded.replayed else None
    return envelope.respond_text(recorded.text, 201, headers)


@bp.post("/v1/events/preview/")
@requires(permissions.VIEW)
def preview_event() -> Response:
    body = parsing.json_object(EVENT_FIELDS)
    return envelope.success(outcome(programme.preview(
        principal().tenant_id, **{name: body.get(name) for name in EVENT_FIELDS})))


@bp.get("/v1/events/<path:event_id>/")
@requires(permissions.VIEW)
def get_event(event_id: str) -> Response:
    return envelope.success(outcome(programme.get_event(principal().tenant_id, event_id)))


@bp.post("/v1/events/<path:event_id>/revoke/")
@requires(permissions.ADJUST, limit=ratelimit.points)
def revoke_event(event_id: str) -> Response:
    body = parsing.json_object(REVOKE_FIELDS)

    def produce(_key: str | None) -> tuple[int, Any]:
        result = programme.revoke(principal().tenant_id, actor(), event_id,
                                  reason=body.get("reason"), amount=body.get("amount"))
        return 201, {"event": event(result.event), "taken_back": result.taken_back,
                     "cancelled_pending": result.cancelled_pending,
                     "not_recovered": result.not_recovered,
                     "profile": serializers.profile(result.profile)}

    return writes.perform(body, produce)
